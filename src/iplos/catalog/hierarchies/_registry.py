"""Find the built-in hierarchies of a variable or column, and build them (cached).

Names of built-in hierarchies (parameters in brackets, with defaults):

| name | levels |
|---|---|
| `age` [max_age=120] | year, 5, 10, 20 years, all |
| `age_ssb` [max_age=120] | year, 0-17/18-49/50-66/67-79/80-89/90+, under 67/67+, all |
| `birth_year` [first=1890, last=2024] | year, 5, 10, 20 years, all |
| `birth_year_ssb` [reference_year=2024, first=1890] | year, SSB age group reached in the reference year, under/over 67, all |
| `date` [first=2000-01-01, last=2025-12-31] | day, month, quarter, half-year, year, all |
| `service` | Volven 9151 code, SSB group, all |
| `functional_score` | score, need (1-2 / 3-5 / 9), all |
| `icd10` | code, category, block, chapter, all |
| `icpc2`, `icpc2_component` | code, chapter (or component kind), all |
| `codes` | code, group (when the code list has groups), all, for any variable with a code list |
| `region`, `region_centrality` [year=2024] | from `iplos.catalog.regions` |

A column is matched by its catalogue variable name first (every register), then by alias
(`alder`/`age`, `diagnose`, ...), then by type: a name ending in `dato`/`date` gets `date`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any

from iplos.catalog.hierarchies._coded import codelist_hierarchy, functional_score_hierarchy, service_hierarchy
from iplos.catalog.hierarchies._dates import date_hierarchy
from iplos.catalog.hierarchies._diagnosis import icd10_hierarchy, icpc2_component_hierarchy, icpc2_hierarchy
from iplos.catalog.hierarchies._numeric import (
    age_hierarchy,
    age_ssb_hierarchy,
    birth_year_hierarchy,
    birth_year_ssb_hierarchy,
)
from iplos.catalog.hierarchy import Hierarchy
from iplos.catalog.variables import catalog
from iplos.errors import IplosError

DEFAULT_REGION_YEAR = 2024


def region_hierarchy(year: int = DEFAULT_REGION_YEAR) -> Hierarchy:
    """Kommune, fylke of `year`, landsdel, all (built by `iplos.catalog.regions`)."""
    return _regions_function("kommune_hierarchy")(year)


def region_centrality_hierarchy(year: int = DEFAULT_REGION_YEAR) -> Hierarchy:
    """Kommune, SSB centrality class, all (built by `iplos.catalog.regions`)."""
    return _regions_function("kommune_centrality_hierarchy")(year)


def _regions_function(name: str) -> Callable[[int], Hierarchy]:
    # Imported here: the regions package is built separately and must not be needed by the rest.
    try:
        from iplos.catalog import regions
    except ImportError as exc:
        raise IplosError(f"region hierarchies are unavailable: {exc}") from None
    fn = getattr(regions, name, None)
    if fn is None:
        raise IplosError(f"region hierarchies are unavailable: iplos.catalog.regions has no {name}()")
    return fn  # type: ignore[no-any-return]


BUILDERS: dict[str, Callable[..., Hierarchy]] = {
    "age": age_hierarchy,
    "age_ssb": age_ssb_hierarchy,
    "birth_year": birth_year_hierarchy,
    "birth_year_ssb": birth_year_ssb_hierarchy,
    "date": date_hierarchy,
    "service": service_hierarchy,
    "functional_score": functional_score_hierarchy,
    "icd10": icd10_hierarchy,
    "icpc2": icpc2_hierarchy,
    "icpc2_component": icpc2_component_hierarchy,
    "region": region_hierarchy,
    "region_centrality": region_centrality_hierarchy,
}
"""Built-in hierarchies by name; `codes` is built from the variable's own code list."""

