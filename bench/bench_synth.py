"""Benchmark: generate the synthetic register at a given scale and record time, memory and rows.

Run by hand (never in the test suite):

    .venv/bin/python bench/bench_synth.py [--scale 1.0] [--years 2007-2017] [--home DIR] [--keep]

Writes bench/results/synth-<scale>-<years>[-kpr<years>]-<git revision>.json with wall time, peak RSS (this process and
its children, from `resource.getrusage`), rows per table, the calibration report and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iplos.config import Settings
from iplos.synth import generate, report

RESULTS = Path(__file__).resolve().parent / "results"


def _revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _years(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--years", default="2007-2017")
    parser.add_argument("--kpr", default="")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", type=Path, default=None, help="data folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="iplos-bench-synth-"))
    settings = Settings(home=home)
    load = os.getloadavg()
    started = time.perf_counter()
    summary = generate(
        settings, scale=args.scale, seed=args.seed, years=_years(args.years),
        kpr_years=_years(args.kpr) if args.kpr else None, replace=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    peak = _peak_rss_mb()
    report_started = time.perf_counter()
    rows = report(settings)
    report_seconds = time.perf_counter() - report_started
    size = sum(p.stat().st_size for p in (home / "registers").rglob("*.parquet"))
    result = {
        "benchmark": "synth",
        "revision": _revision(),
        "scale": args.scale,
        "years": args.years,
        "kpr": args.kpr,
        "seed": args.seed,
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(peak, 1),
        "report_seconds": round(report_seconds, 1),
        "parquet_mb": round(size / 2**20, 1),
        "chunks": summary.chunks,
        "persons": summary.persons,
        "rows": summary.rows,
        "calibration_all_within_5pct": all(r.ok for r in rows),
        "calibration": [r.as_dict() for r in rows],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_at_start": load},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    kpr = f"-kpr{args.kpr}" if args.kpr else ""
    out = RESULTS / f"synth-{args.scale:g}-{args.years}{kpr}-{result['revision']}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "calibration"}, indent=2, ensure_ascii=False))
    print(f"written to {out}")
    if not args.keep and args.home is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
