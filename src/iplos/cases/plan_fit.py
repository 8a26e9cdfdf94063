"""Whether the release can enforce a plan on the extract a case grants, checked when the plan is filed.

The extract's columns follow from the granted variables alone: the catalogue knows each one's
role (quasi-identifier, sensitive, other) and the levels it can be delivered at, and the linkage
names the columns by a fixed rule (`extract_column`; tests pin it to `iplos.linkage`). So a
proposal, counter-proposal or reviewer's plan that names a column the extract will not have, leaves
a quasi-identifier without a level, asks l or t of no sensitive column or assumes an attacker who
knows an unprotected column is refused when filed, with every problem at once, not when the
processor next runs (`iplos.release.from_case` checks the same again on the linked extract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iplos.cases._catalogue import CatalogueView
from iplos.cases.granted import grant
from iplos.cases.state import Case
from iplos.errors import IplosError, Problem

AARGANG = "aargang"
COUNTED = {("iplos", "tjeneste"): "antall_tjenester"}  # extract columns that count records


#: The tables besides the person-year table, by the catalogue table their columns come from
#: (`iplos.delivery` names such a column `<table>.<column>` in a plan; tests pin it to the delivery).
EXTRA_TABLES = {
    ("iplos", "diagnose"): "diagnoses",
    ("npr", "episode"): "npr_episodes",
    ("dar", "dodsfall"): "cause_of_death",
}
SPELLS = "service_spells"
SPELL_DATES = ("vedtaksdato", "startdato", "sluttdato")
TABLE = "_tabell"


def extract_column(register: str, name: str) -> str:
    """The person-year extract's column for a granted variable (before the linkage's de-duplication)."""
    if register in ("iplos", "kpr") and name == "fodselsaar":
        return "alder"
    return COUNTED.get(("iplos" if register == "kpr" else register, name), name)


def _column_of(register: str, table: str, name: str, spells: bool) -> tuple[str, bool]:
    """The plan's name of a granted variable's column, and whether it lives outside the person-year
    table: IPLOS diagnoses, NPR episodes and causes of death are tables of their own, and with a
    granted spell date the services are too (else the person-year table counts them)."""
    base = "iplos" if register == "kpr" else register
    if (base, table) in EXTRA_TABLES:
        return f"{EXTRA_TABLES[(base, table)]}.{name}", True
    if base == "iplos" and table == "tjeneste" and (spells or name in SPELL_DATES):
        return f"{SPELLS}.{name}", True
    return extract_column(register, name), False


def _columns(
    case: Case, catalogue: CatalogueView
) -> tuple[dict[str, tuple[str, ...]], set[str], dict[str, str]]:
    """Quasi-identifier column -> its deliverable levels, the sensitive columns, and each column's
    variable name where it differs (a plan may name a quasi-identifier by either, as
    `plan_below_required` reads it by the variable's name)."""
    qis: dict[str, tuple[str, ...]] = {AARGANG: (AARGANG,)}
    sensitive: set[str] = set()
    aliases: dict[str, str] = {}
    seen = {"lopenr", AARGANG}
    granted = grant(case, catalogue).variables
    infos = {}
    for d in granted:
        try:
            infos[(d.register, d.name)] = catalogue.variable(d.name, d.register)
        except IplosError:
            continue  # a variable the catalogue cannot deliver is refused elsewhere
    spells = any(
        d.name in SPELL_DATES
        and (d.register, d.name) in infos
        and infos[(d.register, d.name)].table == "tjeneste"
        for d in granted
    )
    several = False
    for d in granted:
        info = infos.get((d.register, d.name))
        if info is None:
            continue
        column, elsewhere = _column_of(d.register, info.table, d.name, spells)
        several = several or elsewhere
        if column in seen:
            column = f"{d.register}_{column}"
        if column in seen:
            continue
        seen.add(column)
        try:
            levels = catalogue.deliverable_levels(d.name, d.register)
        except IplosError:
            continue
        if column in COUNTED.values() or info.role == "sensitive":
            sensitive.add(column)
        elif info.role == "quasi_identifier":
            lowest = d.level if d.outcome == "coarsened" and d.level in levels else None
            qis[column] = levels[levels.index(lowest) :] if lowest is not None else levels or ("as recorded",)
        else:
            continue
        if d.name != column:
            aliases.setdefault(d.name, column)
    if several:
        qis[TABLE] = ("tabell",)  # which table a row is in: kept as it is
    # A variable's name stands for its column unless it is itself a column of the extract.
    aliases = {name: column for name, column in aliases.items() if name not in qis and name not in sensitive}
    return qis, sensitive, aliases


def _position(levels: tuple[str, ...], value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < len(levels) else None
    return levels.index(value) if value in levels else None


def plan_by_variable(
    plan: Mapping[str, Any], case: Case, catalogue: CatalogueView
) -> tuple[dict[str, Any], dict[str, str]]:
    """`plan` with each level keyed by its variable's name where the plan names the extract's column
    (`alder` for `fodselsaar`), so that the reviewer's coarsening, which is decided per variable, is
    checked whichever name the plan uses; and variable -> the name the plan used, for the messages."""
    if not case.variable_decisions:
        return dict(plan), {}
    _, _, aliases = _columns(case, catalogue)
    variable_of = {column: name for name, column in aliases.items()}
    given = plan.get("levels") if isinstance(plan.get("levels"), Mapping) else {}
    assert isinstance(given, Mapping)
    levels: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, value in given.items():
        name = variable_of.get(str(key), str(key))
        levels[name] = value
        written[name] = str(key)
    return {**plan, "levels": levels}, written


def plan_fit_problems(plan: Mapping[str, Any], case: Case, catalogue: CatalogueView) -> list[Problem]:
    """Every reason the release could not enforce `plan` on the extract `case` grants (none: it can).

    Call after `validate_plan` (the plan's shape) and `plan_below_required` (the reviewer's
    coarsening); a case without decided variables has no extract yet and is not judged here.
    """
    if not case.variable_decisions:
        return []
    qis, sensitive, aliases = _columns(case, catalogue)
    problems: list[Problem] = []
    given = plan.get("levels") if isinstance(plan.get("levels"), Mapping) else {}
    assert isinstance(given, Mapping)
    levels = {aliases.get(str(k), str(k)): v for k, v in given.items()}
    for name in levels:
        if name not in qis:
            problems.append(
                Problem(
                    f"not a quasi-identifier of the extract ({', '.join(sorted(qis))})",
                    column=f"plan.levels.{name}",
                )
            )
    for name, allowed in qis.items():
        if name in (AARGANG, TABLE) and name not in levels:
            continue  # the årgang stays as it is
        if name not in levels:
            if len(allowed) > 1:
                problems.append(Problem("the plan gives no level", column=f"plan.levels.{name}"))
            continue
        if name == AARGANG and _position(allowed, levels[name]) is None:
            problems.append(
                Problem("the årgang stays as it is", column="plan.levels.aargang", value=str(levels[name]))
            )
    bounds = plan.get("max_levels") if isinstance(plan.get("max_levels"), Mapping) else {}
    assert isinstance(bounds, Mapping)
    max_levels = {aliases.get(str(k), str(k)): v for k, v in bounds.items()}
    for name, bound in max_levels.items():
        if name not in qis:
            problems.append(
                Problem("not a quasi-identifier of the extract", column=f"plan.max_levels.{name}")
            )
            continue
        allowed = qis[name]
        top = _position(allowed, bound) if allowed else None
        if allowed and top is None:
            problems.append(
                Problem(
                    f"not a level {name} can be delivered at ({', '.join(allowed)})",
                    column=f"plan.max_levels.{name}",
                    value=str(bound),
                )
            )
        chosen = _position(allowed, levels.get(name)) if name in levels and allowed else None
        if top is not None and chosen is not None and chosen > top:
            problems.append(
                Problem(
                    f"coarser than the allowed level {allowed[top]!r}",
                    column=f"plan.levels.{name}",
                    value=str(levels[name]),
                    rule="max_level",
                )
            )
    wanted = plan.get("sensitive", [])
    wanted = list(wanted) if isinstance(wanted, list | tuple) else []
    for s in wanted:
        if aliases.get(str(s), str(s)) not in sensitive:
            problems.append(
                Problem(
                    f"not a sensitive column of the extract ({', '.join(sorted(sensitive)) or 'none'})",
                    column="plan.sensitive",
                    value=str(s),
                )
            )
    if (plan.get("l") is not None or plan.get("t") is not None) and not wanted:
        problems.append(Problem("l and t need at least one sensitive column", column="plan.sensitive"))
    attacker = plan.get("attacker", [])
    known = [aliases.get(str(a), str(a)) for a in (attacker if isinstance(attacker, list | tuple) else [])]
    unknown = [a for a in known if a not in qis]
    if unknown:
        problems.append(
            Problem(
                f"the attacker is assumed to know {', '.join(map(str, unknown))}, which the plan does not "
                "protect (only quasi-identifiers can be)",
                column="plan.attacker",
            )
        )
    return problems


def plan_variables(case: Case, catalogue: CatalogueView) -> list[str]:
    """The variables a plan must give a level for (each quasi-identifier of the granted extract that
    can be delivered at more than one level), by the variable's name, as the pages name them."""
    if not case.variable_decisions:
        return []
    qis, _, aliases = _columns(case, catalogue)
    names = {column: name for name, column in aliases.items()}
    return [names.get(c, c) for c, allowed in qis.items() if c != AARGANG and len(allowed) > 1]
