"""Submission validation: every missing or inconsistent field of an application, all at once.

Each problem names the field (`Problem.column`, a dotted path such as `variables[2].justification`)
and, where useful, the offending value, so the applicant can fix everything in one round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from iplos.cases._catalogue import CatalogueView, registers_for_years
from iplos.cases.model import Application, Kind, Register, VariableDecision
from iplos.cases.population import validate_population
from iplos.cases.table_request import validate_tables
from iplos.errors import IplosError, Problem

IPLOS_PART: tuple[Register, ...] = ("iplos", "kpr")
"""Registers holding the IPLOS tables: IPLOS to 2017, KPR from 2017 (2017 is in both)."""
LINKABLE: tuple[Register, ...] = ("dar", "npr", "ssb")
"""Registers an applicant may ask to link with."""
MIN_JUSTIFICATION = 10
"""Fewest characters a variable's justification may have (a word or two explains nothing)."""
JUSTIFICATION_RULE = (
    "IPLOS-forskriften § 1-3 and helseregisterloven § 19 allow only variables that are relevant and "
    "necessary for the purpose: say, in at least {n} characters, why this variable is needed for {purpose}"
)
NOT_REQUESTABLE_ROLES = ("direct_identifier", "linkage_key")


def involved_registers(content: Application, catalogue: CatalogueView) -> tuple[Register, ...]:
    """Registers the application draws on, each needing its own approval."""
    found: list[Register] = []
    years = content.aarganger
    part = [r for r in IPLOS_PART if r in registers_for_years(catalogue, years, IPLOS_PART)]
    if any(v.register in IPLOS_PART for v in content.variables) or not content.variables:
        found.extend(part)
    for v in content.variables:
        if v.register not in IPLOS_PART and v.register not in found:
            found.append(v.register)
    for link in content.linkages:
        if link.register not in found:
            found.append(link.register)
    return tuple(found)


def _required(value: object, column: str, what: str, problems: list[Problem]) -> None:
    if value is None or (
        isinstance(value, str | tuple) and not (value.strip() if isinstance(value, str) else value)
    ):
        problems.append(Problem(f"{what} is missing", column=column, rule="required"))


