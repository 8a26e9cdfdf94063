"""Linked tables: every table from the same data protected and audited together with the others.

Two tables of one population with different groupings of a column (4 age groups, and 0-79/80+)
are linked: each finest category of either is a sum of the categories of their common finest
cross-classification. That classification follows from the dimensions themselves: the input
values of a column fall into classes by the finest category they count in, in every table with
that column (values sharing their category everywhere are one class). Its cells, one per class
of every column, are the unknowns z of the joint model, and every leaf cell of every table is the
sum of the z it covers; each table's own sums link its margins to its leaves. A z that is the only
one in some table's leaf cell is that cell (no new unknown); the rest are never published.

The attacker of the joint model knows every published cell of every table, all these sums and
non-negativity: `JointModel.audit` gives each suppressed cell's interval over all of them at once
(the audit of `_audit`, on the joint constraint matrix). `protect_linked` protects a new table
jointly with earlier releases (whose cells are fixed: they are out): the new table is first
protected alone, then every primary cell of any table that the joint audit finds unprotected gets
the cheapest deviation of the joint model that moves it by its protection level while keeping
every published cell of the earlier tables fixed (as τ-ARGUS's and sdcTable's linked-table
suppression, with the links derived instead of declared); the cells of the new table that the
deviation moves are suppressed. Each deviation is a feasible attacker table, so the pattern
protects the cell by construction; the final joint audit checks all of them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from iplos.errors import IplosError
from iplos.sdc.tables._audit import AuditResult, IntervalMode, audit
from iplos.sdc.tables._build import CountUnit, build_table
from iplos.sdc.tables._joint import JointModel, hidden_truth, joint_model, joint_truth
from iplos.sdc.tables._neighbourhood import ColumnKey, column_key
from iplos.sdc.tables._protect import (
    PRIMARY,
    SECONDARY,
    CostKind,
    Method,
    ProtectedTable,
    default_rules,
    protect,
)
from iplos.sdc.tables._protection import ProtectionLevels
from iplos.sdc.tables._release import Release
from iplos.sdc.tables._rules import Rule, rule_protection
from iplos.sdc.tables._table import FloatArray, IntArray, Table

BoolArray = npt.NDArray[np.bool_]
RING_HOPS = 8  # sums away from the cell a deviation's program may reach before the whole one
RING_LIMIT = 30000  # cells in the largest ring program
STRUCTURE_FROM = 10000  # joint variables from which deviations look by structure first


@dataclass(frozen=True, eq=False)
class LinkedResult:
    """The new table protected jointly with earlier ones, and the joint audit of all of them."""

    table: ProtectedTable
    audit: AuditResult
    model: JointModel
    deviations: int
    unprotectable: tuple[int, ...]  # joint variables already given away by earlier releases

    @property
    def failing(self) -> IntArray:
        """Primary cells left unprotected by this release (not those earlier releases gave away)."""
        return np.setdiff1d(self.audit.failing, np.array(self.unprotectable, dtype=np.int64))

    @property
    def passed(self) -> bool:
        return self.failing.size == 0

    def given_away(self) -> list[dict[str, Any]]:
        """Where each primary cell is that earlier releases already pin below its protection."""
        return [self._where(v) for v in self.unprotectable]

    def report(self) -> dict[str, Any]:
        a = self.audit
        earlier = [r.name for r in self.model.releases[:-1]]
        return {
            "linked_with": earlier,
            "joint_audit": {
                "passed": self.passed,
                "tables": len(self.model.releases),
                "hidden_cells": self.model.n_hidden,
                "checked": int(a.checked.sum()),
                "failing": int(self.failing.size),
                "linear_programs": a.linear_programs,
                "components": a.components,
                "seconds": round(a.seconds, 3),
                "deviations": self.deviations,
                "given_away_earlier": self.given_away(),
                "given_away_note": (
                    "primary cells that the earlier releases alone already pin below their protection: "
                    "nothing in this table can protect them, suppressing them here changes nothing"
                ),
            },
        }

    def _where(self, var: int) -> dict[str, Any]:
        t, cell = self.model.locate(var)
        r = self.model.releases[t]
        shape = tuple(d.size for d in r.dimensions)
        nodes = np.unravel_index(cell, shape)
        return {
            "table": r.name,
            **{d.name: d.labels[int(i)] for d, i in zip(r.dimensions, nodes, strict=True)},
        }


def protect_linked(
    data: pd.DataFrame,
    table: Table,
    earlier: Sequence[Release],
    rules: Sequence[Rule] | None = None,
    *,
    name: str = "table",
    secondary: Method = "fast",
    protection: ProtectionLevels | None = None,
    cost: CostKind = "value",
    time_limit: float = 60.0,
    count: CountUnit = "persons",
    value: str | None = None,
    person_column: str | None = "pseudonym",
    audit_intervals: IntervalMode = "witnessed",
    max_rounds: int = 20,
) -> LinkedResult:
    """Protect `table` (built from `data`) jointly with the `earlier` releases of the same data.

    Earlier tables stay as published; cells of the new table are suppressed until the joint
    audit finds every primary cell of every table protected (or, for a cell an earlier release
    already gave away, reports it). `data` must hold every column of every table.
    """
    levels = protection or ProtectionLevels()
    alone = protect(
        table,
        rules,
        secondary=secondary,
        protection=levels,
        cost=cost,
        time_limit=time_limit,
        run_audit=False,
    )
    same = [r for r in earlier if r.quantity == Release.of(name, alone).quantity]
    missing = sorted({d.name for r in same for d in r.dimensions} - set(data.columns))
    if missing:
        raise IplosError(
            f"earlier releases of this data use columns {', '.join(missing)}, which the input lacks: "
            "linked protection needs them (give the full data)"
        )
    truths = []
    rule_levels = []
    chosen = list(rules) if rules is not None else default_rules(table)
    for r in same:
        rebuilt = build_table(
            data, r.dimensions, count=count, value=value, person_column=person_column, statistic="sum"
        )
        if not _matches(r, rebuilt):
            raise IplosError(
                f"earlier release {r.name!r} does not match this data (its published cells differ): "
                "it came from another version of the data"
            )
        truths.append(rebuilt.values)
        rule_levels.append(rule_protection(rebuilt, chosen))
    new_release = Release.of(name, alone)
    model = joint_model([*same, new_release])
    hidden = hidden_truth(model, data, count, value, person_column)
    truth = joint_truth(model, [*truths, table.values], hidden)
    t_new = len(same)
    pattern = [r.suppressed.copy() for r in model.releases]
    pattern[t_new] = alone.suppressed.copy()
    primary = model.primary()
    rule_levels += [rule_protection(table, chosen), np.zeros(model.n_hidden)]
    upper, lower = levels.required(truth, np.concatenate(rule_levels))
    costs = np.asarray(table.values + 1.0 if cost == "value" else np.ones(table.n_cells), dtype=np.float64)
    movable = np.zeros(model.n_vars, dtype=bool)
    movable[model.span(t_new)] = True
    movable[int(model.offsets[-1]) :] = True
    deviations = 0
    unprotectable: set[int] = set()
    by_col = model.matrix.tocsc()  # the deviations' rings, built once
    # and their neighbourhoods by structure, where the whole program is slow (on a small model
    # it is fast and finds the cheapest deviation, which a neighbourhood may miss)
    by_column = column_key(model) if model.n_vars > STRUCTURE_FROM else None
    start = time.perf_counter()
    result = None
    # each round's audit starts from what the last one saw and from the deviations found since:
    # the pattern only grows, so every attacker table seen before is still one
    witnesses: list[tuple[IntArray, FloatArray]] = []
    audit_programs, audit_seconds = 0, 0.0  # over every round (the report gives the total)
    for _ in range(max_rounds if secondary != "none" else 1):
        supp = model.suppressed(pattern)
        result = audit(
            model.matrix,
            truth,
            supp,
            sensitive=primary,
            upper_required=upper,
            lower_required=lower,
            intervals=audit_intervals,
            previous=result if audit_intervals == "witnessed" else None,
            witnesses=witnesses,
            prove_failing=secondary == "none",  # a failing cell gets a deviation, not a proof
        )
        witnesses = []
        audit_programs += result.linear_programs
        audit_seconds += result.seconds
        failing = [int(v) for v in result.failing if int(v) not in unprotectable]
        if not failing or secondary == "none":
            break
        # first one deviation per direction that moves every failing cell at once (one
        # program instead of one per cell); a cell it cannot serve gets a deviation of its own
        supp = model.suppressed(pattern)
        for direction in (1.0, -1.0):
            need = upper if direction > 0 else lower
            reach = result.upper if direction > 0 else result.lower
            short = [
                p
                for p in failing
                if need[p] > 1e-9
                and (
                    reach[p] < truth[p] + need[p] - 1e-6
                    if direction > 0
                    else reach[p] > truth[p] - need[p] + 1e-6
                )
            ]
            if len(short) < 2:
                continue
            joint = _joint_deviation(model, truth, supp, movable, short, direction, need, costs, t_new)
            if joint is None:
                continue
            cells, amounts, served = joint
            deviations += 1
            witnesses.append((cells, amounts))
            new_cells = cells[(cells >= model.offsets[t_new]) & (cells < model.offsets[t_new + 1])]
            pattern[t_new][new_cells - model.offsets[t_new]] = True
            done = np.zeros(model.n_vars, dtype=bool)
            done[served] = True
            if direction > 0:
                result_upper = result.upper.copy()
                result_upper[done] = np.maximum(result_upper[done], truth[done] + need[done])
                result = replace(result, upper=result_upper)
            else:
                result_lower = result.lower.copy()
                result_lower[done] = np.minimum(result_lower[done], truth[done] - need[done])
                result = replace(result, lower=result_lower)
        # each deviation is an attacker table of every later pattern (the pattern only grows):
        # a failing cell it already carries far enough needs no deviation of its own
        seen_hi, seen_lo = result.upper.copy(), result.lower.copy()
        for p in failing:
            supp = model.suppressed(pattern)
            for direction, level, reach in (
                (1.0, upper[p], seen_hi[p]),
                (-1.0, lower[p], seen_lo[p]),
            ):
                ok = reach >= truth[p] + level - 1e-6 if direction > 0 else reach <= truth[p] - level + 1e-6
                if ok or level <= 1e-9:
                    continue
                moved = _deviation(
                    model, truth, supp, movable, p, direction, level, costs, t_new, by_col, by_column
                )
                if moved is None:
                    unprotectable.add(p)
                    continue
                deviations += 1
                witnesses.append(moved)
                cells = moved[0]
                seen_hi[cells] = np.fmax(seen_hi[cells], truth[cells] + moved[1])
                seen_lo[cells] = np.fmin(seen_lo[cells], truth[cells] + moved[1])
                new_cells = cells[(cells >= model.offsets[t_new]) & (cells < model.offsets[t_new + 1])]
                pattern[t_new][new_cells - model.offsets[t_new]] = True
                supp = model.suppressed(pattern)
    assert result is not None
    if result.failing.size:  # the verdict on what is left, proven (and with the last deviations)
        result = audit(
            model.matrix,
            truth,
            model.suppressed(pattern),
            sensitive=primary,
            upper_required=upper,
            lower_required=lower,
            intervals=audit_intervals,
            previous=result if audit_intervals == "witnessed" else None,
            witnesses=witnesses,
        )
        audit_programs += result.linear_programs
        audit_seconds += result.seconds
    result = replace(result, linear_programs=audit_programs, seconds=audit_seconds)
    flags = alone.flags.copy()
    newly = pattern[t_new] & ~alone.suppressed
    flags[newly] = SECONDARY
    flags[alone.flags == PRIMARY] = PRIMARY
    published = np.where(pattern[t_new], np.nan, table.published_values)
    final = ProtectedTable(
        table=table,
        flags=flags,
        published=published,
        primary=alone.primary,
        method=alone.method + " + linked",
        audit=_table_audit(result, model, t_new),
        protection=levels,
        rules=alone.rules,
        details={**alone.details, "linked_seconds": round(time.perf_counter() - start, 3)},
    )
    return LinkedResult(final, result, model, deviations, tuple(sorted(unprotectable)))


def _matches(release: Release, rebuilt: Table) -> bool:
    """Whether the release's published cells are those of the table rebuilt from the data."""
    shown = ~release.suppressed & np.isfinite(release.published)
    values = rebuilt.published_values if release.statistic == "mean" else rebuilt.values
    return bool(np.allclose(values[shown], release.published[shown], atol=1e-6))


