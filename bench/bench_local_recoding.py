"""Benchmark local recoding against the global optimum on the extracts of bench_anonymise.py (issue 15).

Same data generator and hierarchies as bench/bench_anonymise.py (age in years, sex, kommune, a start
date as a day, service code), k = 5, at most 5 % suppression. For each size, three methods run in a
fresh child process each, on the same frequency table built from the Parquet file:

- `global`: the optimal global recoding (`search`, Loss metric), records of failing classes suppressed;
- `global+local-suppression`: that optimum's levels, then cells blanked to k without suppressing
  records (`generalize` + `local_suppression`, what `iplos anonymise --local-suppression` does);
- `local-recoding`: `local_recoding`, each class at levels of its own;
- `release-path local recoding`: the same extract through the release path a delivery and
  `iplos anonymise --local-recoding` take (`iplos.release.search_plan` with a record-level plan of
  method "local_recoding": signatures grouped in DuckDB, then `release._local`); its seconds include
  that grouping (reading the file excluded).

All three report the per-cell loss (ARX's Loss metric computed cell by cell, '*' costing 1, which
for the global optimum is its Loss value), the wall and CPU seconds of the method alone (frequency table given),
the seconds to read and group the file, and the child's peak RSS (whole process: interpreter,
numpy and pyarrow included).

    .venv/bin/python bench/bench_local_recoding.py [--rows 100000 --rows 1000000]
        [--arx-classpath CLASSPATH [--arx-iterations 100]]

With `--arx-classpath` (ARX 3.9 built from source outside the repository, see bench/README.md),
ARX's local recoding runs too, through bench/arx/Bench.java in a JVM: k = 5, suppression limit 100 %,
Loss metric with gs factor 0, `optimizeIterativeFast` with 1/iterations of the records per iteration
(ARX's Example38); its output CSV is scored by the same per-cell loss, its time is the JVM's own
measurement of anonymisation plus local recoding (reading excluded), memory the JVM's peak RSS.

Writes bench/results/local-recoding-<rows>.json with the git revision.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_anonymise  # noqa: E402  (the shared data generator)

K = 5
MAX_SUPPRESSED = 0.05
QIS = ("alder", "kjonn", "kommune", "startdato", "tjeneste")


def frequency_table(data: Path, hierarchy_files: dict[str, Path]):  # type: ignore[no-untyped-def]
    """Read the extract and group it into a FrequencyTable with numpy (no string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from iplos.catalog.hierarchy import Hierarchy
    from iplos.sdc import FrequencyTable

    hierarchies = {q: Hierarchy.read_arx_csv(hierarchy_files[q], name=q) for q in QIS}
    table = pq.read_table(data, columns=list(QIS))
    codes = []
    for q in QIS:
        column = table.column(q)
        if pa.types.is_date(column.type):
            column = pc.strftime(column, format="%Y-%m-%d")
        encoded = pc.dictionary_encode(pc.cast(column, pa.string())).combine_chunks()
        leaves = hierarchies[q]
        lut = np.array([leaves.leaf_index(v) for v in encoded.dictionary.to_pylist()], dtype=np.int64)
        codes.append(lut[encoded.indices.to_numpy()])
    radices = [len(hierarchies[q].rows) for q in QIS]
    key = np.zeros(len(table), dtype=np.int64)
    for col, radix in zip(codes, radices, strict=True):
        key = key * radix + col
    distinct, counts = np.unique(key, return_counts=True)
    out = []
    for radix in reversed(radices):
        out.append(distinct % radix)
        distinct = distinct // radix
    out.reverse()
    freq = FrequencyTable(quasi_identifiers=QIS, codes=tuple(out), counts=counts.astype(np.int64))
    return freq, hierarchies


def child(method: str, data: Path, hierarchy_files: dict[str, Path]) -> dict[str, object]:
    from iplos.sdc import (
        KAnonymity,
        Loss,
        SearchConfig,
        generalize,
        local_recoding,
        local_suppression,
        search,
    )
    from iplos.sdc._encoding import encode_hierarchy
    from iplos.sdc._recoding import recoding_loss

    if method == "release-path local recoding":
        return release_child(data, hierarchy_files)
    t0 = time.perf_counter()
    freq, hierarchies = frequency_table(data, hierarchy_files)
    loaded = time.perf_counter()
    cpu_loaded = time.process_time()
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    config = SearchConfig([KAnonymity(K)], max_suppressed=MAX_SUPPRESSED, utility=Loss())
    out: dict[str, object] = {"method": method, "records": freq.n_records, "distinct": freq.n_rows}
    if method == "global":
        result = search(freq, hierarchies, config)
        seconds = time.perf_counter() - loaded
        out |= {
            "loss": result.metrics["loss"],
            "levels": dict(zip(QIS, result.level_names, strict=True)),
            "suppressed_records": result.suppressed,
            "classes": int(result.released_class_sizes.shape[0]),
        }
    elif method == "global+local-suppression":
        result = search(freq, hierarchies, config)
        table, _ = generalize(freq, hierarchies, result.levels)
        ls = local_suppression(table, K)
        seconds = time.perf_counter() - loaded
        encoded = [encode_hierarchy(hierarchies[q]) for q in QIS]
        # A blanked cell costs 1, as a value at the root; a record blanked everywhere costs 1 per cell.
        levels, codes = [], []
        for h, level, c in zip(encoded, result.levels, ls.codes, strict=True):
            lev = np.where(c < 0, h.height - 1, level)
            levels.append(np.concatenate([lev, lev]))
            codes.append(np.concatenate([np.maximum(c, 0), np.maximum(c, 0)]))
        counts = np.concatenate([table.counts - ls.fully_blanked, ls.fully_blanked])
        everywhere = np.concatenate([np.zeros(table.n_rows, bool), np.ones(table.n_rows, bool)])
        loss, _ = recoding_loss(encoded, counts, levels, codes, everywhere)
        out |= {
            "loss": loss,
            "levels": dict(zip(QIS, result.level_names, strict=True)),
            "cells_suppressed": ls.cells_suppressed,
            "records_blanked_everywhere": int(ls.fully_blanked.sum()),
        }
    else:
        recoded = local_recoding(freq, hierarchies, config)
        seconds = time.perf_counter() - loaded
        out |= {
            "loss": recoded.loss,
            "loss_by_attribute": recoded.loss_by_attribute,
            "suppressed_records": recoded.suppressed,
            "classes": recoded.classes,
            "smallest_class": int(recoded.released_class_sizes.min()),
            "rounds": recoded.rounds,
        }
    out |= {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu_loaded, 3),
        "read_and_group_seconds": round(loaded - t0, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_read_mb": round(rss_loaded, 1),
    }
    return out


def release_child(data: Path, hierarchy_files: dict[str, Path]) -> dict[str, object]:
    """Local recoding through `iplos.release` on the extract as an Arrow table (record level)."""
    import tempfile

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from iplos.catalog.hierarchy import Hierarchy
    from iplos.config import Settings
    from iplos.engine import connect
    from iplos.release import Criteria, Plan, QuasiIdentifier, search_plan

    t0 = time.perf_counter()
    hierarchies = {q: Hierarchy.read_arx_csv(hierarchy_files[q], name=q) for q in QIS}
    table = pq.read_table(data, columns=list(QIS))
    for q in QIS:  # dates as their ISO day, as the hierarchy's leaves
        if pa.types.is_date(table.column(q).type):
            day = pc.strftime(table.column(q), format="%Y-%m-%d")
            table = table.set_column(table.schema.get_field_index(q), q, day)
    plan = Plan(
        Criteria(k=K, max_suppressed=MAX_SUPPRESSED, unit="record"),
        tuple(QuasiIdentifier(q, q) for q in QIS),
        dict.fromkeys(QIS, 0),
        person_key=None,
        method="local_recoding",
    )
    loaded = time.perf_counter()
    cpu_loaded = time.process_time()
    with tempfile.TemporaryDirectory() as home:
        engine = connect(Settings(home=Path(home)), "duckdb")
        try:
            outcome = search_plan(engine, table, plan, hierarchies)
        finally:
            engine.close()
    seconds = time.perf_counter() - loaded
    local = outcome.local
    assert local is not None
    return {
        "method": "release-path local recoding",
        "records": outcome.n_records,
        "loss": local.loss,
        "loss_by_attribute": local.loss_by_attribute,
        "suppressed_records": local.suppressed_records,
        "classes": int(local.class_sizes.shape[0]),
        "smallest_class": local.smallest_class,
        "rounds": local.rounds,
        "recoding_seconds": round(local.seconds, 3),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu_loaded, 3),
        "read_and_group_seconds": round(loaded - t0, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def cell_loss_of_csv(path: Path, hierarchy_files: dict[str, Path]) -> tuple[float, int, int]:
    """Per-cell loss of a released CSV (';', header), its smallest class and its fully blank records."""
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    from iplos.catalog.hierarchy import Hierarchy

    table = pcsv.read_csv(
        path,
        parse_options=pcsv.ParseOptions(delimiter=";"),
        convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(QIS, "string")),
    )
    values, codes = [], []
    blank = np.ones(len(table), dtype=bool)
    for q in QIS:
        h = Hierarchy.read_arx_csv(hierarchy_files[q], name=q)
        d = len(h.rows)
        under: dict[str, int] = {}
        for row in h.rows:
            for label in set(row):
                under[label] = under.get(label, 0) + 1
        encoded = pc.dictionary_encode(table.column(q)).combine_chunks()
        labels = encoded.dictionary.to_pylist()
        cost = np.array([1.0 if v == "*" else (under[v] - 1) / (d - 1) for v in labels])
        idx = encoded.indices.to_numpy()
        values.append(float(cost[idx].mean()))
        blank &= np.asarray(labels, dtype=object)[idx] == "*"
        codes.append(idx)
    product = 1.0
    for v in values:
        product *= (1.0 + v) ** (1.0 / len(values))
    key = np.zeros(len(table), dtype=np.int64)
    for idx in codes:
        key = key * (int(idx.max()) + 1) + idx
    _, sizes = np.unique(key[~blank], return_counts=True)
    return product - 1.0, int(sizes.min()) if sizes.size else 0, int(blank.sum())


def run_arx(n: int, work: Path, paths: dict[str, Path], classpath: str, iterations: int) -> dict[str, object]:
    """ARX's local recoding in a JVM on the same extract (see module doc)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    csv_path = work / f"extract-{n}.csv"
    if not csv_path.exists():
        table = pq.read_table(work / f"extract-{n}.parquet", columns=list(QIS))
        table = pa.table({q: table.column(q).cast(pa.string()) for q in QIS})
        pcsv.write_csv(table, csv_path, pcsv.WriteOptions(delimiter=";", quoting_style="none"))
    harness = work / "arx-harness"
    harness.mkdir(exist_ok=True)
    source = Path(__file__).resolve().parent / "arx" / "Bench.java"
    subprocess.run(["javac", "-nowarn", "-cp", classpath, "-d", str(harness), str(source)], check=True)
    out = work / f"arx-local-{n}.csv"
    cmd = [
        "java",
        "-Xmx12g",
        "-cp",
        f"{classpath}:{harness}",
        "Bench",
        str(csv_path),
        str(paths["alder"].parent),
    ]
    cmd += [str(out), str(K), str(iterations), "0"]
    log, err = work / f"arx-local-{n}.out", work / f"arx-local-{n}.err"
    with log.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU time and peak RSS
    if status != 0:
        sys.exit(f"ARX failed at {n} rows:\n{err.read_text()}")
    stdout_text = log.read_text()
    timings = json.loads(stdout_text.strip().splitlines()[-1])
    loss, smallest, blank = cell_loss_of_csv(out, paths)
    return {
        "method": f"ARX local recoding ({iterations} it.)",
        "loss": loss,
        "smallest_class": smallest,
        "records_blanked_everywhere": blank,
        "seconds": timings["anonymise_s"],
        "jvm_timings": timings,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="rows (repeat); default 100000 and 1000000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/iplos-bench-anonymise"))
    parser.add_argument(
        "--arx-classpath", help="classpath of an ARX 3.9 build (with its jars) to compare with"
    )
    parser.add_argument("--arx-iterations", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work: Path = args.work
    paths = bench_anonymise.write_hierarchies(work / "hierarchies")
    if args.child:
        n = args.rows[0]
        print(json.dumps(child(args.child, work / f"extract-{n}.parquet", paths)))
        return
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    for n in args.rows or [100_000, 1_000_000]:
        data = work / f"extract-{n}.parquet"
        if not data.exists():
            bench_anonymise.make_data(n, data)
        results = []
        for method in ("global", "global+local-suppression", "local-recoding", "release-path local recoding"):
            cmd = [sys.executable, __file__, "--child", method, "--rows", str(n), "--work", str(work)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{method} failed at {n} rows:\n{done.stderr}")
            results.append(json.loads(done.stdout))
        if args.arx_classpath:
            results.append(run_arx(n, work, paths, args.arx_classpath, args.arx_iterations))
        print(f"\n{n:,} rows, k = {K}, at most {MAX_SUPPRESSED:.0%} suppressed")
        print(f"{'method':<32}{'per-cell loss':>14}{'seconds':>9}{'CPU s':>8}{'peak RSS MB':>13}")
        for r in results:
            print(
                f"{r['method']:<32}{r['loss']:>14.4f}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.2f}"
                f"{r['peak_rss_mb']:>13.0f}"
            )
        out = ROOT / "bench" / "results" / f"local-recoding-{n}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"rows": n, "revision": revision, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