def validate_application(
    content: Application,
    kind: Kind,
    catalogue: CatalogueView,
    today: date,
    base_content: Application | None = None,
    dpia_required: bool = False,
) -> list[Problem]:
    """Every problem that stops this application from being submitted (empty list: it may go).

    A DPIA is required unless the application asks only for tables of anonymous aggregates and the
    reviewer has not asked for one (`dpia_required`).
    """
    problems: list[Problem] = []
    p, lb = content.project, content.legal_basis
    _required(p.title, "project.title", "project title", problems)
    _required(p.summary, "project.summary", "project summary", problems)
    _required(p.institution, "project.institution", "responsible institution", problems)
    _required(p.leader, "project.leader", "project leader", problems)
    _required(p.funding, "project.funding", "funding", problems)
    _required(p.start, "project.start", "project start date", problems)
    _required(p.end, "project.end", "project end date", problems)
    if p.start and p.end and p.end < p.start:
        problems.append(
            Problem("project ends before it starts", column="project.end", value=p.end.isoformat())
        )
    if lb.research:
        _required(
            lb.rek_reference, "legal_basis.rek_reference", "REK approval reference (research)", problems
        )
    if content.output != "tables" or dpia_required:
        what = "data protection impact assessment (DPIA)"
        if content.output == "tables":
            what += ", asked for by the reviewer"
        _required(lb.dpia, "legal_basis.dpia", what, problems)
    _required(lb.gdpr_article6, "legal_basis.gdpr_article6", "GDPR article 6 basis", problems)
    _required(lb.gdpr_article9, "legal_basis.gdpr_article9", "GDPR article 9 basis (health data)", problems)
    _required(content.purposes, "purposes", "purpose (IPLOS-forskriften § 1-3)", problems)
    if lb.research and content.purposes and "forskning" not in content.purposes:
        problems.append(Problem("a research project must give 'forskning' as a purpose", column="purposes"))
    if "forskning" in content.purposes and not lb.research:
        problems.append(
            Problem("purpose 'forskning' needs a research legal basis (REK)", column="legal_basis.research")
        )
    if len(set(content.purposes)) != len(content.purposes):
        problems.append(Problem("a purpose is listed twice", column="purposes"))
    _check_years(content, catalogue, problems)
    linked = [link.register for link in content.linkages]
    if content.output == "tables":
        _required(content.tables, "tables", "the tables wanted (output 'tables')", problems)
        problems.extend(validate_tables(content.tables, catalogue, content.aarganger, linked))
        if content.variables:
            _check_variables(content, catalogue, problems)
    else:
        if content.tables:
            problems.append(
                Problem(
                    "tables are asked with output 'tables', not 'microdata'",
                    column="output",
                    value=content.output,
                )
            )
        _check_variables(content, catalogue, problems)
    _check_linkages(content, problems)
    problems.extend(
        validate_population(
            content.population, catalogue, content.aarganger, [link.register for link in content.linkages]
        )
    )
    _required(content.recipients, "recipients", "recipients of the data", problems)
    _required(content.storage_security, "storage_security", "storage and security arrangements", problems)
    _required(content.deletion_date, "deletion_date", "deletion date", problems)
    if content.deletion_date is not None:
        if content.deletion_date <= today:
            problems.append(
                Problem(
                    "deletion date must be in the future",
                    column="deletion_date",
                    value=str(content.deletion_date),
                )
            )
        if p.start and content.deletion_date < p.start:
            problems.append(
                Problem(
                    "deletion date is before the project starts",
                    column="deletion_date",
                    value=str(content.deletion_date),
                )
            )
    if kind != "new" and base_content is None:
        problems.append(
            Problem(f"a {kind} application needs the approved case it builds on", column="base_case_id")
        )
    if kind == "change" and base_content is not None and content == base_content:
        problems.append(Problem("the change application changes nothing", column="content", rule="change"))
    if kind == "new_period" and base_content is not None:
        _check_new_period(content, base_content, problems)
    return problems


def _check_years(content: Application, catalogue: CatalogueView, problems: list[Problem]) -> None:
    _required(content.aarganger, "aarganger", "årganger (years)", problems)
    if len(set(content.aarganger)) != len(content.aarganger):
        problems.append(Problem("an årgang is listed twice", column="aarganger"))
    spans = catalogue.register_years()
    first = min((spans[r][0] for r in IPLOS_PART if r in spans), default=0)
    last = max((spans[r][1] for r in IPLOS_PART if r in spans), default=0)
    for i, year in enumerate(content.aarganger):
        if not first <= year <= last:
            problems.append(
                Problem(
                    f"no register holds this årgang (IPLOS/KPR cover {first}-{last})",
                    column=f"aarganger[{i}]",
                    value=str(year),
                )
            )


def _known(catalogue: CatalogueView, name: str, register: str) -> bool:
    try:
        catalogue.variable(name, register)
    except IplosError:
        return False
    return True