ALIASES: dict[str, tuple[str, ...]] = {
    "alder": ("age", "age_ssb"),
    "age": ("age", "age_ssb"),
    "alder_ved_utgangen": ("age", "age_ssb"),
    "birth_year": ("birth_year", "birth_year_ssb"),
    "fodselsar": ("birth_year", "birth_year_ssb"),
    "kommunenummer": ("region", "region_centrality"),
    "bostedskommune": ("region", "region_centrality"),
    "municipality": ("region", "region_centrality"),
    "tjenestetype": ("service",),
    "service": ("service",),
    "diagnose": ("icd10",),
    "diagnosekode": ("icd10", "icpc2"),
    "icd10": ("icd10",),
    "icd10_kode": ("icd10",),
    "bidiagnose": ("icd10",),
    "dodsarsak": ("icd10",),
    "icpc2": ("icpc2", "icpc2_component"),
    "icpc2_kode": ("icpc2", "icpc2_component"),
    "date": ("date",),
    "dato": ("date",),
}
"""Column names outside the catalogue that still denote a known kind of value."""


def _column_key(column: str) -> str:
    """`register.table.column` or `table.column` -> `column`, lower-cased."""
    return column.rsplit(".", 1)[-1].strip().lower()


def hierarchies_for(variable_name: str) -> list[str]:
    """Names of the built-in hierarchies for a variable or column name, the default first.

    >>> hierarchies_for("fodselsaar")
    ['birth_year', 'birth_year_ssb']
    >>> hierarchies_for("startdato")
    ['date']
    """
    key = _column_key(variable_name)
    names: dict[str, None] = {}
    for var in catalog().variables():
        if var.name == key:
            for name in var.hierarchies:
                if name != "codes" or var.codes:
                    names[name] = None
            if var.dtype == "date":
                names["date"] = None
    if not names and key in ALIASES:
        names.update(dict.fromkeys(ALIASES[key]))
    if not names and (key.endswith("dato") or key.endswith("date")):
        names["date"] = None
    return list(names)


def hierarchy_for(variable_name: str, name: str | None = None, **params: Any) -> Hierarchy:
    """The built-in hierarchy `name` (default: the first of `hierarchies_for`) for a variable or column.

    Parameters are passed to the builder (`year=` for regions, `max_age=`, `reference_year=`,
    `first=`/`last=`); unknown ones are an error naming those accepted. Built hierarchies are cached.

    >>> hierarchy_for("tjeneste").generalize("15", 1)
    'hjemmetjenester'
    """
    available = hierarchies_for(variable_name)
    if name is None:
        if not available:
            raise IplosError(
                f"no built-in hierarchy for column {variable_name!r}; "
                f"bring your own as an ARX CSV file (built-in: {', '.join(sorted([*BUILDERS, 'codes']))})"
            )
        name = available[0]
    if name == "codes":
        return _codes_for(variable_name)
    builder = BUILDERS.get(name)
    if builder is None:
        raise IplosError(
            f"unknown hierarchy {name!r}; built-in hierarchies: {', '.join(sorted([*BUILDERS, 'codes']))}"
        )
    accepted = inspect.signature(builder).parameters
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise IplosError(
            f"hierarchy {name!r} takes no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted) or 'none'}"
        )
    try:
        frozen = tuple(sorted(params.items()))
        hash(frozen)
    except TypeError:
        raise IplosError(f"parameters of hierarchy {name!r} must be plain values: {params!r}") from None
    return _build(name, frozen)


@functools.lru_cache(maxsize=64)
def _build(name: str, params: tuple[tuple[str, Hashable], ...]) -> Hierarchy:
    return BUILDERS[name](**dict(params))


def _codes_for(variable_name: str) -> Hierarchy:
    key = _column_key(variable_name)
    lists = {v.codelist for v in catalog().variables() if v.name == key and v.codelist}
    if len(lists) != 1:
        raise IplosError(
            f"column {variable_name!r} has no code list of its own to build a 'codes' hierarchy from"
        )
    return _build_codes(lists.pop())


@functools.lru_cache(maxsize=32)
def _build_codes(codelist: str) -> Hierarchy:
    return codelist_hierarchy(codelist)
