"""Table requests on the application form (output 'tables'): each table's fields and reading them back.

Fields are named by the paths `validate_tables` gives its problems (`tables[0].name`,
`tables[0].dimensions[1].variable`, `tables[0].dimensions[1].level`, `tables[0].aarganger`,
`tables[0].universe.age.min_age`). A dimension is chosen as `register.variable`; its level select
lists the levels of the variable saved in that row (as recorded until one is chosen). A table's own
universe is the population builder under `tables[i].universe`; without it the table counts the
application's population.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from iplos.cases import Application, from_json, to_json
from iplos.cases._catalogue import CatalogueView
from iplos.cases.table_request import MAX_DIMENSIONS, STATISTICS, TableRequest, dimension_levels

__all__ = ["MAX_DIMENSIONS", "STATISTICS", "dimension_choices", "read_tables", "table_values", "with_table"]
from iplos.catalog import catalog
from iplos.errors import IplosError, Problem
from iplos.web import _population_form


def blank_table() -> dict[str, Any]:
    """A new table's JSON form (no name, no dimensions yet)."""
    return {"name": "", "dimensions": [], "statistic": "persons", "aarganger": [], "universe": None}


def _choices(catalogue: CatalogueView) -> tuple[tuple[str, tuple[str, ...]], ...]:
    out = []
    for v in catalog().variables():
        if v.register == "keyholder":
            continue
        try:
            levels = dimension_levels(catalogue, v.name, v.register)
        except IplosError:
            continue
        if levels:
            out.append((f"{v.register}.{v.name}", levels[:-1]))
    return tuple(out)


def dimension_choices(catalogue: CatalogueView) -> dict[str, tuple[str, ...]]:
    """'register.variable' -> the levels a table can show it at, for every tabulatable variable."""
    return dict(_choices(catalogue))


def read_tables(
    current: list[dict[str, Any]],
    form: Mapping[str, Any],
    problems: list[Problem],
    parse_years: Callable[[str, list[Problem]], list[int]],
) -> list[dict[str, Any]]:
    """The tables' JSON forms after the posted fields (a table whose fields were not posted is kept)."""
    out: list[dict[str, Any]] = []
    for i, table in enumerate(current):
        col = f"tables[{i}]"
        if f"{col}.name" not in form:
            out.append(table)
            continue
        t = dict(table)
        t["name"] = str(form.get(f"{col}.name", "")).strip()
        dims = []
        for j in range(MAX_DIMENSIONS):
            which = str(form.get(f"{col}.dimensions[{j}].variable", "")).strip()
            if not which:
                continue
            register, _, variable = which.partition(".")
            level = str(form.get(f"{col}.dimensions[{j}].level", "")).strip()
            dims.append({"variable": variable, "register": register, "level": level or None})
        t["dimensions"] = dims
        statistic = str(form.get(f"{col}.statistic", "persons"))
        t["statistic"] = statistic if statistic in STATISTICS else "persons"
        measure = str(form.get(f"{col}.measure", "")).strip()
        t["measure"] = measure or None
        years: list[Problem] = []
        t["aarganger"] = parse_years(str(form.get(f"{col}.aarganger", "")), years)
        problems.extend(
            Problem(p.message, column=f"{col}.aarganger", value=p.value, rule=p.rule) for p in years
        )
        if form.get(f"{col}.universe.own") == "on":
            prefix = f"{col}.universe"
            t["universe"] = (
                _population_form.read_population(form, problems, prefix)
                if _population_form.has_any_criterion_field(form, prefix)
                else (table.get("universe") or {})
            )
        else:
            t["universe"] = None
        out.append(t)
    return out


def table_values(table: TableRequest, posted: Mapping[str, Any], i: int) -> dict[str, Any]:
    """The fields of table `i` as the form shows them (what was posted when it could not be read)."""
    data = to_json(table)
    col = f"tables[{i}]"
    if f"{col}.name" in posted:
        return {k: v for k, v in posted.items() if str(k).startswith(col + ".")}
    values: dict[str, Any] = {
        f"{col}.name": data["name"],
        f"{col}.statistic": data["statistic"],
        f"{col}.measure": data.get("measure") or "",
        f"{col}.aarganger": ", ".join(map(str, data.get("aarganger", ()))),
    }
    for j, d in enumerate(data["dimensions"]):
        values[f"{col}.dimensions[{j}].variable"] = f"{d['register']}.{d['variable']}"
        values[f"{col}.dimensions[{j}].level"] = d.get("level") or ""
    if table.universe is not None:
        values[f"{col}.universe.own"] = "on"
    return values


def with_table(content: Application) -> Application:
    """The application with one more (blank) table request."""
    data: dict[str, Any] = to_json(content)
    data["tables"].append(blank_table())
    result: Application = from_json(Application, data)
    return result