def _check_variables(content: Application, catalogue: CatalogueView, problems: list[Problem]) -> None:
    _required(content.variables, "variables", "requested variables", problems)
    seen: set[tuple[str, str]] = set()
    part = registers_for_years(catalogue, content.aarganger, IPLOS_PART)
    linked = {link.register for link in content.linkages}
    for i, v in enumerate(content.variables):
        col = f"variables[{i}]"
        if (v.register, v.name) in seen:
            problems.append(Problem("variable requested twice", column=f"{col}.name", value=v.name))
        seen.add((v.register, v.name))
        if len(v.justification.strip()) < MIN_JUSTIFICATION:
            purpose = f"the purpose {v.purpose!r}" if v.purpose else "the purpose it serves"
            problems.append(
                Problem(
                    JUSTIFICATION_RULE.format(n=MIN_JUSTIFICATION, purpose=purpose)
                    + f" (given: {len(v.justification.strip())})",
                    column=f"{col}.justification",
                    value=v.name,
                    rule="justification",
                )
            )
        if v.purpose is None:
            problems.append(
                Problem(
                    "name the purpose (IPLOS-forskriften § 1-3) this variable serves; the application's "
                    f"purposes: {', '.join(content.purposes) or '(none given)'}",
                    column=f"{col}.purpose",
                    value=v.name,
                    rule="purpose",
                )
            )
        elif v.purpose not in content.purposes:
            problems.append(
                Problem(
                    f"purpose {v.purpose!r} is not one of the application's purposes "
                    f"({', '.join(content.purposes) or 'none given'})",
                    column=f"{col}.purpose",
                    value=v.name,
                    rule="purpose",
                )
            )
        registers = (part or [v.register]) if v.register in IPLOS_PART else [v.register]
        if v.register == "kpr" and "kpr" in registers:
            # KPR's own tables (kontakt) exist in KPR only: check such a variable there alone.
            registers = [r for r in registers if _known(catalogue, v.name, r)] or registers
        if v.register not in IPLOS_PART and v.register not in linked:
            problems.append(
                Problem(
                    f"variable of register {v.register!r} without a linkage request for it",
                    column=f"{col}.register",
                    value=v.name,
                )
            )
        for reg in registers:
            try:
                info = catalogue.variable(v.name, reg)
            except IplosError as exc:
                problems.append(Problem(exc.message, column=f"{col}.name", value=v.name))
                continue
            if info.role in NOT_REQUESTABLE_ROLES:
                problems.append(
                    Problem(
                        f"a {info.role.replace('_', ' ')} cannot be requested",
                        column=f"{col}.name",
                        value=v.name,
                    )
                )
            try:
                catalogue.deliverable_levels(v.name, reg)
            except IplosError as exc:
                problems.append(Problem(exc.message, column=f"{col}.name", value=v.name, rule="deliverable"))
            spans = catalogue.register_years()
            lo, hi = spans.get(reg, (info.first_year, info.last_year))
            missing = [
                y for y in content.aarganger if lo <= y <= hi and not info.first_year <= y <= info.last_year
            ]
            if missing:
                problems.append(
                    Problem(
                        f"not recorded in {reg} for årgang {', '.join(map(str, missing))}",
                        column=f"{col}.name",
                        value=v.name,
                    )
                )


