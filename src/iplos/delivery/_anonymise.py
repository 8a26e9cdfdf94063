"""Find, weigh and agree the anonymisation of an extract (the processor's side of the negotiation).

Thin over `iplos.release`, the one release path: `propose` searches the person-level optimum with
the agreed criteria and the reviewer's coarsening as lower bounds; `evaluate` carries out any plan
(the processor's, or the applicant's counter-proposal) and measures it, so each round is judged on
the same figures; `to_case_plan` / `from_case_plan` translate to the JSON a case records, refusing
a plan the release cannot enforce on the extract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from iplos.catalog import Hierarchy
from iplos.delivery._case import Anonymisation
from iplos.delivery._documents import risk_from_sizes, size_histogram
from iplos.delivery._hierarchies import as_leaf, catalog_variable
from iplos.engine import Engine
from iplos.errors import IplosError
from iplos.release import (
    DEFAULT_ITEMS_KNOWN,
    Criteria,
    Outcome,
    PersonTable,
    Plan,
    evaluate_plan,
    from_case,
    release_table,
    released_risk,
    search_plan,
    to_case,
)
from iplos.release._items import TABLE
from iplos.sdc import FrequencyTable, assess_risk


@dataclass(frozen=True)
class Applied:
    """The released table (generalised, suppressed persons removed) and what suppression removed."""

    data: pd.DataFrame
    suppressed: int
    class_sizes: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Evaluation:
    """A plan carried out on the extract, with the figures the applicant and the report see."""

    plan: Plan
    applied: Applied
    records_before: int
    sizes_before: npt.NDArray[np.int64]
    outcome: Outcome

    @property
    def persons_before(self) -> int:
        return self.outcome.n_persons if self.plan.criteria.unit == "person" else self.records_before

    @property
    def suppressed_share(self) -> float:
        """The share the budget counts: persons (unit person) or records."""
        return self.outcome.suppressed_share

    @property
    def acceptable(self) -> bool:
        """Whether the plan meets the criteria within the allowed suppression."""
        return self.outcome.acceptable

    def risk_before(self) -> dict[str, float | int]:
        return risk_from_sizes(self.sizes_before, self.plan.criteria.k)

    def risk_after(self) -> dict[str, float | int]:
        """Prosecutor risk of the release. Under (k, k^m) the attacker who picks a person's best m
        rows of the other tables narrows them to their key's persons, never fewer than k but fewer
        than their class of equal trajectory: the highest and average risk are then theirs."""
        risk = risk_from_sizes(self.applied.class_sizes, self.plan.criteria.k)
        support = self.outcome.key_support
        if support is not None and support.size:
            risk["highest"] = max(float(risk["highest"]), float(1.0 / support.min()))
            risk["average"] = max(float(risk["average"]), float(np.mean(1.0 / support)))
            risk["smallest_class"] = min(int(risk["smallest_class"]), int(support.min()))
        return risk

    def results(self) -> dict[str, Any]:
        """The `results` of a case plan: what this plan does to the extract."""
        return {
            "unit": self.plan.criteria.unit,
            "records_before": self.records_before,
            "persons_before": self.persons_before,
            "suppressed": self.applied.suppressed,
            "suppressed_persons": self.outcome.suppressed_persons,
            "suppressed_share": round(self.suppressed_share, 6),
            "acceptable": self.acceptable,
            "risk_before": self.risk_before(),
            "risk_after": self.risk_after(),
        }


def _search_plan(setup: Anonymisation, criteria: Criteria, items_known: int | None) -> Plan:
    sensitive = setup.sensitive if criteria.l is not None or criteria.t is not None else ()
    return Plan(
        criteria,
        setup.quasi_identifiers,
        {q.column: q.min_level for q in setup.quasi_identifiers},
        sensitive,
        items_known=items_known if TABLE in setup.hierarchies else None,
    )


def propose(
    engine: Engine,
    table: pa.Table,
    setup: Anonymisation,
    criteria: Criteria,
    items_known: int | None = DEFAULT_ITEMS_KNOWN,
) -> tuple[Plan, Outcome]:
    """The least-generalised plan that meets the criteria (the processor's proposal).

    On a multi-table extract the attacker knows each person's person-year trajectory and at most
    `items_known` of their other-table rows ((k, k^m)-anonymity; None: every row of every table).
    """
    plan = _search_plan(setup, criteria, items_known)
    outcome = search_plan(engine, table, plan, setup.hierarchies, list_all=True)
    assert outcome.search is not None
    note = (
        f"optimal under {outcome.search.utility} for {criteria.unit}s: "
        f"{outcome.search.evaluated} of {outcome.search.lattice_size} nodes evaluated"
    )
    return replace(outcome.plan, note=note), outcome


def steer(
    setup: Anonymisation, min_levels: Mapping[str, str], max_levels: Mapping[str, str]
) -> Anonymisation:
    """The extract's setup with the processor's bounds (level names) on top of the reviewer's.

    A lower bound finer than the reviewer's coarsening leaves the reviewer's; an upper bound below
    the lower one is an error naming the column.
    """
    names = {q.column for q in setup.quasi_identifiers}
    unknown = sorted((set(min_levels) | set(max_levels)) - names)
    if unknown:
        raise IplosError(
            f"level bounds for {', '.join(unknown)}, which are not quasi-identifiers of the extract"
        )
    qis = []
    for q in setup.quasi_identifiers:
        h = setup.hierarchies[q.column]
        low = max(q.min_level, h.level(min_levels[q.column])) if q.column in min_levels else q.min_level
        high = h.level(max_levels[q.column]) if q.column in max_levels else q.max_level
        if high is not None and q.max_level is not None:
            high = min(high, q.max_level)
        if high is not None and high < low:
            raise IplosError(
                f"{q.column}: the coarsest level {h.level_names[high]!r} is finer than the required "
                f"{h.level_names[low]!r}"
            )
        qis.append(replace(q, min_level=low, max_level=high))
    return replace(setup, quasi_identifiers=tuple(qis))


def _frame(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas()
    return frame


def evaluate(
    engine: Engine,
    table: pa.Table,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    signatures: PersonTable | None = None,
) -> Evaluation:
    """Carry out `plan` and measure it (class sizes counted in persons, or records for unit record).

    `signatures`, when given, are the extract's signatures as the plan judges them (from a search
    on the same extract and criteria), so they are not grouped again.
    """
    outcome = evaluate_plan(engine, table, plan, hierarchies, table=signatures)
    released = release_table(table, outcome, hierarchies)
    applied = Applied(
        data=_frame(released),
        suppressed=outcome.suppressed_records,
        class_sizes=outcome.class_sizes_after,
    )
    return Evaluation(
        plan=plan,
        applied=applied,
        records_before=table.num_rows,
        sizes_before=outcome.class_sizes_before,
        outcome=outcome,
    )


def assessment(frame: pd.DataFrame, quasi_identifiers: Sequence[str], top: int = 10) -> dict[str, Any]:
    """`iplos.sdc.assess_risk` of a table as it stands, record by record (values as text): risk per
    attacker model, sample uniques, and what drives the risk (SUDA: each variable's contribution, the
    quasi-identifier combinations that make most records unique)."""
    columns = {c: [as_leaf(v) for v in frame[c].tolist()] for c in quasi_identifiers}
    flat = {
        c: Hierarchy.from_rows(c, [[v, "*"] for v in sorted(set(values))] or [["", "*"]])
        for c, values in columns.items()
    }
    report = assess_risk(FrequencyTable.from_columns(columns, list(quasi_identifiers), flat))
    out: dict[str, Any] = {
        "records": report.n_records,
        "classes": report.n_classes,
        "k": report.k,
        "sample_uniques": report.sample_uniques,
        "threshold": report.threshold,
        "prosecutor": asdict(report.prosecutor),
        "journalist": asdict(report.journalist),
        "marketer": report.marketer,
    }
    if report.suda is not None:
        subsets = sorted(report.suda.msu_by_subset.items(), key=lambda kv: -kv[1])[:top]
        out["suda"] = {
            "contribution": {k: round(v, 4) for k, v in report.suda.contribution.items()},
            "records_with_msu": report.suda.records_with_msu,
            "top_unique_combinations": [{"variables": k, "msus": v} for k, v in subsets],
        }
    return out


def alternatives(outcome: Outcome, hierarchies: Mapping[str, Hierarchy], n: int = 10) -> list[dict[str, Any]]:
    """The best other plans that also meet the criteria (least loss first), for the applicant to choose."""
    result = outcome.search
    if result is None:
        return []
    ranked = sorted(
        (node for node in result.satisfying if node.levels != result.levels),
        key=lambda node: (node.metrics.get(result.utility, float("inf")), sum(node.levels)),
    )
    return [
        {
            "levels": {
                q: hierarchies[q].level_names[level]
                for q, level in zip(result.quasi_identifiers, node.levels, strict=True)
            },
            "suppressed_persons": node.suppressed_persons,
            "suppressed": node.suppressed_records,
            "classes": node.classes,
            "smallest_class": node.smallest_class,
            "highest_risk": round(node.highest_risk, 6),
            result.utility: round(node.metrics.get(result.utility, float("nan")), 6),
        }
        for node in ranked[:n]
    ]


def histograms(evaluation: Evaluation) -> dict[str, list[dict[str, Any]]]:
    return {
        "class_sizes_before": size_histogram(evaluation.sizes_before),
        "class_sizes_after": size_histogram(evaluation.applied.class_sizes),
    }


def to_case_plan(
    plan: Plan, hierarchies: Mapping[str, Hierarchy], evaluation: Evaluation | None
) -> dict[str, Any]:
    """The plan as a case records it (level names; see `iplos.cases.ANONYMISATION_PLAN_SCHEMA`)."""
    return to_case(plan, hierarchies, evaluation.results() if evaluation is not None else None)


def from_case_plan(data: Mapping[str, Any], setup: Anonymisation) -> Plan:
    """A case's plan on the extract; every problem at once when the release cannot enforce it."""
    return from_case(data, setup.quasi_identifiers, setup.hierarchies, setup.sensitive)


