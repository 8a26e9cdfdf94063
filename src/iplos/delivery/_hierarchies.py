"""The hierarchies and labels of an extract's columns, from the catalogue.

Region codes are valid per årgang, so an extract over several årganger gets a region hierarchy that
joins each årgang's (a code keeps its fylke within the period; a code that changed fylke in a reform
appears once per meaning only if its code changed, as KLASS codes do). A missing value (no death, no
assessment) is its own leaf that stays missing at every level but the top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from iplos.catalog import Hierarchy, Variable, catalog, hierarchy_for, regions
from iplos.delivery._plan import QuasiIdentifier
from iplos.errors import IplosError

MISSING = ""


def _with_missing(h: Hierarchy) -> Hierarchy:
    if MISSING in h:
        return h
    row = (MISSING,) * (h.height - 1) + (h.rows[0][-1],)
    return Hierarchy(h.name, h.level_names, (*h.rows, row), h.description)


def build_hierarchy(q: QuasiIdentifier, years: Sequence[int]) -> Hierarchy:
    """The hierarchy of one quasi-identifier for the extract's årganger, with a leaf for missing."""
    params: dict[str, Any] = dict(q.hierarchy_params)
    if q.hierarchy in ("region", "region_centrality") and "year" not in params:
        rows: dict[str, tuple[str, ...]] = {}
        first: Hierarchy | None = None
        for year in sorted(set(years)):
            h = hierarchy_for(q.column, q.hierarchy, year=year)
            first = first or h
            for row in h.rows:
                rows.setdefault(row[0], row)
        if first is None:
            raise IplosError(f"no årganger to build the region hierarchy of {q.column!r} for")
        return _with_missing(
            Hierarchy(first.name, first.level_names, tuple(rows.values()), first.description)
        )
    return _with_missing(hierarchy_for(q.column, q.hierarchy, **params))


def as_leaf(value: object) -> str:
    """A value as its hierarchy leaf: integers without '.0', dates ISO, missing as ''."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        if value != value:  # NaN
            return MISSING
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()[:10]
    text = str(value)
    return MISSING if text in ("<NA>", "NaT", "nan") else text


def catalog_variable(source: str, column: str) -> Variable | None:
    """The catalogue variable behind an extract column (`register.table.column` source)."""
    cat = catalog()
    parts = source.split(".")
    if len(parts) == 3:
        register, table, name = parts
        for v in cat.variables():
            if v.name == name and v.table == table and (v.register == register or register == "iplos"):
                return v
    for v in cat.variables():
        if v.name == column:
            return v
    return None


def code_labels(variable: Variable | None) -> dict[str, str]:
    """Code -> bokmål label of a variable's code list (empty when it has none)."""
    if variable is None:
        return {}
    return {c.code: c.label_nb for c in variable.codes}


def level_labels(q: QuasiIdentifier, level: int, years: Iterable[int]) -> dict[str, str]:
    """Labels of the values of a generalised level, where the catalogue names them."""
    if q.hierarchy in ("region", "region_centrality") and level in (0, 1):
        labels: dict[str, str] = {}
        for year in sorted(set(years)):
            for m in regions.municipalities(year):
                if level == 0:
                    labels.setdefault(m.code, m.name)
                else:
                    labels.setdefault(m.fylke_code, m.fylke_name)
        return labels
    if q.hierarchy in ("codes", "service", "functional_score") and level == 1:
        variable = catalog_variable("", q.column)
        if variable is not None and variable.groups:
            return {g.code: g.label_nb for g in variable.groups}
    return {}


def institution_services() -> frozenset[int]:
    """Volven 9151 codes of stays in an institution (the catalogue's `institution_stay` flag)."""
    codes = catalog().codelist("tjenestetype").codes
    return frozenset(int(c.code) for c in codes if c.institution_stay)


def hierarchies_of(plan_qis: Sequence[QuasiIdentifier], years: Sequence[int]) -> Mapping[str, Hierarchy]:
    return {q.column: build_hierarchy(q, years) for q in plan_qis}