def _check_linkages(content: Application, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for i, link in enumerate(content.linkages):
        col = f"linkages[{i}]"
        if link.register not in LINKABLE:
            problems.append(
                Problem(
                    f"cannot link with {link.register!r}; linkable: {', '.join(LINKABLE)}",
                    column=f"{col}.register",
                )
            )
        if link.register in seen:
            problems.append(Problem("register listed twice", column=f"{col}.register", value=link.register))
        seen.add(link.register)
        _required(
            link.approval_reference,
            f"{col}.approval_reference",
            f"approval reference for {link.register}",
            problems,
        )


def _check_new_period(content: Application, base: Application, problems: list[Problem]) -> None:
    if content.variables != base.variables:
        problems.append(Problem("a new-period application keeps the approved variables", column="variables"))
    if content.legal_basis != base.legal_basis:
        problems.append(
            Problem("a new-period application keeps the approved legal basis", column="legal_basis")
        )
    old = sorted(set(content.aarganger) & set(base.aarganger))
    if old:
        problems.append(
            Problem(
                f"årganger already approved: {', '.join(map(str, old))}",
                column="aarganger",
                rule="new_period",
            )
        )


# The release package's closed sets (tests/release pins them equal to iplos.release's; `cases` may
# import only the catalogue, so whether the release can enforce a plan on an extract is checked by
# the commands above it with `iplos.release.plan_problems`).
PLAN_UNITS = ("person", "record")
PLAN_L_VARIANTS = ("distinct", "entropy", "recursive")
PLAN_T_VARIANTS = ("equal", "ordered")
PLAN_METRICS = ("loss", "entropy", "discernibility", "aecs", "precision")
PLAN_METHODS = ("global", "local_recoding")

ANONYMISATION_PLAN_SCHEMA: Mapping[str, str] = {
    "levels": "object: quasi-identifier -> hierarchy level (name such as '5 years' or 'fylke', or level number)",
    "k": "integer >= 1: every released class holds at least k persons (unit person) or records (k-anonymity)",
    "l": "number >= 1 or null: l-diversity of each sensitive variable within a class",
    "l_variant": "distinct, entropy or recursive (default distinct)",
    "c": "number > 0 or null: c of recursive (c,l)-diversity",
    "t": "number in (0, 1] or null: t-closeness bound",
    "t_variant": "equal or ordered ground distance (default equal)",
    "unit": "person (default: each person's rows across years and tables judged together) or record",
    "metric": "utility metric: loss, entropy, discernibility, aecs or precision (default loss)",
    "attacker": "list of the columns the attacker is assumed to know (default: the quasi-identifiers)",
    "items_known": "integer >= 0 or null (optional): how many of a person's rows in the other tables "
    "(service spells, NPR episodes, ...) the attacker knows besides the whole person-year trajectory "
    "((k, k^m)-anonymity); null: every row of every table (full knowledge)",
    "max_levels": "object (optional): quasi-identifier -> coarsest level the search may choose",
    "local_suppression": "boolean (optional): blank single values instead of suppressing persons",
    "method": "global (default: one level per quasi-identifier) or local_recoding (each class of persons "
    "at levels of its own, `levels` the finest allowed)",
    "sensitive": "list of variable names treated as sensitive (for l and t)",
    "max_suppression": "number in [0, 1]: largest share of records that may be suppressed",
    "results": "object (optional): what the disclosure-control run measured (risk before/after, suppressed, ...)",
    "notes": "string (optional)",
}
"""Keys of an anonymisation plan, the payload of every proposal, counter-proposal and agreement."""


def validate_plan(plan: Mapping[str, Any]) -> list[Problem]:
    """Problems with an anonymisation plan's shape (see `ANONYMISATION_PLAN_SCHEMA`)."""
    problems: list[Problem] = []
    unknown = sorted(set(plan) - set(ANONYMISATION_PLAN_SCHEMA))
    if unknown:
        problems.append(Problem(f"unknown plan field(s): {', '.join(unknown)}", column="plan"))
    levels = plan.get("levels")
    if not isinstance(levels, Mapping) or not levels:
        problems.append(Problem("levels must map each quasi-identifier to a level", column="plan.levels"))
    elif any(not isinstance(v, str | int) or isinstance(v, bool) for v in levels.values()):
        problems.append(Problem("each level is a level name or number", column="plan.levels"))
    k = plan.get("k")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        problems.append(Problem("k must be an integer >= 1", column="plan.k", value=str(k)))
    lv = plan.get("l")
    if lv is not None and (not isinstance(lv, int | float) or isinstance(lv, bool) or lv < 1):
        problems.append(Problem("l must be a number >= 1 or null", column="plan.l", value=str(lv)))
    for key, allowed in (
        ("unit", PLAN_UNITS),
        ("l_variant", PLAN_L_VARIANTS),
        ("t_variant", PLAN_T_VARIANTS),
        ("metric", PLAN_METRICS),
        ("method", PLAN_METHODS),
    ):
        if key in plan and plan[key] not in allowed:
            problems.append(
                Problem(
                    f"{key} must be one of {', '.join(allowed)}", column=f"plan.{key}", value=str(plan[key])
                )
            )
    c = plan.get("c")
    if c is not None and (not isinstance(c, int | float) or isinstance(c, bool) or c <= 0):
        problems.append(Problem("c must be a number > 0 or null", column="plan.c", value=str(c)))
    if plan.get("l_variant") == "recursive" and lv is not None and c is None:
        problems.append(Problem("recursive (c,l)-diversity needs c", column="plan.c"))
    attacker = plan.get("attacker", [])
    if not isinstance(attacker, list | tuple) or any(not isinstance(a, str) for a in attacker):
        problems.append(Problem("attacker must be a list of column names", column="plan.attacker"))
    items = plan.get("items_known")
    if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items < 0):
        problems.append(
            Problem(
                "items_known must be an integer >= 0 or null", column="plan.items_known", value=str(items)
            )
        )
    if "max_levels" in plan and not isinstance(plan["max_levels"], Mapping):
        problems.append(Problem("max_levels must map quasi-identifiers to levels", column="plan.max_levels"))
    if "local_suppression" in plan and not isinstance(plan["local_suppression"], bool):
        problems.append(Problem("local_suppression must be true or false", column="plan.local_suppression"))
    t = plan.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 1):
        problems.append(Problem("t must be in (0, 1] or null", column="plan.t", value=str(t)))
    ms = plan.get("max_suppression")
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= 1:
        problems.append(
            Problem("max_suppression must be a share in [0, 1]", column="plan.max_suppression", value=str(ms))
        )
    sens = plan.get("sensitive", [])
    if not isinstance(sens, list | tuple) or any(not isinstance(s, str) for s in sens):
        problems.append(Problem("sensitive must be a list of variable names", column="plan.sensitive"))
    if "results" in plan and not isinstance(plan["results"], Mapping):
        problems.append(Problem("results must be an object", column="plan.results"))
    return problems


