"""Benchmark of iplos.catalog.regions: cold load, population per year, harmonisation, hierarchies.

Run by hand: .venv/bin/python bench/regions.py  (writes bench/results/regions.json)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cold(statement: str) -> float:
    """Seconds for a fresh interpreter to import the package and run `statement`, minus bare startup."""
    base = f"import time; t=time.perf_counter(); import iplos.catalog.regions as r; {statement}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", base], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    import iplos.catalog.regions as r

    results: dict[str, float | str] = {}
    results["cold_import_s"] = _cold("pass")
    results["cold_population_2010_s"] = _cold("r.population(2010)")
    results["cold_municipalities_2007_s"] = _cold("r.municipalities(2007)")
    t = time.perf_counter()
    for year in range(2006, 2025):
        r.population(year)
    results["population_all_years_warm_first_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for year in range(2006, 2025):
        r.population(year)
    results["population_all_years_cached_s"] = time.perf_counter() - t
    codes = [m.code for m in r.municipalities(2006)]
    t = time.perf_counter()
    r.harmonise_many(codes, 2006, 2024)
    results["harmonise_431_codes_2006_to_2024_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for year in range(2006, 2025):
        r.kommune_hierarchy(year)
        r.kommune_centrality_hierarchy(year)
    results["hierarchies_all_years_s"] = time.perf_counter() - t
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    results["git_revision"] = rev
    out = ROOT / "bench" / "results" / "regions.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