def from_same_data(
    release: Release,
    data: pd.DataFrame,
    count: CountUnit = "persons",
    value: str | None = None,
    person_column: str | None = "pseudonym",
) -> bool:
    """Whether `release` was published from these records (its published cells are theirs)."""
    if not {d.name for d in release.dimensions} <= set(data.columns):
        return False
    try:
        rebuilt = build_table(
            data,
            release.dimensions,
            count=count,
            value=value,
            person_column=person_column,
            statistic="mean" if release.statistic == "mean" else "sum",
        )
    except IplosError:  # values outside its categories: other records
        return False
    return _matches(release, rebuilt)


def _table_audit(joint: AuditResult, model: JointModel, t: int) -> AuditResult:
    """The joint audit restricted to one table's cells (its intervals are the joint ones)."""
    s = model.span(t)
    return AuditResult(
        lower=joint.lower[s],
        upper=joint.upper[s],
        suppressed=joint.suppressed[s],
        checked=joint.checked[s],
        ok=joint.ok[s],
        linear_programs=joint.linear_programs,
        components=joint.components,
        seconds=joint.seconds,
        intervals=joint.intervals,
        exact_cells=None if joint.exact_cells is None else joint.exact_cells[s],
    )


def _deviation(
    model: JointModel,
    truth: FloatArray,
    suppressed: BoolArray,
    movable: BoolArray,
    p: int,
    direction: float,
    level: float,
    cost_new: FloatArray,
    t_new: int,
    csc: sp.csc_matrix | None = None,
    by_column: ColumnKey | None = None,
) -> tuple[IntArray, FloatArray] | None:
    """Variables moved by the cheapest deviation d (matrix @ d = 0, truth + d >= 0) with
    d_p = direction * level that moves only unknown cells and cells of the new table; None when
    none exists (the earlier releases pin the cell). Returned as (variables, amounts): truth + d is
    an attacker table once those variables are suppressed."""
    n = model.n_vars
    weight = np.full(n, 1e-6)
    s = model.span(t_new)
    weight[s] = np.where(suppressed[s], 1e-6, cost_new / max(level, 1e-9) + 1e-6)
    free = movable | suppressed
    # first among the free cells a few sums away from p (a small program), ring by ring, then
    # everywhere: the cheapest deviation usually moves ~50-150 cells, but they lie 4-7 sums away
    # (a leaf, its link row, the hidden cells, another table's sums), so three rings were too few
    # and most cells fell through to the whole program (~1 s each at 60,000 variables)
    csr = model.matrix.tocsr()
    # first within the cell's own category of a column every table shares, with the margins and a
    # few sibling categories (`_neighbourhood`): programs of 2,000-8,000 cells, 0.02-0.2 s each
    for mask in by_column.masks(p, free) if by_column is not None else ():
        moved = _deviation_lp(csr, truth, weight, free, p, direction, level, np.flatnonzero(mask))
        if moved is not None:
            return moved
    by_col = model.matrix.tocsc() if csc is None else csc
    near = np.zeros(n, dtype=bool)
    near[p] = True
    ring = np.array([p], dtype=np.int64)
    seen_rows = np.zeros(csr.shape[0], dtype=bool)
    for hop in range(RING_HOPS):
        rows = np.unique(by_col[:, ring].indices)
        rows = rows[~seen_rows[rows]]
        seen_rows[rows] = True
        reach = np.unique(csr[rows].indices)
        ring = reach[free[reach] & ~near[reach]]
        if ring.size == 0:
            break
        near[ring] = True
        size = int(near.sum())
        if size > RING_LIMIT:
            break
        if hop >= 2:  # each wider ring a larger program, tried only if the smaller fails
            moved = _deviation_lp(csr, truth, weight, free, p, direction, level, np.flatnonzero(near))
            if moved is not None:
                return moved
    moved = _deviation_lp(csr, truth, weight, free, p, direction, level, None)
    if moved is not None:
        return moved
    return None