def plan_below_required(
    plan: Mapping[str, Any], decisions: Iterable[VariableDecision], catalogue: CatalogueView
) -> list[Problem]:
    """Plan levels a delivery cannot apply, and variables left finer than the decision requires.

    Levels are the deliverable levels of the catalogue (`iplos.catalog.deliverable`), the same
    names a decision and the letter use; a level may also be given by number (0 = as recorded).
    """
    problems: list[Problem] = []
    levels = plan.get("levels")
    if not isinstance(levels, Mapping):
        return problems
    for d in decisions:
        if d.outcome == "denied" or d.name not in levels:
            continue
        given = levels[d.name]
        try:
            names = catalogue.deliverable_levels(d.name, d.register)
        except IplosError:
            continue
        column = f"plan.levels.{d.name}"
        if not names:
            if given not in (0, None):
                problems.append(
                    Problem(
                        f"{d.name} is delivered as it is: it has no levels",
                        column=column,
                        value=str(given),
                        rule="deliverable_level",
                    )
                )
            continue
        if isinstance(given, int):
            position: int | None = given if 0 <= given < len(names) else None
        else:
            position = names.index(given) if given in names else None
        if position is None:
            problems.append(
                Problem(
                    f"not a level {d.name} can be delivered at; levels: {', '.join(names)}",
                    column=column,
                    value=str(given),
                    rule="deliverable_level",
                )
            )
            continue
        if d.outcome == "coarsened" and d.level in names and position < names.index(d.level):
            problems.append(
                Problem(
                    f"finer than the decision allows: {d.name} must be at least at level {d.level!r}",
                    column=column,
                    value=str(given),
                    rule="required_coarsening",
                )
            )
    return problems


def level_options(content: Application, catalogue: CatalogueView) -> dict[str, tuple[str, ...]]:
    """'register.name' -> the levels a reviewer may require for each requested variable (may be empty)."""
    out: dict[str, tuple[str, ...]] = {}
    for v in content.variables:
        try:
            out[f"{v.register}.{v.name}"] = catalogue.deliverable_levels(v.name, v.register)[1:]
        except IplosError:
            out[f"{v.register}.{v.name}"] = ()
    return out
