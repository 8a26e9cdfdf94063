"""Protect a table: primary suppression, secondary suppression, audit; or the cell key method.

The result, `ProtectedTable`, carries one flag per cell (published, primary, secondary,
perturbed), the values to publish (NaN where suppressed) and the disclosure report. The report
never holds the true value of a suppressed cell, nor anything it could be computed from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc.tables._audit import INTERVAL_NOTES, AuditResult, IntervalMode, audit
from iplos.sdc.tables._cellkey import PerturbationTable, perturb
from iplos.sdc.tables._hypercube import hypercube_suppression
from iplos.sdc.tables._optimal import optimal_suppression
from iplos.sdc.tables._protection import ProtectionLevels
from iplos.sdc.tables._rules import (
    GroupDisclosure,
    MinCount,
    PrimaryResult,
    Rule,
    primary_suppression,
    rule_protection,
)
from iplos.sdc.tables._table import FloatArray, Table

Method = Literal["optimal", "fast", "none"]
CostKind = Literal["value", "contributors", "unity"]

PUBLISHED, PRIMARY, SECONDARY, PERTURBED = 0, 1, 2, 3
FLAG_NAMES = ("published", "primary", "secondary", "perturbed")


@dataclass(frozen=True, eq=False)
class ProtectedTable:
    """A table ready to publish: flags, published values, and how they were reached."""

    table: Table
    flags: npt.NDArray[np.int8]
    published: FloatArray
    primary: PrimaryResult | None = None
    method: str = "none"
    audit: AuditResult | None = None
    protection: ProtectionLevels | None = None
    rules: tuple[str, ...] = ()
    perturbation: PerturbationTable | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def suppressed(self) -> npt.NDArray[np.bool_]:
        return np.asarray((self.flags == PRIMARY) | (self.flags == SECONDARY), dtype=bool)

    def counts(self) -> dict[str, int]:
        return {name: int((self.flags == i).sum()) for i, name in enumerate(FLAG_NAMES)}

    def report(self) -> dict[str, Any]:
        """The disclosure report (JSON-ready): parameters, flag counts, audit per suppressed cell."""
        t = self.table
        out: dict[str, Any] = {
            "table": {
                "dimensions": [
                    {"name": d.name, "levels": list(d.level_names), "categories": d.size}
                    for d in t.dimensions
                ],
                "cells": t.n_cells,
                "kind": t.kind,
                "statistic": t.statistic,
                "unit": t.unit,
                "value": t.value_name,
            },
            "method": self.method,
            "rules": list(self.rules),
            "flags": self.counts(),
            **self.details,
        }
        if self.protection is not None:
            out["protection"] = self.protection.as_dict()
        if self.perturbation is not None:
            out["perturbation"] = self.perturbation.as_dict()
        if self.audit is not None:
            a = self.audit
            out["audit"] = {
                "passed": a.passed,
                "suppressed": int(a.suppressed.sum()),
                "checked": int(a.checked.sum()),
                "failing": int(a.failing.size),
                "exactly_derivable": int(a.exact.size),
                "intervals": a.intervals,
                "intervals_note": INTERVAL_NOTES[a.intervals],
                "linear_programs": a.linear_programs,
                "components": a.components,
                "seconds": round(a.seconds, 3),
                "cells": [
                    {
                        **t.labels_of(int(c)),
                        "flag": FLAG_NAMES[int(self.flags[c])],
                        "lower": _num(a.lower[c]),
                        "upper": _num(a.upper[c]),
                        "protected": bool(a.ok[c]) if a.checked[c] else None,
                        "exact": bool(a.exact_cells[c]) if a.exact_cells is not None else True,
                    }
                    for c in np.flatnonzero(a.suppressed)
                ],
            }
        return out


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 6)


def default_rules(table: Table, min_count: int = 5) -> list[Rule]:
    """Minimum count and group disclosure (the defaults of `iplos tables`)."""
    return [MinCount(min_count), GroupDisclosure()]


def suppression_cost(table: Table, kind: CostKind = "value") -> FloatArray:
    """Information lost by suppressing each cell: its value (+1, so empty cells are not free),
    its number of contributors (+1), or 1 per cell."""
    if kind == "value":
        return np.asarray(table.values + 1.0, dtype=np.float64)
    if kind == "contributors":
        return np.asarray(table.contributors + 1.0, dtype=np.float64)
    if kind == "unity":
        return np.ones(table.n_cells)
    raise IplosError(f"unknown suppression cost {kind!r}; use value, contributors or unity")


def protect(
    table: Table,
    rules: Sequence[Rule] | None = None,
    *,
    secondary: Method = "fast",
    protection: ProtectionLevels | None = None,
    cost: CostKind = "value",
    time_limit: float = 60.0,
    run_audit: bool = True,
    audit_intervals: IntervalMode = "witnessed",
) -> ProtectedTable:
    """Suppress the sensitive cells and enough others that none can be recomputed, then audit.

    `secondary='optimal'` solves the minimum-cost problem (falling back to 'fast' when
    `time_limit` seconds pass first, noted in the report); 'fast' is the hypercube heuristic;
    'none' leaves primary suppression alone (which the audit will usually fail).
    `audit_intervals='exact'` reports every suppressed cell's exact attacker interval; the
    default 'witnessed' gives the same verdict faster (see `AuditResult`).
    """
    levels = protection or ProtectionLevels()
    chosen_rules = list(rules) if rules is not None else default_rules(table)
    primary = primary_suppression(table, chosen_rules)
    upper, lower = levels.required(table.values, rule_protection(table, chosen_rules))
    costs = suppression_cost(table, cost)
    details: dict[str, Any] = {}
    start = time.perf_counter()
    method: str = secondary
    if secondary == "none" or primary.count == 0:
        suppressed = primary.mask.copy()
    elif secondary == "optimal":
        # the fast pattern first: the search's starting incumbent, and the fallback
        fast, fallbacks = hypercube_suppression(
            table.dimensions, table.values, table.constraints, primary.mask, upper, lower, costs
        )
        remaining = max(time_limit - (time.perf_counter() - start), 0.0)
        outcome = optimal_suppression(
            table.values,
            table.constraints,
            primary.mask,
            upper,
            lower,
            costs,
            time_limit=remaining,
            incumbent=fast,
        )
        details["optimal"] = {
            "finished": outcome.finished,
            "proven_optimal": outcome.proven_optimal and outcome.finished,
            "rounds": outcome.rounds,
            "cuts": outcome.cuts,
            "master_seconds": round(outcome.master_seconds, 3),
            "check_seconds": round(outcome.check_seconds, 3),
        }
        if outcome.finished:
            suppressed = outcome.suppressed
        else:
            method = "fast (optimal ran out of time)"
            suppressed = fast
            details["fast"] = {"lp_fallbacks": fallbacks}
    elif secondary == "fast":
        suppressed, fallbacks = hypercube_suppression(
            table.dimensions, table.values, table.constraints, primary.mask, upper, lower, costs
        )
        details["fast"] = {"lp_fallbacks": fallbacks}
    else:
        raise IplosError(f"unknown secondary suppression method {secondary!r}; use optimal, fast or none")
    details["secondary_seconds"] = round(time.perf_counter() - start, 3)
    flags = np.zeros(table.n_cells, dtype=np.int8)
    flags[suppressed] = SECONDARY
    flags[primary.mask] = PRIMARY
    details["cost"] = {"kind": cost, "suppressed": round(float(costs[suppressed & ~primary.mask].sum()), 6)}
    result_audit = None
    if run_audit:
        result_audit = audit(
            table.constraints,
            table.values,
            suppressed,
            sensitive=primary.mask,
            upper_required=upper,
            lower_required=lower,
            intervals=audit_intervals,
        )
    published = np.where(suppressed, np.nan, table.published_values)
    return ProtectedTable(
        table=table,
        flags=flags,
        published=published,
        primary=primary,
        method=method,
        audit=result_audit,
        protection=levels,
        rules=tuple(r.name for r in chosen_rules),
        details=details,
    )


def perturb_table(table: Table, ptable: PerturbationTable | None = None) -> ProtectedTable:
    """The cell key alternative: every cell published with consistent noise, none suppressed."""
    pt = ptable or PerturbationTable()
    noisy = perturb(table, pt)
    return ProtectedTable(
        table=table,
        flags=np.full(table.n_cells, PERTURBED, dtype=np.int8),
        published=noisy,
        method="cell key",
        perturbation=pt,
    )
