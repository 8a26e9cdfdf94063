"""Aggregated output: protected tables of the extract, delivered like microdata (atomically, gated).

When a case asks for tables instead of microdata, the agreed plan's levels are the finest categories
shown: persons per årgang by the first two other quasi-identifiers (each with its coarser levels as
subtotals), and, when hours are in the extract, the sum of weekly hours by the same categories.
`iplos.sdc.tables.protect` suppresses the cells under the minimum count (the plan's k) and enough
others that none can be recomputed, and audits the result by linear programming.

The gate for tables re-reads each CSV with the independent file audit (`audit_file`), checks by hand
that every published count is 0 or at least k, and scans every file as for microdata.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from iplos.atomic import atomic_directory
from iplos.catalog import Hierarchy
from iplos.delivery._documents import MANIFEST, write_json, write_manifest
from iplos.delivery._gate import GateResult, ReleaseRefused
from iplos.delivery._hierarchies import as_leaf
from iplos.delivery._plan import Plan
from iplos.delivery._release import SERIAL
from iplos.delivery._scan import scan_file, scan_folder
from iplos.delivery._write import LOG, Delivered, case_lock
from iplos.errors import Problem
from iplos.sdc.tables import (
    Dimension,
    GroupDisclosure,
    MinCount,
    ProtectedTable,
    Rule,
    audit_file,
    build_table,
    protect,
    write_table,
)

AARGANG = "aargang"
HOURS = "timer_per_uke"
FORMATS = ("csv", "xlsx", "html")
MAX_DIMENSIONS = 3


@dataclass(frozen=True)
class TableSpec:
    """One table: its file name stem, its dimensions (column, finest level) and what it counts."""

    name: str
    dimensions: tuple[tuple[str, int], ...]
    value: str | None = None


def table_specs(plan: Plan, columns: Iterable[str]) -> list[TableSpec]:
    """Persons (and hours, when present) per årgang by the first two other quasi-identifiers."""
    others = [(q.column, plan.levels[q.column]) for q in plan.quasi_identifiers if q.column != AARGANG]
    dims = ((AARGANG, 0), *others[: MAX_DIMENSIONS - 1])
    specs = [TableSpec("persons", dims)]
    if HOURS in set(columns):
        specs.append(TableSpec("hours", dims, HOURS))
    return specs


def _dimension(
    column: str, level: int, values: Sequence[str], hierarchies: Mapping[str, Hierarchy]
) -> Dimension:
    if column == AARGANG:
        return Dimension.flat(AARGANG, sorted(set(values)))
    return Dimension.from_hierarchy(hierarchies[column], level, name=column, values=sorted(set(values)))


def protected_tables(
    frame: pd.DataFrame, plan: Plan, hierarchies: Mapping[str, Hierarchy], specs: Sequence[TableSpec]
) -> list[tuple[TableSpec, ProtectedTable]]:
    """Build and protect each table (minimum count = the plan's k; optimal secondary suppression)."""
    out = []
    for spec in specs:
        data = pd.DataFrame({SERIAL: frame[SERIAL].to_numpy()})
        dims = []
        for column, level in spec.dimensions:
            data[column] = [as_leaf(v) for v in frame[column].tolist()]
            dims.append(_dimension(column, level, data[column].tolist(), hierarchies))
        if spec.value is not None:
            data[spec.value] = frame[spec.value].astype("float64").to_numpy()
        table = build_table(data, dims, count="persons", value=spec.value, person_column=SERIAL)
        rules: list[Rule] = [MinCount(plan.criteria.k), GroupDisclosure()]
        out.append((spec, protect(table, rules, secondary="optimal", time_limit=60.0)))
    return out


def _published_counts_ok(path: Path, k: int) -> list[str]:
    """Every published count in a frequency table file is 0 or at least k (plain reading of the CSV)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    flags = frame["flag"] if "flag" in frame.columns else pd.Series(["published"] * len(frame))
    published = frame["value"][flags.isin(["published", "perturbed"])]
    values = pd.to_numeric(published, errors="coerce").to_numpy(dtype=float)
    small = values[(values > 0) & (values < k)]
    return [f"{path.name}: {small.size} published cells hold fewer than {k} persons"] if small.size else []


def _write_labelled(source: Path, target: Path, labels: Mapping[str, Mapping[str, str]]) -> None:
    """The table's CSV with each dimension's categories replaced by their labels (totals kept)."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    for column in frame.columns:
        dim = column.split(" ")[0].split("[")[0]
        mapping = labels.get(dim) or labels.get(column)
        if mapping:
            frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
    frame.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")


def write_tables_delivery(
    tables: Sequence[tuple[TableSpec, ProtectedTable]],
    target: Path,
    *,
    case_id: str,
    k: int,
    keys_hex: Iterable[str],
    forbidden_columns: Iterable[str],
    linkage_report: Mapping[str, Any] | None = None,
    log_lines: Iterable[str] = (),
    labels: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    linked_with: Mapping[str, Sequence[str]] | None = None,
) -> Delivered:
    """Write each table as CSV, Excel and HTML with its JSON report, gated, atomically.

    `labels` (table -> dimension -> category code -> label) go into each table's report, its Excel
    and HTML files (text beside each code) and a labelled CSV (`<table>-labelled.csv`: the same cells
    with every category as its label).
    """
    keys = list(keys_hex)
    forbidden = list(forbidden_columns)
    failures: list[str] = []
    reports: dict[str, Any] = {}
    with case_lock(target.parent), atomic_directory(target) as staging:
        for spec, pt in tables:
            mine = (labels or {}).get(spec.name)
            for fmt in FORMATS:
                write_table(pt, staging / f"{spec.name}.{fmt}", row_dimensions=1, labels=mine)
            report = pt.report()
            if linked_with is not None:
                # the tables published earlier from these records that this one was protected with
                report["linked_with"] = list(linked_with.get(spec.name, ()))
            if mine:
                report["labels"] = {d: dict(v) for d, v in mine.items()}
                _write_labelled(staging / f"{spec.name}.csv", staging / f"{spec.name}-labelled.csv", mine)
            reports[spec.name] = report
            write_json(staging / f"{spec.name}-report.json", report)
            _, audit = audit_file(staging / f"{spec.name}.csv")
            if not audit.passed:
                failures.append(f"{spec.name}.csv: the independent audit finds a suppressed cell recoverable")
            if spec.value is None:
                failures += _published_counts_ok(staging / f"{spec.name}.csv", k)
        if linkage_report is not None:
            write_json(staging / "linkage-report.json", linkage_report)
        (staging / LOG).write_text("\n".join([*log_lines, "release gate: running"]) + "\n", encoding="utf-8")
        failures += [str(f) for f in scan_folder(staging, keys, forbidden)]
        if failures:
            raise ReleaseRefused(
                f"case {case_id}: the release gate stopped the delivery",
                [Problem(f, rule="release-gate") for f in failures],
            )
        hashes = write_manifest(staging)
        findings = scan_file(staging / MANIFEST, keys, forbidden, allowed_hex=frozenset(hashes.values()))
        if findings:
            raise ReleaseRefused(
                f"case {case_id}: the release gate stopped the delivery",
                [Problem(str(f), rule="release-gate") for f in findings],
            )
    gate = GateResult(measures=(), failures=())
    summary = {
        name: {"flags": r.get("flags"), "audit_passed": r.get("audit", {}).get("passed")}
        for name, r in reports.items()
    }
    return Delivered(path=target, files={**hashes, MANIFEST: ""}, gate=gate, disclosure={"tables": summary})