def _joint_deviation(
    model: JointModel,
    truth: FloatArray,
    suppressed: BoolArray,
    movable: BoolArray,
    cells: list[int],
    direction: float,
    level: FloatArray,
    cost_new: FloatArray,
    t_new: int,
    hops: int = 2,
) -> tuple[IntArray, FloatArray, IntArray] | None:
    """One deviation that moves as many of `cells` as it can by `direction * level` at once (as
    `_deviation`, among the free cells `hops` sums from them), and the cells it moves that far;
    None if it fails."""
    n_all = model.n_vars
    weight_all = np.full(n_all, 1e-6)
    s = model.span(t_new)
    scale = max(float(np.max(level[cells])), 1e-9)
    weight_all[s] = np.where(suppressed[s], 1e-6, cost_new / scale + 1e-6)
    free_all = movable | suppressed
    csr = model.matrix.tocsr()
    csc = model.matrix.tocsc()
    near = np.zeros(n_all, dtype=bool)
    near[cells] = True
    for _ in range(hops):
        rows = np.unique(csc[:, np.flatnonzero(near)].indices)
        reach = np.zeros(n_all, dtype=bool)
        reach[np.unique(csr[rows].indices)] = True
        near |= reach & free_all
    cols = np.flatnonzero(near)
    sub = csr[:, cols].tocsr()
    sub = sub[np.flatnonzero(np.diff(sub.indptr) > 0)]
    n = cols.size
    weight, free, base = weight_all[cols], free_all[cols], truth[cols]
    lo = np.zeros(2 * n)
    hi = np.concatenate([np.where(free, np.inf, 0.0), np.where(free, base, 0.0)])
    idx = np.searchsorted(cols, np.asarray(cells, dtype=np.int64))
    plus, minus = (idx, n + idx) if direction > 0 else (n + idx, idx)
    # each cell's move is rewarded up to its level (far above any suppression cost), not forced:
    # a cell the earlier releases pin cannot make the whole program infeasible
    need = level[cols[idx]]
    hi[plus] = need
    hi[minus] = 0.0
    cost = np.concatenate([weight, weight])
    cost[plus] = -1e3 * float(weight.max()) / np.maximum(need, 1e-9)
    res = linprog(
        cost,
        A_eq=sp.hstack([sub, -sub]).tocsr(),
        b_eq=np.zeros(sub.shape[0]),
        bounds=np.stack([lo, hi], axis=1),
        method="highs",
    )
    if res.status != 0:
        return None
    d = res.x[:n] - res.x[n:]
    moved = np.flatnonzero(np.abs(d) > 1e-7)
    served = cols[idx[direction * d[idx] >= need - 1e-6]]
    return (
        np.asarray(cols[moved], dtype=np.int64),
        np.asarray(d[moved], dtype=np.float64),
        np.asarray(served, dtype=np.int64),
    )


