"""The attacker's linear programs, split into independent pieces.

An attacker who sees the published cells of an additive table knows, for the suppressed cells
x_S, that A_S x_S = -A_P a_P and x_S >= 0. Only constraint rows that touch a suppressed cell say
anything, and suppressed cells that share no such row (even through others) are independent, so
the problem falls apart into connected components that are solved one by one (HiGHS through
`highspy`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from iplos.errors import IplosError
from iplos.sdc.tables._bounds import INFEASIBLE, implied_bounds
from iplos.sdc.tables._table import FloatArray, IntArray
from iplos.sdc.tables._witness import Targets, Witnessed, certify_locally


def open_highs() -> tuple[Any, Any]:
    """The HiGHS bindings (the public `highspy` package) and a silent solver.

    Every user of HiGHS's own API goes through here (warm-started LPs, the suppression MILP);
    the module is returned too, for its enums and model classes.
    """
    import highspy

    solver = highspy.Highs()  # type: ignore[no-untyped-call]
    solver.setOptionValue("output_flag", False)
    return highspy, solver


LOCAL_FROM = 2000  # components of more cells get the small programs of `_witness` first


@dataclass(frozen=True)
class Component:
    """Suppressed cells (`cells`, flat table indices) linked by the rows `rows` of A."""

    cells: IntArray
    rows: IntArray
    matrix: sp.csr_matrix  # rows x cells
    rhs: FloatArray


def components(
    constraints: sp.csr_matrix, values: FloatArray, suppressed: npt.NDArray[np.bool_]
) -> Iterator[Component]:
    """Split the attacker's system into independent components of suppressed cells."""
    cells = np.flatnonzero(suppressed)
    if cells.size == 0:
        return
    a_s = constraints[:, cells].tocsr()
    rows = np.flatnonzero(np.diff(a_s.indptr) > 0)
    known = np.where(suppressed, 0.0, values)
    rhs_all = -(constraints @ known)
    a_rs = a_s[rows]
    n_r, n_s = a_rs.shape
    graph = sp.bmat([[None, a_rs], [a_rs.T, None]], format="csr") if n_r else sp.csr_matrix((n_s, n_s))
    if n_r:
        n_comp, label = connected_components(graph, directed=False)
        row_label, cell_label = label[:n_r], label[n_r:]
    else:
        n_comp, cell_label, row_label = n_s, np.arange(n_s), np.empty(0, dtype=np.int64)
    order_c = np.argsort(cell_label, kind="stable")
    order_r = np.argsort(row_label, kind="stable")
    c_bounds = np.searchsorted(cell_label[order_c], np.arange(n_comp + 1))
    r_bounds = np.searchsorted(row_label[order_r], np.arange(n_comp + 1))
    a_rs_csc = a_rs.tocsc()
    for k in range(n_comp):
        local_cells = order_c[c_bounds[k] : c_bounds[k + 1]]
        local_rows = order_r[r_bounds[k] : r_bounds[k + 1]]
        if local_cells.size == 0:
            continue
        sub = (
            a_rs_csc[:, local_cells].tocsr()[local_rows]
            if local_rows.size
            else sp.csr_matrix((0, local_cells.size))
        )
        yield Component(
            cells=cells[local_cells],
            rows=rows[local_rows],
            matrix=sub,
            rhs=rhs_all[rows[local_rows]],
        )


