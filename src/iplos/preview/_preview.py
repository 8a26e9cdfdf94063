"""What a case's quasi-identifiers reveal, and what a plan would do, before anything is filed.

`risk_preview(case, register)` links the draft as if it were granted in full, on a synthetic
register (`SyntheticRegister`; no real data), and measures the persons' classes at the requested
levels: the share of persons in classes under k, the uniques and the expected number of persons
an attacker re-identifies (the prosecutor's view: one per class). It then runs the release search
(`iplos.delivery.propose`, over `iplos.release.search_plan`) for the coarsenings that would make
the extract anonymous, with the best alternatives.

`counter_consequences(case, plan, ...)` carries out an applicant's counter-proposal (a plan as the
case records it) with `iplos.release.evaluate_plan`: on the case's own linked extract when the
processor has linked it and the register is at hand, else on the synthetic register, and says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pyarrow as pa

from iplos.cases import Case
from iplos.cases.model import RegisterApproval, VariableDecision
from iplos.config import Settings
from iplos.delivery import (
    Anonymisation,
    Criteria,
    alternatives,
    anonymisation_setup,
    evaluate,
    linkage_request,
    propose,
    required_levels,
    risk_from_sizes,
)
from iplos.engine import connect
from iplos.errors import IplosError, Problem
from iplos.ident import KeyStore
from iplos.linkage import link
from iplos.preview._synthetic import SyntheticRegister
from iplos.release import Plan, from_case

Basis = Literal["synthetic", "extract"]
ALTERNATIVES = 5


@dataclass(frozen=True)
class PersonRisk:
    """Prosecutor risk of persons' classes (a class: persons with the same values in every year)."""

    persons: int
    classes: int
    uniques: int
    in_small_classes: int  # persons in classes of fewer than k
    highest: float
    expected_reidentified: float  # one per class: the prosecutor's expected correct matches

    @property
    def small_share(self) -> float:
        return self.in_small_classes / self.persons if self.persons else 0.0

    @property
    def expected_share(self) -> float:
        return self.expected_reidentified / self.persons if self.persons else 0.0

    @classmethod
    def of(cls, sizes: Any, k: int) -> PersonRisk:
        figures = risk_from_sizes(sizes, k)
        persons = int(figures["records"])
        return cls(
            persons=persons,
            classes=int(figures["classes"]),
            uniques=int(figures["uniques"]),
            in_small_classes=round(float(figures["share_at_risk"]) * persons),
            highest=float(figures["highest"]),
            expected_reidentified=float(figures["classes"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "classes": self.classes,
            "uniques": self.uniques,
            "in_small_classes": self.in_small_classes,
            "small_share": round(self.small_share, 6),
            "highest": round(self.highest, 6),
            "expected_reidentified": self.expected_reidentified,
            "expected_share": round(self.expected_share, 6),
        }


@dataclass(frozen=True)
class Coarsening:
    """Levels per quasi-identifier (level names) and what releasing at them suppresses."""

    levels: Mapping[str, str]
    suppressed_persons: int
    highest_risk: float
    loss: float | None
    acceptable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "levels": dict(self.levels),
            "suppressed_persons": self.suppressed_persons,
            "highest_risk": round(self.highest_risk, 6),
            "loss": None if self.loss is None else round(self.loss, 6),
            "acceptable": self.acceptable,
        }


@dataclass(frozen=True)
class RiskPreview:
    """The draft's quasi-identifiers measured on the synthetic register, and the way to anonymity."""

    basis: Basis
    criteria: Criteria
    quasi_identifiers: tuple[str, ...] = ()
    records: int = 0
    as_requested: PersonRisk | None = None
    suppressed_as_requested: int = 0  # persons the criteria would suppress at the requested levels
    anonymous_as_requested: bool = False
    suggestion: Coarsening | None = None
    alternatives: tuple[Coarsening, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    notes: tuple[Problem, ...] = ()  # why no coarsening is suggested (none meets the criteria)

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "notes": [_problem(p) for p in self.notes],
            "criteria": {"k": self.criteria.k, "max_suppression": self.criteria.max_suppressed},
            "quasi_identifiers": list(self.quasi_identifiers),
            "records": self.records,
            "as_requested": self.as_requested.to_dict() if self.as_requested else None,
            "suppressed_as_requested": self.suppressed_as_requested,
            "anonymous_as_requested": self.anonymous_as_requested,
            "suggestion": self.suggestion.to_dict() if self.suggestion else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "problems": [_problem(p) for p in self.problems],
        }


@dataclass(frozen=True)
class Consequences:
    """A counter-proposal carried out: suppressed persons, risk before and after, information loss."""

    basis: Basis
    coarsening: Coarsening | None = None
    persons: int = 0
    suppressed_share: float = 0.0
    before: PersonRisk | None = None
    after: PersonRisk | None = None
    problems: tuple[Problem, ...] = ()
    at_finest: tuple[str, ...] = ()  # quasi-identifiers the plan leaves out, measured at their finest

    def to_dict(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "persons": self.persons,
            "suppressed_share": round(self.suppressed_share, 6),
            "plan": self.coarsening.to_dict() if self.coarsening else None,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "at_finest": list(self.at_finest),
            "problems": [_problem(p) for p in self.problems],
        }


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "message": problem.message,
        "column": problem.column,
        "value": problem.value,
        "rule": problem.rule,
    }