def _deviation_lp(
    matrix: sp.csr_matrix,
    truth: FloatArray,
    weight: FloatArray,
    free: BoolArray,
    p: int,
    direction: float,
    level: float,
    within: IntArray | None,
) -> tuple[IntArray, FloatArray] | None:
    cols = np.arange(matrix.shape[1]) if within is None else within
    sub = matrix[:, cols].tocsr()
    sub = sub[np.flatnonzero(np.diff(sub.indptr) > 0)]
    n = cols.size
    local = int(np.searchsorted(cols, p))
    w = weight[cols]
    lo = np.zeros(2 * n)
    hi = np.concatenate([np.where(free[cols], np.inf, 0.0), np.where(free[cols], truth[cols], 0.0)])
    if direction > 0:
        lo[local] = hi[local] = level
        hi[n + local] = 0.0
    else:
        lo[n + local] = hi[n + local] = level
        hi[local] = 0.0
    res = linprog(
        np.concatenate([w, w]),
        A_eq=sp.hstack([sub, -sub]).tocsr(),
        b_eq=np.zeros(sub.shape[0]),
        bounds=np.stack([lo, hi], axis=1),
        method="highs",
    )
    if res.status != 0:
        return None
    d = res.x[:n] - res.x[n:]
    moved = np.flatnonzero(np.abs(d) > 1e-7)
    return np.asarray(cols[moved], dtype=np.int64), np.asarray(d[moved], dtype=np.float64)


