"""Build the package data of `iplos.catalog.regions` from the reference exports in ../shared/data.

Run from the repository root (needs /work/shared/data or --source):

    .venv/bin/python tools/build_regions_data.py [--source /work/shared/data]

Writes into src/iplos/catalog/regions/data/ (each file atomically):
  versions.csv           KLASS 131 versions valid 2006-2024: valid_from, valid_to, number of kommuner
  kommuneinndeling.csv   code, name, valid_from, valid_to: one row per unbroken run of a code and name
  changes.csv            KLASS 131 change table, changes dated 2006-01-01 .. 2024-01-01
  fylker.csv             fylke code -> name, every era
  kommuner_2024.csv      landsdel of each 2024 kommune
  sentralitet.csv        KLASS 128 centrality class and index per kommune code (current and historic)
  norway_population.csv  national population 1 January per year and sex
  population.parquet     population 1 January by kommune (classification of that year), age, sex
  split_shares.csv       estimated population shares of kommuner that were split

The classification files are written first, so that the population step can use the package's own
change graph (`iplos.catalog.regions._changes`). The method of the population step is described in
src/iplos/catalog/regions/data/README.md and in `_build_population.py` beside this script.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

import types  # noqa: E402

# Import the regions package without running iplos/catalog/__init__.py (which imports every other
# catalogue module): this tool needs only the regional classification.
_catalog = types.ModuleType("iplos.catalog")
_catalog.__path__ = [str(ROOT / "src" / "iplos" / "catalog")]
sys.modules.setdefault("iplos.catalog", _catalog)

from iplos.atomic import write_text_atomic  # noqa: E402

DATA = ROOT / "src" / "iplos" / "catalog" / "regions" / "data"
FIRST_YEAR, LAST_YEAR = 2006, 2024


def _csv_text(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build_classification(source: Path) -> None:
    """Versions, changes, fylker: straight from the KLASS 131 exports."""
    klass = source / "klass131"
    meta = json.loads((klass / "classification_131.json").read_text(encoding="utf-8"))
    rows: list[list[object]] = []
    for version in meta["versions"]:
        start = version["validFrom"]
        end = version.get("validTo") or ""
        if end and end <= f"{FIRST_YEAR}-01-01":
            continue
        if start > f"{LAST_YEAR}-12-31":
            continue
        path = klass / f"kommuneinndeling_{start[:4]}.json"
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["validFrom"] != start:
            raise SystemExit(f"{path}: validFrom {doc['validFrom']} != {start}")
        for item in doc["classificationItems"]:
            if item["code"] == "9999":  # "Uoppgitt", not a kommune
                continue
            rows.append([start, end, item["code"], item["name"]])
    # One row per code and name for as long as consecutive versions keep both (compact, and the
    # natural validity of a `Municipality`).
    starts = sorted({str(r[0]) for r in rows})
    ends = {str(r[0]): str(r[1]) for r in rows}
    versions = [[s, ends[s], sum(1 for r in rows if r[0] == s)] for s in starts]
    write_text_atomic(DATA / "versions.csv", _csv_text(["valid_from", "valid_to", "kommuner"], versions))
    by_version: dict[str, dict[str, str]] = {}
    for start, _end, code, name in rows:
        by_version.setdefault(str(start), {})[str(code)] = str(name)
    intervals: list[list[object]] = []
    open_runs: dict[tuple[str, str], list[object]] = {}
    for start in starts:
        current = by_version[start]
        for key in list(open_runs):
            if current.get(key[0]) != key[1]:
                run = open_runs.pop(key)
                run[3] = start
                intervals.append(run)
        for code, name in current.items():
            open_runs.setdefault((code, name), [code, name, start, ""])
    for run in open_runs.values():
        run[3] = ends[starts[-1]]
        intervals.append(run)
    intervals.sort(key=lambda r: (str(r[0]), str(r[2])))
    write_text_atomic(
        DATA / "kommuneinndeling.csv", _csv_text(["code", "name", "valid_from", "valid_to"], intervals)
    )

    changes = json.loads((klass / "changes_1977-2024.json").read_text(encoding="utf-8"))["codeChanges"]
    change_rows = [
        [c["changeOccurred"], c["oldCode"], c["oldName"], c["newCode"], c["newName"]]
        for c in changes
        if f"{FIRST_YEAR}-01-01" <= c["changeOccurred"] <= f"{LAST_YEAR}-12-31"
    ]
    change_rows.sort(key=lambda r: (r[0], r[1], r[3]))
    write_text_atomic(
        DATA / "changes.csv",
        _csv_text(["date", "old_code", "old_name", "new_code", "new_name"], change_rows),
    )

    with (klass / "county_names_numbers.csv").open(encoding="utf-8") as fh:
        fylker = [[r["county_code"], r["county_name"]] for r in csv.DictReader(fh)]
    fylker.sort()
    write_text_atomic(DATA / "fylker.csv", _csv_text(["code", "name"], fylker))


def build_geography(source: Path) -> None:
    """Landsdel per 2024 kommune and the KLASS 128 centrality per kommune code."""
    geo = source / "geography"
    with (geo / "kommuner_2024.csv").open(encoding="utf-8") as fh:
        rows = [[r["kommune_code"], r["landsdel_code"], r["landsdel_name"]] for r in csv.DictReader(fh)]
    rows.sort()
    write_text_atomic(
        DATA / "kommuner_2024.csv",
        _csv_text(["code", "landsdel_code", "landsdel_name"], rows),
    )
    classes: dict[str, str] = {}
    kommuner: list[list[object]] = []
    with (geo / "sentralitet_klass128_2682_nb.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["level"] == "1":
                classes[r["code"]] = r["name"]
            else:
                kommuner.append([r["code"], r["name"], int(r["parentCode"]), int(r["notes"])])
    kommuner.sort()
    class_rows: list[list[object]] = [[int(k), v] for k, v in sorted(classes.items())]
    text = _csv_text(["code", "name", "class", "index"], kommuner)
    write_text_atomic(DATA / "sentralitet.csv", text)
    write_text_atomic(DATA / "sentralitet_klasser.csv", _csv_text(["class", "name"], class_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--skip-population", action="store_true")
    args = parser.parse_args()
    build_classification(args.source)
    build_geography(args.source)
    if not args.skip_population:
        from _build_population import build_population

        build_population(args.source, DATA)
    for path in DATA.iterdir():  # atomic writes create 0600 files; package data is world-readable
        path.chmod(0o644)


if __name__ == "__main__":
    main()
