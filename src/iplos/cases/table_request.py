"""Aggregated output as asked: the tables an application wants, validated against the catalogue.

A `TableRequest` names its dimensions (catalogue variables, each at a deliverable level: `kommune`
at 'fylke', `fodselsaar` at '10 years'), the statistic (persons, person-years, or the sum of a
numeric variable such as `timer_per_uke`), the årganger (a subset of the application's; empty: all)
and the universe (a `Population`; None: the application's population). The delivery makes exactly
these tables, protected (the tables developer's `iplos.sdc.tables`).

An application that asks only for tables of anonymous aggregates needs no DPIA, unless the
reviewer asks for one when returning it (`ReturnToApplicant.require_dpia`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from iplos.cases._catalogue import CatalogueView
from iplos.cases.population import Population, describe, validate_population
from iplos.errors import IplosError, Problem

Statistic = Literal["persons", "person_years", "sum"]
STATISTICS: tuple[Statistic, ...] = ("persons", "person_years", "sum")
MAX_DIMENSIONS = 4
"""More dimensions than this make cells too small to publish (and the protection search too large)."""


@dataclass(frozen=True)
class TableDimension:
    """One dimension of a table: a catalogue variable shown at a deliverable level (None: as recorded)."""

    variable: str
    register: str = "iplos"
    level: str | None = None


@dataclass(frozen=True)
class TableRequest:
    """One table the applicant wants."""

    name: str
    dimensions: tuple[TableDimension, ...]
    statistic: Statistic = "persons"
    measure: str | None = None
    """The variable summed when `statistic` is 'sum' (e.g. timer_per_uke)."""
    measure_register: str = "iplos"
    aarganger: tuple[int, ...] = ()
    universe: Population | None = None


def dimension_levels(catalogue: CatalogueView, variable: str, register: str) -> tuple[str, ...]:
    """Levels a table can show a variable at: its deliverable levels, or else (a sensitive variable
    such as the service code, which person-level data carry only as a count) its first hierarchy's.

    Raises `IplosError` for an unknown variable or an identifier.
    """
    info = catalogue.variable(variable, register)
    if info.role in ("direct_identifier", "linkage_key"):
        raise IplosError(f"a {info.role.replace('_', ' ')} is never tabulated")
    try:
        levels = catalogue.deliverable_levels(variable, register)
    except IplosError:
        levels = ()
    if levels:
        return levels
    found = catalogue.hierarchy_levels(variable)
    return found[0] if found else ()


def validate_tables(
    tables: Sequence[TableRequest],
    catalogue: CatalogueView,
    years: Sequence[int],
    linked: Sequence[str],
    column: str = "tables",
) -> list[Problem]:
    """Every problem with the requested tables, each naming its field (`tables[0].dimensions[1].level`)."""
    problems: list[Problem] = []
    names: set[str] = set()
    for i, t in enumerate(tables):
        col = f"{column}[{i}]"
        if not t.name.strip():
            problems.append(Problem("a table needs a name", column=f"{col}.name", rule="required"))
        elif t.name in names:
            problems.append(Problem("two tables have this name", column=f"{col}.name", value=t.name))
        names.add(t.name)
        if not t.dimensions:
            problems.append(Problem("a table needs at least one dimension", column=f"{col}.dimensions"))
        if len(t.dimensions) > MAX_DIMENSIONS:
            problems.append(
                Problem(
                    f"at most {MAX_DIMENSIONS} dimensions per table",
                    column=f"{col}.dimensions",
                    value=str(len(t.dimensions)),
                )
            )
        seen: set[tuple[str, str]] = set()
        for j, d in enumerate(t.dimensions):
            where = f"{col}.dimensions[{j}]"
            if (d.register, d.variable) in seen:
                problems.append(
                    Problem("dimension given twice", column=f"{where}.variable", value=d.variable)
                )
            seen.add((d.register, d.variable))
            try:
                levels = dimension_levels(catalogue, d.variable, d.register)
            except IplosError as exc:
                problems.append(Problem(exc.message, column=f"{where}.variable", value=d.variable))
                continue
            if not levels:
                problems.append(
                    Problem(
                        f"{d.variable} has no categories to tabulate by (it is a measure or a free value)",
                        column=f"{where}.variable",
                        value=d.variable,
                    )
                )
            elif d.level is not None and d.level not in levels[:-1]:
                problems.append(
                    Problem(
                        f"not a level {d.variable} can be shown at; levels: {', '.join(levels[:-1])}",
                        column=f"{where}.level",
                        value=d.level,
                    )
                )
            if d.register not in ("iplos", "kpr") and d.register not in linked:
                problems.append(
                    Problem(
                        f"a dimension from {d.register} needs a linkage request for {d.register}",
                        column=f"{where}.register",
                        value=d.register,
                    )
                )
        if t.statistic == "sum":
            if t.measure is None:
                problems.append(Problem("a sum names the variable it sums", column=f"{col}.measure"))
            else:
                try:
                    rng = catalogue.value_range(t.measure, t.measure_register)
                    labels = catalogue.code_labels(t.measure, t.measure_register)
                except IplosError as exc:
                    problems.append(Problem(exc.message, column=f"{col}.measure", value=t.measure))
                else:
                    if rng is None or labels:
                        problems.append(
                            Problem(
                                f"{t.measure} is not a quantity that can be summed",
                                column=f"{col}.measure",
                                value=t.measure,
                            )
                        )
        elif t.measure is not None:
            problems.append(
                Problem(f"a measure belongs to a sum, not to {t.statistic!r}", column=f"{col}.measure")
            )
        outside = [y for y in t.aarganger if y not in years]
        for y in outside:
            problems.append(
                Problem(
                    "årgang not among the application's årganger",
                    column=f"{col}.aarganger",
                    value=str(y),
                )
            )
        if t.universe is not None:
            problems.extend(
                validate_universe(t.universe, catalogue, t.aarganger or years, linked, f"{col}.universe")
            )
    return problems


def validate_universe(
    pop: Population, catalogue: CatalogueView, years: Sequence[int], linked: Sequence[str], column: str
) -> list[Problem]:
    """The population checks, with the field names under the table's `universe`."""
    out = []
    for p in validate_population(pop, catalogue, years, linked):
        name = p.column or "population"
        out.append(Problem(p.message, column=column + name[len("population") :], value=p.value, rule=p.rule))
    return out


def table_in_words(t: TableRequest, language: Literal["nb", "en"] = "nb") -> str:
    """One line for the vedtak: what the table counts, by what, in which years, for whom."""
    nb = language == "nb"
    what = {
        "persons": ("antall personer", "number of persons"),
        "person_years": ("antall personårganger", "number of person-years"),
        "sum": (f"sum av {t.measure}", f"sum of {t.measure}"),
    }[t.statistic][0 if nb else 1]
    by = ", ".join(f"{d.variable} ({d.level})" if d.level else d.variable for d in t.dimensions)
    text = f"{t.name}: {what} {'etter' if nb else 'by'} {by}"
    if t.aarganger:
        text += f", årganger {', '.join(map(str, sorted(t.aarganger)))}"
    if t.universe is not None:
        text += "; for " + "; ".join(describe(t.universe, language))
    return text