HOURS = ("timer_per_uke",)


def acquaintance_columns(columns: Sequence[str]) -> dict[str, str]:
    """Delivered columns an acquaintance would know for one year: hours per week (in bands) and the
    functional scores (in groups), as `iplos.release.released_risk` takes them."""
    out: dict[str, str] = {}
    for name in columns:
        variable = catalog_variable("", name)
        if name in HOURS:
            out[name] = "hours"
        elif variable is not None and "functional_score" in variable.hierarchies:
            out[name] = "score"
    return out


def risk_views(
    engine: Engine, before: pa.Table, after: pd.DataFrame, plan: Plan, columns: Sequence[str]
) -> dict[str, Any]:
    """Record-level, person-level and acquaintance risk, before and after, for the disclosure report.

    The attacker knows the plan's known columns (the quasi-identifiers by default) of every person
    in every year; the acquaintance also knows one year's hours band and functional score groups.
    """
    acquaintance = acquaintance_columns([c for c in columns if c not in plan.known])
    released = pa.Table.from_pandas(after[[c for c in after.columns]], preserve_index=False)
    key = plan.person_key
    out: dict[str, Any] = {
        "attacker_knows": list(plan.known),
        "acquaintance_knows": {
            c: ("hours band" if k == "hours" else "score group") for c, k in acquaintance.items()
        },
    }
    for name, table in (("before", before), ("after", released)):
        figures = released_risk(engine, table, list(plan.known), key, acquaintance)
        out[name] = {view: fig.to_dict() for view, fig in figures.items()}
    return out