def as_if_granted(case: Case) -> Case:
    """The case as if every variable, register and årgang it asks for were granted in full."""
    decisions = {
        f"{v.register}.{v.name}": VariableDecision(v.register, v.name, "granted")
        for v in case.content.variables
    }
    registers = {"iplos", "kpr", *(link.register for link in case.content.linkages)}
    approvals: dict[str, RegisterApproval] = {r: RegisterApproval(r, "granted") for r in sorted(registers)}
    return replace(case, outcome="approved", variable_decisions=decisions, register_approvals=approvals)


def _problems(exc: IplosError) -> tuple[Problem, ...]:
    return tuple(exc.problems) or (Problem(exc.message, column="preview"),)


def _linked(settings: Settings, case: Case) -> tuple[pa.Table, Anonymisation, dict[str, str]]:
    """The case's extract linked on the register of `settings`, its anonymisation setup, and each
    variable's extract column (`fodselsaar` becomes `alder`)."""
    request = linkage_request(case)
    engine = connect(settings, "duckdb")
    try:
        extract = link(engine, KeyStore.open(settings), request)
    finally:
        engine.close()
    if extract.report.rows == 0:
        raise IplosError(
            "nobody in the register fits the population and årganger",
            [Problem("no person fits the population in these årganger", column="population")],
        )
    setup = anonymisation_setup(extract.columns, request.years, required_levels(case))
    return extract.table, setup, {str(out.source.column): out.name for out in extract.columns}