def audit_linked(
    releases: Sequence[Release], min_width: float = 0.0, intervals: IntervalMode = "exact"
) -> tuple[JointModel, AuditResult]:
    """Audit published tables together, from what is published alone (no true values): each
    primary cell's interval over every table must be wider than `min_width`."""
    model = joint_model(releases)
    values = model.published_values()
    result = audit(
        model.matrix,
        values,
        model.suppressed(),
        sensitive=model.primary() | _all_if_unflagged(model),
        min_width=min_width,
        intervals=intervals,
    )
    return model, result


def _all_if_unflagged(model: JointModel) -> BoolArray:
    """Tables with no cell flagged primary: every suppressed cell is checked."""
    out = np.zeros(model.n_vars, dtype=bool)
    for t, r in enumerate(model.releases):
        if not r.primary.any():
            out[model.span(t)] = r.suppressed
    return out


def linked_audit_report(model: JointModel, result: AuditResult, min_width: float) -> dict[str, Any]:
    """JSON-ready joint audit of published tables: per table its suppressed cells' intervals."""

    def num(x: float) -> float | None:
        return None if not np.isfinite(x) else round(float(x), 6)

    tables = []
    for t, r in enumerate(model.releases):
        s = model.span(t)
        lower, upper, ok, checked = result.lower[s], result.upper[s], result.ok[s], result.checked[s]
        shape = tuple(d.size for d in r.dimensions)
        cells = []
        for c in np.flatnonzero(r.suppressed):
            nodes = np.unravel_index(int(c), shape)
            cells.append(
                {
                    **{d.name: d.labels[int(i)] for d, i in zip(r.dimensions, nodes, strict=True)},
                    "sensitive": bool(checked[c]),
                    "lower": num(lower[c]),
                    "upper": num(upper[c]),
                    "protected": bool(ok[c]) if checked[c] else None,
                }
            )
        tables.append(
            {
                "name": r.name,
                "cells": r.n_cells,
                "suppressed": int(r.suppressed.sum()),
                "failing": int((checked & ~ok).sum()),
                "cells_audited": cells,
            }
        )
    return {
        "passed": result.passed,
        "min_width": min_width,
        "hidden_cells": model.n_hidden,
        "failing": int(result.failing.size),
        "exactly_derivable": int(result.exact.size),
        "linear_programs": result.linear_programs,
        "seconds": round(result.seconds, 3),
        "tables": tables,
    }
