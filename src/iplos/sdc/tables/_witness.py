"""Witnesses from small programs: many cells of the audit certified by one linear program.

The audit's verdict on a cell needs only an attacker table (a feasible point of the attacker's
system) with the cell at or beyond its target. Given one feasible point x0 (the true table, or
one LP solution) and a set N of unknown cells, cells outside N stay at x0, the rows that touch N
keep the sums they have under x0, and x_N >= 0: every solution of that small program is a feasible
point of the whole system (the rows touching N hold by construction, the others do not see N),
so a cell it carries to its target needs no program of its own. Many cells go into one program,
each with its neighbourhood (the cells a few sums away) and capped at its target, so that none
takes more than it needs at the others' cost. A cell a program leaves short is tried again on a
wider neighbourhood; only those still short get the whole-component programs of `_lp`, whose
answer is exact (so a failing verdict always rests on the true extreme).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iplos.sdc.tables._table import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]
TOL = 1e-7


@dataclass(frozen=True)
class Targets:
    """Per cell the value a witness must reach: at or above `up`, at or below `down` (NaN: none)."""

    up: FloatArray
    down: FloatArray


class Witnessed:
    """The smallest and largest value each cell takes over the attacker tables seen so far."""

    def __init__(self, n: int) -> None:
        self.low = np.full(n, np.inf)
        self.high = np.full(n, -np.inf)

    def add(self, x: FloatArray, cells: IntArray | None = None) -> None:
        """Record an attacker table (or, with `cells`, its values there; elsewhere it is a table
        already seen)."""
        if cells is None:
            np.minimum(self.low, x, out=self.low)
            np.maximum(self.high, x, out=self.high)
        else:
            self.low[cells] = np.minimum(self.low[cells], x)
            self.high[cells] = np.maximum(self.high[cells], x)

    def reached_up(self, targets: Targets, cells: IntArray) -> BoolArray:
        t = targets.up[cells]
        return np.asarray(self.high[cells] >= t - TOL * np.maximum(1.0, np.abs(t)), dtype=bool)

    def reached_down(self, targets: Targets, cells: IntArray) -> BoolArray:
        t = targets.down[cells]
        return np.asarray(self.low[cells] <= t + TOL * np.maximum(1.0, np.abs(t)), dtype=bool)


def region_around(csr: sp.csr_matrix, csc: sp.csc_matrix, cell: int, limit: int) -> IntArray:
    """About `limit` cells around `cell`, grown ring by ring over the sums (cell -> rows through
    it -> their cells); the last ring is cut to fit."""
    inside = np.zeros(csr.shape[1], dtype=bool)
    inside[cell] = True
    ring = np.array([cell], dtype=np.int64)
    size = 1
    while size < limit and ring.size:
        rows = np.unique(csc[:, ring].indices)
        reach = np.unique(csr[rows].indices)
        ring = reach[~inside[reach]][: limit - size]
        inside[ring] = True
        size += ring.size
    return np.flatnonzero(inside)


def certify_locally(
    matrix: sp.csr_matrix,
    x0: FloatArray,
    targets: Targets,
    want_up: BoolArray,
    want_down: BoolArray,
    seen: Witnessed,
    *,
    region_size: int = 2500,
    passes: int = 3,
) -> int:
    """Bring the wanted cells to their targets by programs over regions around `x0` (a feasible
    point of `matrix @ x == matrix @ x0`, x >= 0); each solution is recorded in `seen`. A pass
    covers the open cells with regions (one around the first open cell not yet covered, and so
    on), every open cell of a region pushed to its capped target; a cell open both ways is pushed
    up in even passes, down in odd ones; a cell left short is the centre of a region in the next
    pass. Returns the number of programs solved; cells still short are for the caller."""
    csr = matrix.tocsr()
    csc = matrix.tocsc()
    n = x0.shape[0]
    up, down = want_up.copy(), want_down.copy()
    solved = 0
    for k in range(passes):
        up &= ~seen.reached_up(targets, np.arange(n))
        down &= ~seen.reached_down(targets, np.arange(n))
        if not (up | down).any():
            break
        covered = np.zeros(n, dtype=bool)
        for centre in np.flatnonzero(up | down):
            if covered[centre]:
                continue
            cols = region_around(csr, csc, int(centre), region_size)
            cols = cols[~covered[cols]] if covered[cols].any() else cols
            covered[cols] = True
            go_up = up[cols] & ~(down[cols] & (k % 2 == 1))
            go_down = down[cols] & ~go_up
            solved += 1
            _solve_region(csr, x0, cols, go_up, go_down, targets, seen)
    return solved


def _solve_region(
    csr: sp.csr_matrix,
    x0: FloatArray,
    cols: IntArray,
    go_up: BoolArray,
    go_down: BoolArray,
    targets: Targets,
    seen: Witnessed,
) -> None:
    """One program over `cols` (the rest fixed at x0), the `go_up`/`go_down` cells (masks over
    `cols`) pushed to their capped targets; its solution, if any, is recorded as a witness."""
    # the one entry to HiGHS (imported here: `_lp` builds on this module)
    from iplos.sdc.tables._lp import open_highs

    sub = csr[:, cols]
    rows = np.flatnonzero(np.diff(sub.tocsr().indptr) > 0)
    a = sub[rows].tocsc()
    base = x0[cols]
    rhs = a @ base
    m = cols.size
    core, h = open_highs()
    lower = np.zeros(m)
    upper = np.full(m, core.kHighsInf)
    cost = np.zeros(m)
    t_up = targets.up[cols][go_up]
    upper[go_up] = np.maximum(t_up, base[go_up])
    cost[go_up] = -1.0 / np.maximum(t_up - base[go_up], 1.0)
    t_down = targets.down[cols][go_down]
    lower[go_down] = np.maximum(np.minimum(t_down, base[go_down]), 0.0)
    cost[go_down] = 1.0 / np.maximum(base[go_down] - t_down, 1.0)
    lp = core.HighsLp()
    lp.num_col_ = m
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = rhs.astype(np.float64)
    lp.row_upper_ = rhs.astype(np.float64)
    lp.a_matrix_.format_ = core.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = m
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != core.HighsModelStatus.kOptimal:
        return
    x = np.maximum(np.asarray(h.getSolution().col_value), 0.0)
    # a witness only if it keeps every sum (HiGHS's tolerances are tighter than this check)
    if np.abs(a @ x - rhs).max(initial=0.0) <= 1e-6 * max(1.0, float(np.abs(rhs).max(initial=0.0))):
        seen.add(x, cols)