def on_extract(
    plan: Mapping[str, Any], setup: Anonymisation, columns: Mapping[str, str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A plan as the pages write it (levels keyed by variable, only those it coarsens) on the extract:
    levels keyed by extract column, and each quasi-identifier it leaves out at its finest allowed
    level (returned too, so the page can say so)."""
    levels_in = plan.get("levels")
    levels: dict[str, Any] = {}
    if isinstance(levels_in, Mapping):
        for name, level in levels_in.items():
            levels[columns.get(str(name), str(name))] = level
    unnamed = tuple(q.column for q in setup.quasi_identifiers if q.column not in levels)
    for q in setup.quasi_identifiers:
        if q.column in unnamed:
            levels[q.column] = setup.hierarchies[q.column].level_names[q.min_level]
    data: dict[str, Any] = {**plan, "levels": levels}
    if isinstance(plan.get("sensitive"), list):
        data["sensitive"] = [columns.get(str(name), str(name)) for name in plan["sensitive"]]
    return data, unnamed


def _coarsening(plan: Plan, setup: Anonymisation, node: Any, metric: str) -> Coarsening:
    return Coarsening(
        levels={
            q.column: setup.hierarchies[q.column].level_names[plan.levels[q.column]]
            for q in plan.quasi_identifiers
        },
        suppressed_persons=int(node.suppressed_persons),
        highest_risk=float(node.highest_risk),
        loss=node.metrics.get(metric),
        acceptable=bool(node.satisfies),
    )


def risk_preview(case: Case, register: SyntheticRegister, criteria: Criteria | None = None) -> RiskPreview:
    """How identifying the draft's quasi-identifiers are, and which coarsenings would make it anonymous."""
    criteria = criteria or Criteria()
    try:
        table, setup, _ = _linked(register.settings(), as_if_granted(case))
    except IplosError as exc:
        return RiskPreview("synthetic", criteria, problems=_problems(exc))
    qis = tuple(q.column for q in setup.quasi_identifiers)
    finest = Plan(criteria, setup.quasi_identifiers, {q.column: q.min_level for q in setup.quasi_identifiers})
    unreachable: tuple[Problem, ...] = ()
    engine = connect(register.settings(), "duckdb")
    try:
        requested = evaluate(engine, table, finest, setup.hierarchies).outcome
        try:
            plan, outcome = propose(engine, table, setup, criteria)
        except IplosError as exc:  # no levels within the bounds meet the criteria
            plan, outcome, unreachable = finest, None, (Problem(exc.message, column="preview.suggestion"),)
    finally:
        engine.close()
    base = RiskPreview(
        basis="synthetic",
        criteria=criteria,
        quasi_identifiers=qis,
        records=table.num_rows,
        as_requested=PersonRisk.of(requested.class_sizes_before, criteria.k),
        suppressed_as_requested=requested.suppressed_persons,
        anonymous_as_requested=requested.acceptable,
        notes=unreachable,
    )
    if outcome is None or outcome.search is None:
        return base
    search = outcome.search
    others = tuple(
        Coarsening(
            levels=dict(alt["levels"]),
            suppressed_persons=int(alt["suppressed_persons"]),
            highest_risk=float(alt["highest_risk"]),
            loss=alt.get(search.utility),
        )
        for alt in alternatives(outcome, setup.hierarchies, ALTERNATIVES)
    )
    return replace(
        base, suggestion=_coarsening(plan, setup, outcome.node, search.utility), alternatives=others
    )


def counter_consequences(
    case: Case,
    plan: Mapping[str, Any],
    synthetic: SyntheticRegister,
    register: Settings | None = None,
) -> Consequences:
    """A counter-proposal's consequences: on the case's linked extract if the processor has linked it
    and `register` holds it, else on the synthetic register (`basis` says which)."""
    basis: Basis = "extract" if register is not None and case.linkage_summary is not None else "synthetic"
    try:
        if basis == "extract":
            assert register is not None
            settings = register
            table, setup, columns = _linked(register, case)
        else:
            settings = synthetic.settings()
            table, setup, columns = _linked(settings, case if case.outcome else as_if_granted(case))
        data, unnamed = on_extract(plan, setup, columns)
        chosen = from_case(data, setup.quasi_identifiers, setup.hierarchies, setup.sensitive)
    except IplosError as exc:
        return Consequences(basis, problems=_problems(exc))
    engine = connect(settings, "duckdb")
    try:
        evaluation = evaluate(engine, table, chosen, setup.hierarchies)
    finally:
        engine.close()
    outcome = evaluation.outcome
    k = chosen.criteria.k
    return Consequences(
        basis=basis,
        coarsening=_coarsening(chosen, setup, outcome.node, chosen.metric),
        persons=outcome.n_persons,
        suppressed_share=outcome.suppressed_share,
        before=PersonRisk.of(outcome.class_sizes_before, k),
        after=PersonRisk.of(outcome.class_sizes_after, k),
        at_finest=unnamed,
    )
