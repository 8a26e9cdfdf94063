"""Benchmark of iplos.catalog: cold load of the catalogue, search, and building each built-in hierarchy.

Run by hand: .venv/bin/python bench/catalog.py  (writes bench/results/catalog.json)
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cold(statement: str) -> float:
    """Seconds for a fresh interpreter to import iplos.catalog and run `statement` (interpreter start excluded)."""
    code = f"import time; t=time.perf_counter(); import iplos.catalog as c; {statement}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _best(fn: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    from iplos.catalog import catalog
    from iplos.catalog.hierarchies import BUILDERS

    results: dict[str, object] = {}
    results["cold_import_s"] = _cold("pass")
    results["cold_catalog_s"] = _cold("c.catalog()")
    results["cold_icd10_hierarchy_s"] = _cold("c.hierarchy_for('hoveddiagnose')")
    cat = catalog()
    results["search_best_s"] = {
        q: _best(lambda q=q: cat.search(q)) for q in ("hjemmesykepleie", "home nursing", "dato")
    }
    builds = {}
    for name, builder in sorted(BUILDERS.items()):
        if name.startswith("region"):
            continue  # benchmarked in bench/regions.py
        built = builder()
        builds[name] = {"leaves": len(built.rows), "levels": built.height, "best_build_s": _best(builder, 3)}
    results["hierarchies"] = builds
    results["python"] = platform.python_version()
    results["git_revision"] = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    out = ROOT / "bench" / "results" / "catalog.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
