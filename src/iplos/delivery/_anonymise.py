"""Find, weigh and agree the anonymisation of an extract (the processor's side of the negotiation).

`propose` runs the optimal search of `iplos.sdc` on the extract's frequency table with the agreed
criteria and the reviewer's required coarsening as lower bounds; `evaluate` carries out any plan
(the processor's or the applicant's counter-proposal) and measures it, so each round can be judged
on the same figures. `to_case_plan` / `from_case_plan` translate to the JSON a case records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from iplos.catalog import Hierarchy
from iplos.delivery._case import Anonymisation
from iplos.delivery._documents import risk_from_sizes, size_histogram
from iplos.delivery._hierarchies import as_leaf
from iplos.delivery._plan import Plan
from iplos.delivery._release import SERIAL, Criteria
from iplos.delivery._transform import Applied, apply_plan, class_keys
from iplos.errors import IplosError
from iplos.sdc import (
    DistinctLDiversity,
    FrequencyTable,
    KAnonymity,
    SearchConfig,
    SearchResult,
    assess_risk,
    search,
)


@dataclass(frozen=True)
class Evaluation:
    """A plan carried out on the extract, with the figures the applicant and the report see."""

    plan: Plan
    applied: Applied
    records_before: int
    sizes_before: npt.NDArray[np.int64]

    @property
    def suppressed_share(self) -> float:
        return self.applied.suppressed / self.records_before if self.records_before else 0.0

    @property
    def acceptable(self) -> bool:
        """Whether the plan meets the criteria within the allowed suppression."""
        return self.suppressed_share <= self.plan.criteria.max_suppressed + 1e-12

    def risk_before(self) -> dict[str, float | int]:
        return risk_from_sizes(self.sizes_before, self.plan.criteria.k)

    def risk_after(self) -> dict[str, float | int]:
        return risk_from_sizes(self.applied.class_sizes, self.plan.criteria.k)

    def results(self) -> dict[str, Any]:
        """The `results` of a case plan: what this plan does to the extract."""
        return {
            "records_before": self.records_before,
            "suppressed": self.applied.suppressed,
            "suppressed_share": round(self.suppressed_share, 6),
            "acceptable": self.acceptable,
            "risk_before": self.risk_before(),
            "risk_after": self.risk_after(),
        }


def frequency_table(frame: pd.DataFrame, setup: Anonymisation, with_sensitive: bool) -> FrequencyTable:
    """The extract's distinct quasi-identifier combinations (leaves as text) with their counts."""
    names = [q.column for q in setup.quasi_identifiers]
    sensitive = list(setup.sensitive) if with_sensitive else []
    columns = {c: [as_leaf(v) for v in frame[c].tolist()] for c in [*names, *sensitive]}
    return FrequencyTable.from_columns(columns, names, setup.hierarchies, sensitive=sensitive)


def _config(setup: Anonymisation, criteria: Criteria) -> SearchConfig:
    checks: list[Any] = [KAnonymity(criteria.k)]
    if criteria.l is not None:
        checks += [DistinctLDiversity(criteria.l, s) for s in setup.sensitive]
    return SearchConfig(
        criteria=tuple(checks),
        max_suppressed=criteria.max_suppressed,
        min_levels={q.column: q.min_level for q in setup.quasi_identifiers},
        max_levels={q.column: q.max_level for q in setup.quasi_identifiers if q.max_level is not None},
        list_all=True,
    )


def propose(frame: pd.DataFrame, setup: Anonymisation, criteria: Criteria) -> tuple[Plan, SearchResult]:
    """The least-generalised plan that meets the criteria (the processor's proposal)."""
    freq = frequency_table(frame, setup, with_sensitive=criteria.l is not None)
    result = search(freq, setup.hierarchies, _config(setup, criteria))
    plan = Plan(
        criteria=criteria,
        quasi_identifiers=setup.quasi_identifiers,
        levels=result.levels_by_name,
        sensitive=setup.sensitive if criteria.l is not None else (),
        note=f"optimal under {result.utility}: {result.evaluated} of {result.lattice_size} nodes evaluated",
    )
    return plan, result


