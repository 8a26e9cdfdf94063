"""Benchmark `iplos anonymise` on synthetic service-level extracts (issue 4).

Five quasi-identifiers: age in years (skewed old), sex, kommune (weighted by a Zipf-like size),
service start date as a day (2020-2024), service code; hierarchies: age 5/10/20 years/all,
kommune/fylke/all, day/month/quarter/year/all, service/group/all. k = 5, at most 5 % suppression,
loss metric. Runs the whole command in a subprocess (Parquet read included) and reports wall time
and the child's peak RSS; then local suppression reaching k = 5 with no record suppressed.

    .venv/bin/python bench/bench_anonymise.py --rows 1000000 [--rows 10000000] [--local] [--repeat 5]

With `--repeat N` the command runs N times and the minimum wall and CPU seconds are kept (as
hyperfine's min), beside every run's wall time and the load average before and after.

Writes bench/results/anonymise-<rows>.json with the git revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
FYLKER = ["03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56"]


def kommuner() -> list[str]:
    """The 2024 kommune codes from the catalogue when available, else a synthetic list."""
    try:
        from iplos.catalog.hierarchies import hierarchy_for

        return list(hierarchy_for("kommune").leaves)
    except Exception:  # the catalogue is optional for the benchmark
        pass
    out = []
    for i, f in enumerate(FYLKER):
        count = 1 if f == "03" else 15 + (i * 7) % 25
        out += [f"{f}{j + 1:02d}" if f != "03" else "0301" for j in range(count)]
    return out


def write_hierarchies(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[str]]] = {}
    rows["alder"] = [
        [
            str(a),
            f"{a // 5 * 5}-{a // 5 * 5 + 4}",
            f"{a // 10 * 10}-{a // 10 * 10 + 9}",
            f"{a // 20 * 20}-{a // 20 * 20 + 19}",
            "*",
        ]
        for a in range(0, 111)
    ]
    rows["kjonn"] = [["1", "*"], ["2", "*"]]
    rows["kommune"] = [[k, k[:2], "*"] for k in kommuner()]
    day = dt.date(2020, 1, 1)
    dates = []
    while day <= dt.date(2024, 12, 31):
        dates.append(
            [
                day.isoformat(),
                day.strftime("%Y-%m"),
                f"{day.year}-Q{(day.month - 1) // 3 + 1}",
                str(day.year),
                "*",
            ]
        )
        day += dt.timedelta(days=1)
    rows["startdato"] = dates
    rows["tjeneste"] = [[f"T{g}{s}", f"G{g}", "*"] for g in range(8) for s in range(5)]
    paths = {}
    for name, rs in rows.items():
        path = folder / f"{name}.csv"
        path.write_text("".join(";".join(r) + "\n" for r in rs), encoding="utf-8")
        paths[name] = path
    return paths


def make_data(n: int, path: Path, seed: int = 4) -> None:
    rng = np.random.default_rng(seed)
    old = rng.normal(81, 9, n)
    young = rng.uniform(0, 110, n)
    age = np.clip(np.where(rng.random(n) < 0.7, old, young), 0, 110).astype(np.int16)
    sex = np.where(rng.random(n) < 0.6, "2", "1")
    ks = np.array(kommuner())
    weights = 1.0 / np.arange(1, len(ks) + 1) ** 1.1
    kommune = ks[rng.choice(len(ks), n, p=weights / weights.sum())]
    start = np.datetime64("2020-01-01") + rng.integers(0, 1827, n).astype("timedelta64[D]")
    services = np.array([f"T{g}{s}" for g in range(8) for s in range(5)])
    sw = 1.0 / np.arange(1, len(services) + 1) ** 1.3
    tjeneste = services[rng.choice(len(services), n, p=sw / sw.sum())]
    table = pa.table(
        {
            "lopenr": pa.array(np.arange(n, dtype=np.int64)),
            "alder": pa.array(age),
            "kjonn": pa.array(sex),
            "kommune": pa.array(kommune),
            "startdato": pa.array(start.astype("datetime64[D]")),
            "tjeneste": pa.array(tjeneste),
            "timer": pa.array(rng.gamma(2.0, 5.0, n).round(1)),
        }
    )
    pq.write_table(table, path)


CPU: dict[str, float] = {}


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall time and peak RSS (MB) of a child process; its CPU seconds go to CPU["last"]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the biggest case last or alone.
    return wall, after.ru_maxrss / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, action="append", help="rows (repeat); default 1000000")
    parser.add_argument("--local", action="store_true", help="also time local suppression")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the minimum is kept")
    parser.add_argument("--work", type=Path, default=Path("/tmp/iplos-bench-anonymise"))
    args = parser.parse_args()
    work: Path = args.work
    paths = write_hierarchies(work / "hierarchies")
    iplos = str(Path(sys.executable).parent / "iplos")
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    # An installed iplos carries compiled bytecode (pip compiles it on install). Where
    # PYTHONDONTWRITEBYTECODE is set, as in this development environment, every run would
    # otherwise compile the ~45 iplos modules it imports again (0.1 s), a cost no user pays.
    import importlib.util

    spec = importlib.util.find_spec("iplos")
    if spec is not None and spec.origin is not None:
        package = str(Path(spec.origin).parent)
        subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
    for n in args.rows or [1_000_000]:
        data = work / f"extract-{n}.parquet"
        if not data.exists():
            make_data(n, data)
        base = [iplos, "anonymise", str(data), *(f"--qi={q}={p}" for q, p in paths.items())]
        base += ["--k", "5", "--max-suppression", "0.05", "--metric", "loss"]
        load_before = os.getloadavg()[0]
        walls, cpus = [], []
        for _ in range(max(args.repeat, 1)):
            wall, peak, _ = run(
                [*base, "--out", str(work / f"anon-{n}.parquet"), "--report", str(work / f"report-{n}.json")]
            )
            walls.append(wall)
            cpus.append(CPU["last"])
        wall, CPU["last"] = min(walls), min(cpus)
        report = json.loads((work / f"report-{n}.json").read_text())
        result = {
            "rows": n,
            "revision": revision,
            "wall_seconds": round(wall, 3),
            "cpu_seconds": round(CPU["last"], 3),
            "peak_rss_mb": round(peak, 1),
            "runs_wall_seconds": [round(w, 3) for w in walls],
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "levels": {q: v["level_name"] for q, v in report["quasi_identifiers"].items()},
            "suppressed": report["suppressed_records"],
            "evaluated_nodes": report["search"]["evaluated"],
            "lattice_size": report["search"]["lattice_size"],
            "timings": report["timings"],
            "loss": report["metrics_after"]["loss"],
        }
        if args.local:
            lwall, _, _ = run(
                [
                    *base,
                    "--local-suppression",
                    "--out",
                    str(work / f"local-{n}.parquet"),
                    "--report",
                    str(work / f"local-{n}.json"),
                ]
            )
            local = json.loads((work / f"local-{n}.json").read_text())
            result["local_suppression"] = {
                "wall_seconds": round(lwall, 3),
                "cpu_seconds": round(CPU["last"], 3),
                "cells_suppressed": local["local_suppression"]["cells_suppressed"],
                "achieved_k": local["achieved"]["k"],
            }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results" / f"anonymise-{n}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
