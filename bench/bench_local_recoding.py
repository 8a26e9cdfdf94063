"""Benchmark local recoding against the global optimum on the extracts of bench_anonymise.py (issue 15).

Same data generator and hierarchies as bench/bench_anonymise.py (age in years, sex, kommune, a start
date as a day, service code), k = 5, at most 5 % suppression. For each size, three methods run in a
fresh child process each, on the same frequency table built from the Parquet file:

- `global`: the optimal global recoding (`search`, Loss metric), records of failing classes suppressed;
- `global+local-suppression`: that optimum's levels, then cells blanked to k without suppressing
  records (`generalize` + `local_suppression`, what `iplos anonymise --local-suppression` does);
- `local-recoding`: `local_recoding`, each class at levels of its own.

All three report the per-cell loss (ARX's Loss metric computed cell by cell, '*' costing 1, which
for the global optimum is its Loss value), the wall and CPU seconds of the method alone (frequency table given),
the seconds to read and group the file, and the child's peak RSS (whole process: interpreter,
numpy and pyarrow included).

    .venv/bin/python bench/bench_local_recoding.py [--rows 100000 --rows 1000000]

Writes bench/results/local-recoding-<rows>.json with the git revision.
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="rows (repeat); default 100000 and 1000000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/iplos-bench-anonymise"))
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
        for method in ("global", "global+local-suppression", "local-recoding"):
            cmd = [sys.executable, __file__, "--child", method, "--rows", str(n), "--work", str(work)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{method} failed at {n} rows:\n{done.stderr}")
            results.append(json.loads(done.stdout))
        print(f"\n{n:,} rows, k = {K}, at most {MAX_SUPPRESSED:.0%} suppressed")
        print(f"{'method':<27}{'per-cell loss':>14}{'seconds':>9}{'CPU s':>8}{'peak RSS MB':>13}")
        for r in results:
            print(
                f"{r['method']:<27}{r['loss']:>14.4f}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.2f}"
                f"{r['peak_rss_mb']:>13.0f}"
            )
        out = ROOT / "bench" / "results" / f"local-recoding-{n}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"rows": n, "revision": revision, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