class _WarmLP:
    """One HiGHS model per component: only the objective changes between solves, so each solve
    starts from the previous optimal basis (HiGHS through `highspy`)."""

    def __init__(self, component: Component, lower: FloatArray, upper: FloatArray) -> None:
        self.component = component
        self.n = component.cells.size
        self.bounds = np.stack([lower, upper], axis=1)
        self.highs: object | None = None
        _core, h = open_highs()
        self._core = _core
        # only the objective changes between solves: the primal simplex keeps the previous
        # optimal basis feasible and needs few iterations (the default restarts far more)
        h.setOptionValue("simplex_strategy", 4)
        lp = _core.HighsLp()
        csc = component.matrix.tocsc()
        lp.num_col_ = self.n
        lp.num_row_ = csc.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = lower.astype(np.float64)
        lp.col_upper_ = np.where(np.isfinite(upper), upper, _core.kHighsInf).astype(np.float64)
        lp.row_lower_ = component.rhs.astype(np.float64)
        lp.row_upper_ = component.rhs.astype(np.float64)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = csc.shape[0]
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        h.passModel(lp)
        self.highs = h
        self._all = np.arange(self.n, dtype=np.int32)
        self._narrowed = False

    def minimise(
        self, costs: FloatArray, lower: FloatArray | None = None, upper: FloatArray | None = None
    ) -> tuple[float, FloatArray | None]:
        """Minimise costs @ x: (optimal value, solution), or (-inf, None) when unbounded. With
        `lower`/`upper`, within those column bounds (they stay only for this solve)."""
        assert self.highs is not None
        self.highs.changeColsCost(self.n, self._all, costs.astype(np.float64))  # type: ignore[attr-defined]
        if lower is not None or upper is not None or self._narrowed:
            lo = self.bounds[:, 0] if lower is None else lower
            hi = self.bounds[:, 1] if upper is None else upper
            hi = np.where(np.isfinite(hi), hi, self._core.kHighsInf)
            self.highs.changeColsBounds(  # type: ignore[attr-defined]
                self.n, self._all, lo.astype(np.float64), hi.astype(np.float64)
            )
            self._narrowed = lower is not None or upper is not None
        return self._run()

    def set_solver(self, name: str) -> None:
        assert self.highs is not None
        self.highs.setOptionValue("solver", name)  # type: ignore[attr-defined]

    def _run(self) -> tuple[float, FloatArray | None]:
        h = self.highs
        assert h is not None
        h.run()  # type: ignore[attr-defined]
        status = h.getModelStatus()  # type: ignore[attr-defined]
        statuses = self._core.HighsModelStatus
        if status == statuses.kOptimal:
            return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
        if status in (statuses.kUnbounded, statuses.kUnboundedOrInfeasible):
            return -np.inf, None
        if status == statuses.kInfeasible:
            raise IplosError(INFEASIBLE)
        raise IplosError(f"linear program failed: {h.modelStatusToString(status)}")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Goal:
    """What a verdict needs of each cell of a component (NaN: nothing): an attacker table with
    the cell at or below `low`, one at or above `high`, or `width` between its extremes.
    `truth`, when known, is the true table: a witness like any other."""

    low: FloatArray
    high: FloatArray
    width: FloatArray
    truth: FloatArray | None = None
    seen_low: FloatArray | None = None  # values attacker tables already shown take (+-inf: none)
    seen_high: FloatArray | None = None
    prove: bool = True  # a cell that misses its goal gets its exact extreme (else: left as seen)


@dataclass(frozen=True)
class Intervals:
    """Attacker intervals of a component's cells; `exact[j]`: both ends are the true extremes
    (otherwise they are values an attacker cannot exclude, so the true interval contains them)."""

    lower: FloatArray
    upper: FloatArray
    exact: npt.NDArray[np.bool_]
    solved: int