def assessment(frame: pd.DataFrame, quasi_identifiers: Sequence[str], top: int = 10) -> dict[str, Any]:
    """`iplos.sdc.assess_risk` of a table as it stands (values as text): risk per attacker model,
    sample uniques, and what drives the risk (SUDA: each variable's contribution, the quasi-identifier
    combinations that make most records unique)."""
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


def alternatives(
    result: SearchResult, hierarchies: Mapping[str, Hierarchy], n: int = 10
) -> list[dict[str, Any]]:
    """The best other plans that also meet the criteria (least loss first), for the applicant to choose."""
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
            "suppressed": node.suppressed,
            result.utility: round(node.metrics.get(result.utility, float("nan")), 6),
        }
        for node in ranked[:n]
    ]


def evaluate(frame: pd.DataFrame, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> Evaluation:
    """Carry out `plan` and measure it (class sizes counted in persons)."""
    keys = class_keys(frame, [q.column for q in plan.quasi_identifiers])
    per_class = pd.DataFrame({"key": keys, "serial": frame[SERIAL].to_numpy()})
    sizes = np.asarray(per_class.groupby("key")["serial"].nunique().to_numpy(), dtype=np.int64)
    applied = apply_plan(frame, plan, hierarchies)
    return Evaluation(plan=plan, applied=applied, records_before=len(frame), sizes_before=sizes)


def histograms(evaluation: Evaluation) -> dict[str, list[dict[str, Any]]]:
    return {
        "class_sizes_before": size_histogram(evaluation.sizes_before),
        "class_sizes_after": size_histogram(evaluation.applied.class_sizes),
    }


def to_case_plan(
    plan: Plan, hierarchies: Mapping[str, Hierarchy], evaluation: Evaluation | None
) -> dict[str, Any]:
    """The plan as a case records it (level names; see `iplos.cases.ANONYMISATION_PLAN_SCHEMA`)."""
    data: dict[str, Any] = {
        "levels": {
            q.column: hierarchies[q.column].level_names[plan.levels[q.column]] for q in plan.quasi_identifiers
        },
        "k": plan.criteria.k,
        "l": plan.criteria.l,
        "t": None,
        "sensitive": list(plan.sensitive),
        "max_suppression": plan.criteria.max_suppressed,
    }
    if plan.note:
        data["notes"] = plan.note
    if evaluation is not None:
        data["results"] = evaluation.results()
    return data


def from_case_plan(data: Mapping[str, Any], setup: Anonymisation) -> Plan:
    """A case's plan as levels on the extract's hierarchies; every quasi-identifier must be named."""
    levels = data.get("levels")
    if not isinstance(levels, Mapping):
        raise IplosError("the agreed anonymisation plan has no levels")
    missing = [q.column for q in setup.quasi_identifiers if q.column not in levels and q.max_level != 0]
    unknown = [name for name in levels if name not in setup.hierarchies]
    if missing or unknown:
        raise IplosError(
            "the agreed anonymisation plan does not fit the extract: "
            f"quasi-identifiers without a level: {', '.join(missing) or 'none'}; "
            f"unknown names: {', '.join(unknown) or 'none'}"
        )
    numbers = {
        q.column: setup.hierarchies[q.column].level(levels.get(q.column, 0)) for q in setup.quasi_identifiers
    }
    criteria = Criteria(
        k=int(data.get("k", 5)),
        max_suppressed=float(data.get("max_suppression", 0.0)),
        l=None if data.get("l") is None else int(data["l"]),
    )
    sensitive = tuple(s for s in data.get("sensitive", ()) if s in setup.sensitive)
    return Plan(criteria, setup.quasi_identifiers, numbers, sensitive, str(data.get("notes", "")))
