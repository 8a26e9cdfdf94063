"""A plan as a case records it (JSON with level names), and back, refusing what cannot be enforced.

The case's JSON has the keys of `iplos.cases.ANONYMISATION_PLAN_SCHEMA`: `levels` (quasi-identifier
-> level name or number), the criteria (`k`, `l`, `l_variant`, `c`, `t`, `t_variant`, `unit`,
`max_suppression`), `sensitive`, `metric`, `attacker`, `items_known`, `max_levels`, `local_suppression`, `method`,
`notes`
and the measured `results`. `cases` checks the shape only (it may import nothing but the
catalogue); whether the release can enforce a plan on the extract (levels that exist, sensitive
columns the extract has, an attacker who knows only protected columns) is checked here, by the
commands above `cases` before they file a proposal, counter-proposal or agreement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from iplos.catalog import Hierarchy
from iplos.errors import IplosError, Problem
from iplos.release._plan import Criteria, Plan, QuasiIdentifier, criteria_problems

CRITERIA_KEYS = ("k", "l", "l_variant", "c", "t", "t_variant", "unit")


def to_case(
    plan: Plan, hierarchies: Mapping[str, Hierarchy], results: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The plan as JSON for the case store (levels by name)."""
    c = plan.criteria
    data: dict[str, Any] = {
        "levels": {
            q.column: hierarchies[q.column].level_names[plan.levels[q.column]] for q in plan.quasi_identifiers
        },
        **{key: c.to_dict()[key] for key in CRITERIA_KEYS},
        "sensitive": list(plan.sensitive),
        "max_suppression": c.max_suppressed,
        "metric": plan.metric,
        "attacker": list(plan.known),
        "items_known": plan.items_known,
    }
    bounds = {
        q.column: hierarchies[q.column].level_names[q.max_level]
        for q in plan.quasi_identifiers
        if q.max_level is not None and q.max_level < hierarchies[q.column].height - 1
    }
    if bounds:
        data["max_levels"] = bounds
    if plan.local_suppression:
        data["local_suppression"] = True
    if plan.method != "global":
        data["method"] = plan.method
    if plan.note:
        data["notes"] = plan.note
    if results is not None:
        data["results"] = dict(results)
    return data


def _level(h: Hierarchy, value: Any, where: str, problems: list[Problem]) -> int | None:
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise IplosError("not a level")
        return h.level(value)
    except IplosError:
        problems.append(
            Problem(
                f"not a level of hierarchy {h.name!r} ({', '.join(h.level_names)})",
                column=where,
                value=str(value),
            )
        )
        return None


def from_case(
    data: Mapping[str, Any],
    quasi_identifiers: Sequence[QuasiIdentifier],
    hierarchies: Mapping[str, Hierarchy],
    sensitive: Sequence[str],
    *,
    person_key: str | None = "lopenr",
) -> Plan:
    """A case's plan on the extract's quasi-identifiers; every problem at once when it cannot be enforced.

    `quasi_identifiers` carry the extract's bounds (the reviewer's coarsening as `min_level`); the
    plan's `max_levels` narrow them further. A quasi-identifier the plan does not name is kept at
    its only level when its bounds allow one, else it is a problem.
    """
    problems = criteria_problems(data)
    levels_in = data.get("levels")
    if not isinstance(levels_in, Mapping):
        problems.append(Problem("levels must map each quasi-identifier to a level", column="plan.levels"))
        levels_in = {}
    names = [q.column for q in quasi_identifiers]
    for name in levels_in:
        if name not in names:
            problems.append(Problem("not a quasi-identifier of the extract", column=f"plan.levels.{name}"))
    max_in = data.get("max_levels") or {}
    if not isinstance(max_in, Mapping):
        problems.append(Problem("max_levels must map quasi-identifiers to levels", column="plan.max_levels"))
        max_in = {}
    qis: list[QuasiIdentifier] = []
    levels: dict[str, int] = {}
    for q in quasi_identifiers:
        h = hierarchies[q.column]
        top = q.max_level if q.max_level is not None else h.height - 1
        if q.column in max_in:
            bound = _level(h, max_in[q.column], f"plan.max_levels.{q.column}", problems)
            if bound is not None:
                top = min(top, bound)
        if q.column in levels_in:
            level = _level(h, levels_in[q.column], f"plan.levels.{q.column}", problems)
        elif q.min_level == top:
            level = q.min_level
        else:
            problems.append(Problem("the plan gives no level", column=f"plan.levels.{q.column}"))
            level = None
        if level is not None and not q.min_level <= level <= top:
            problems.append(
                Problem(
                    (
                        f"finer than the required level {h.level_names[q.min_level]!r}"
                        if level < q.min_level
                        else f"coarser than the allowed level {h.level_names[top]!r}"
                    ),
                    column=f"plan.levels.{q.column}",
                    value=h.level_names[level],
                    rule="required_coarsening" if level < q.min_level else "max_level",
                )
            )
        levels[q.column] = q.min_level if level is None else level
        qis.append(replace(q, max_level=top))
    wanted = data.get("sensitive", [])
    if not isinstance(wanted, list | tuple):
        problems.append(Problem("sensitive must be a list of column names", column="plan.sensitive"))
        wanted = []
    for s in wanted:
        if s not in sensitive:
            problems.append(
                Problem(
                    f"not a sensitive column of the extract ({', '.join(sensitive) or 'none'})",
                    column="plan.sensitive",
                    value=str(s),
                )
            )
    attacker = data.get("attacker", [])
    if not isinstance(attacker, list | tuple):
        problems.append(Problem("attacker must be a list of column names", column="plan.attacker"))
        attacker = []
    items = data.get("items_known")
    if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items < 0):
        problems.append(
            Problem(
                "items_known must be null (full knowledge) or an integer >= 0",
                column="plan.items_known",
                value=str(items),
            )
        )
        items = None
    if problems:
        raise IplosError("the anonymisation plan cannot be enforced on this extract", problems)
    criteria = Criteria.from_dict({k: data[k] for k in (*CRITERIA_KEYS, "max_suppression") if k in data})
    try:
        return Plan(
            criteria=criteria,
            quasi_identifiers=tuple(qis),
            levels={q.column: max(levels[q.column], q.min_level) for q in qis},
            sensitive=tuple(s for s in wanted if s in sensitive),
            note=str(data.get("notes", "")),
            metric=str(data.get("metric", "loss")),
            attacker=tuple(a for a in attacker if set(attacker) != set(names)),
            person_key=person_key,
            local_suppression=bool(data.get("local_suppression", False)),
            method=data.get("method", "global"),
            items_known=items,
        )
    except IplosError as exc:
        raise IplosError("the anonymisation plan cannot be enforced on this extract", exc.problems) from None


def plan_problems(
    data: Mapping[str, Any],
    quasi_identifiers: Sequence[QuasiIdentifier],
    hierarchies: Mapping[str, Hierarchy],
    sensitive: Sequence[str],
) -> list[Problem]:
    """Every reason the release could not enforce a case's plan JSON on this extract (none: it can)."""
    try:
        from_case(data, quasi_identifiers, hierarchies, sensitive)
    except IplosError as exc:
        return list(exc.problems) or [Problem(str(exc), column="plan")]
    return []