def intervals(component: Component, goal: Goal | None = None, tol: float = 1e-7) -> Intervals:
    """Smallest and largest value of each cell over x >= 0, A x = b (with `goal`, only as far as
    the verdict needs).

    Every LP solution is an attacker table, a witness: each cell's smallest and largest value seen
    so far lies in its interval. A cell seen at its implied bound (`implied_bounds`) has that
    bound as its extreme and needs no program of its own. With a `goal`, a cell whose witnessed
    range already reaches what the goal asks needs no program either, and its interval is
    reported as witnessed (not exact): batch programs over the whole component push every open
    cell to its target at once (each capped there, so none takes more than it needs), then small
    programs around one feasible table certify the rest (`_witness`). Without a goal, batches
    push the open cells to their bounds. A cell still open gets one program per direction, whose
    value is its exact extreme: a cell that misses its goal always gets its exact extreme.
    """
    n = component.cells.size
    if component.matrix.shape[0] == 0:
        return Intervals(np.zeros(n), np.full(n, np.inf), np.ones(n, dtype=bool), 0)
    lb, ub = implied_bounds(component.matrix, component.rhs)
    lp = _WarmLP(component, np.zeros(n), np.full(n, np.inf))
    solved = 0
    lo_x = np.full(n, np.nan)  # exact extremes found by a program of their own
    hi_x = np.full(n, np.nan)
    seen = Witnessed(n)
    everything = np.arange(n)

    finite_ub = np.isfinite(ub)
    ub_tol = np.where(finite_ub, ub - tol * np.maximum(1.0, np.where(finite_ub, ub, 0.0)), np.inf)
    lb_tol = lb + tol * np.maximum(1.0, lb)
    if goal is None:
        high = np.full(n, np.inf)
        low = np.full(n, -np.inf)
        width = np.full(n, -np.inf)
    else:
        high = np.where(np.isnan(goal.high), -np.inf, goal.high)
        low = np.where(np.isnan(goal.low), np.inf, goal.low)
        width = np.where(np.isnan(goal.width), -np.inf, goal.width)

    def open_hi(idx: IntArray = everything) -> npt.NDArray[np.bool_]:
        """Cells whose upper end the verdict still needs (without a goal: every cell not proven
        at its bound)."""
        done = (seen.high[idx] >= ub_tol[idx]) | ~np.isnan(hi_x[idx])
        if goal is not None:
            wide = (seen.high[idx] - seen.low[idx]) >= width[idx] - tol
            done |= (seen.high[idx] >= high[idx] - tol) & wide
        return np.asarray(~done, dtype=bool)

    def open_lo(idx: IntArray = everything) -> npt.NDArray[np.bool_]:
        done = (seen.low[idx] <= lb_tol[idx]) | ~np.isnan(lo_x[idx])
        if goal is not None:
            wide = (seen.high[idx] - seen.low[idx]) >= width[idx] - tol
            done |= (seen.low[idx] <= low[idx] + tol) & wide
        return np.asarray(~done, dtype=bool)

    scale = np.maximum(np.where(finite_ub, ub, lb + 1.0), 1.0)
    x0: FloatArray | None = None
    if goal is not None and goal.truth is not None:
        truth = goal.truth
        residual = np.abs(component.matrix @ truth - component.rhs)
        if (truth >= 0).all() and (residual <= 1e-9 * np.maximum(1.0, np.abs(component.rhs))).all():
            seen.add(truth)
            x0 = truth
    if goal is not None and goal.seen_low is not None and goal.seen_high is not None:
        np.minimum(seen.low, goal.seen_low, out=seen.low)
        np.maximum(seen.high, goal.seen_high, out=seen.high)
    if goal is not None:
        if x0 is None or n <= LOCAL_FROM:  # a first witness for every cell (pushed to its bound)
            _, x = lp.minimise(np.where(finite_ub, -1.0 / scale, 0.0))
            solved += 1
            assert x is not None
            seen.add(x)
            x0 = x if x0 is None else x0
        targets = Targets(
            up=np.where(np.isfinite(high), high, x0 + width),
            down=np.where(np.isfinite(low), low, x0 - width),
        )
        # a large component's programs are slow (tens of seconds at 40,000 cells): small ones
        # around x0 first, then whole-component batches for what they leave open
        if n > LOCAL_FROM and (open_hi() | open_lo()).any():
            solved += certify_locally(component.matrix, x0, targets, open_hi(), open_lo(), seen)
        solved += _capped_batches(lp, x0, targets, open_hi, open_lo, seen)
    else:
        for sign, still_open in ((-1.0, open_hi), (1.0, open_lo)):
            # batches: push every open cell towards its bound at once while that pays
            for _ in range(30):
                open_ = np.flatnonzero(still_open() & finite_ub)  # keep the batch bounded
                if open_.size < 20:
                    break
                costs = np.zeros(n)
                costs[open_] = sign / scale[open_]
                _, x = lp.minimise(costs)
                solved += 1
                if x is None:
                    break
                seen.add(x)
                if open_.size - int((still_open() & finite_ub).sum()) < max(5, open_.size // 50):
                    break
    # then one program per cell still open, each solution a witness for the others
    for sign, still_open in ((-1.0, open_hi), (1.0, open_lo)) if goal is None or goal.prove else ():
        costs = np.zeros(n)
        for j in np.flatnonzero(still_open()):
            if not still_open(np.array([j]))[0]:
                continue
            costs[j] = sign
            value, x = lp.minimise(costs)
            costs[j] = 0.0
            solved += 1
            if sign < 0:
                hi_x[j] = np.inf if x is None else -value
            else:
                lo_x[j] = max(0.0, value)
            if x is not None:
                seen.add(x)
    # a cell that misses its goal one way gets its exact extreme the other way too (a failing
    # verdict is reported with the attacker's exact interval)
    failing = (~np.isnan(hi_x) & (hi_x < high - tol)) | (~np.isnan(lo_x) & (lo_x > low + tol))
    for j in np.flatnonzero(failing & (np.isnan(hi_x) | np.isnan(lo_x)) if goal is not None else []):
        sign = -1.0 if np.isnan(hi_x[j]) else 1.0
        costs = np.zeros(n)
        costs[j] = sign
        value, x = lp.minimise(costs)
        solved += 1
        if sign < 0:
            hi_x[j] = np.inf if x is None else -value
        else:
            lo_x[j] = max(0.0, value)
    hit_ub = (seen.high >= ub_tol) | ~np.isnan(hi_x)
    hit_lb = (seen.low <= lb_tol) | ~np.isnan(lo_x)
    upper = np.where(~np.isnan(hi_x), hi_x, np.where(hit_ub, ub, seen.high))
    lower = np.where(~np.isnan(lo_x), lo_x, np.where(hit_lb, lb, seen.low))
    lower = np.maximum(lower, 0.0)
    return Intervals(lower, np.maximum(upper, lower), np.asarray(hit_ub & hit_lb, dtype=bool), solved)


def _capped_batches(
    lp: _WarmLP,
    x0: FloatArray,
    targets: Targets,
    open_hi: Callable[[], npt.NDArray[np.bool_]],
    open_lo: Callable[[], npt.NDArray[np.bool_]],
    seen: Witnessed,
    rounds: int = 30,
) -> int:
    """Programs over the whole component that push every open cell to its target at once, up or
    down (a cell open both ways goes up in even rounds, down in odd ones), each capped at its
    target; stops when a round closes too few. `x0` is feasible within the caps (the targets lie
    beyond it), so every program has a solution. Returns the number solved."""
    n = x0.shape[0]
    solved = 0
    # an interior point solve is several times faster than the simplex on a large component, and
    # each batch changes bounds and costs (a warm basis gains little)
    lp.set_solver("ipm" if n > LOCAL_FROM else "choose")
    for k in range(rounds):
        oh, ol = open_hi(), open_lo()
        before = int(oh.sum() + ol.sum())
        if before < 20:
            break
        both = oh & ol
        up = oh & ~(both & (k % 2 == 1))
        down = ol & ~(both & (k % 2 == 0))
        lower = np.zeros(n)
        upper = np.full(n, np.inf)
        costs = np.zeros(n)
        upper[up] = np.maximum(targets.up[up], x0[up])
        costs[up] = -1.0 / np.maximum(targets.up[up] - x0[up], 1.0)
        lower[down] = np.maximum(np.minimum(targets.down[down], x0[down]), 0.0)
        costs[down] = 1.0 / np.maximum(x0[down] - targets.down[down], 1.0)
        _, x = lp.minimise(costs, lower, upper)
        solved += 1
        if x is None:
            break
        seen.add(x)
        after = int(open_hi().sum() + open_lo().sum())
        if before - after < max(5, before // 100):
            break
    lp.set_solver("choose")
    return solved
