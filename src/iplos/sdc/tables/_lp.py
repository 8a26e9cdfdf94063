"""The attacker's linear programs, split into independent pieces.

An attacker who sees the published cells of an additive table knows, for the suppressed cells
x_S, that A_S x_S = -A_P a_P and x_S >= 0. Only constraint rows that touch a suppressed cell say
anything, and suppressed cells that share no such row (even through others) are independent, so
the problem falls apart into connected components that are solved one by one (HiGHS through
scipy.optimize.linprog).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from iplos.errors import IplosError
from iplos.sdc.tables._table import FloatArray, IntArray


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


def simple_bounds(component: Component) -> tuple[FloatArray, FloatArray]:
    """Bounds read off single rows (the others being non-negative): in a row where cell j is the
    only one with its sign, a_j x_j >= b (a lower bound); where every cell shares j's sign,
    a_j x_j <= b (an upper bound). Returns (lower, upper), 0 and inf where none applies."""
    m = component.matrix.tocsr()
    n = component.cells.size
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    if m.shape[0] == 0:
        return lb, ub
    row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    n_pos = np.bincount(row_of, weights=m.data > 0, minlength=m.shape[0])
    n_neg = np.bincount(row_of, weights=m.data < 0, minlength=m.shape[0])
    ratio = component.rhs[row_of] / m.data
    same = np.where(m.data > 0, n_neg[row_of] == 0, n_pos[row_of] == 0)
    np.minimum.at(ub, m.indices[same], np.maximum(ratio[same], 0.0))
    alone = np.where(m.data > 0, n_pos[row_of] == 1, n_neg[row_of] == 1)
    np.maximum.at(lb, m.indices[alone], ratio[alone])
    return lb, ub


class _WarmLP:
    """One HiGHS model per component: only the objective changes between solves, so each solve
    starts from the previous optimal basis (scipy's bundled HiGHS; linprog when unavailable)."""

    def __init__(self, component: Component) -> None:
        self.component = component
        self.n = component.cells.size
        self.highs: object | None = None
        self.last: int | None = None
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover - scipy without its HiGHS bindings
            return
        self._core = _core
        h = _core._Highs()
        h.setOptionValue("output_flag", False)
        # only the objective changes between solves: the primal simplex keeps the previous
        # optimal basis feasible and needs few iterations (the default restarts far more)
        h.setOptionValue("simplex_strategy", 4)
        lp = _core.HighsLp()
        csc = component.matrix.tocsc()
        lp.num_col_ = self.n
        lp.num_row_ = csc.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n)
        lp.col_upper_ = np.full(self.n, _core.kHighsInf)
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

    def optimise_vector(self, costs: FloatArray) -> tuple[float, FloatArray | None]:
        """Minimise costs @ x (the objective of later single-cell solves starts from zero again)."""
        if self.highs is None:
            res = _solve(costs, self.component)
            return (-np.inf, None) if res is None else (float(res.fun), np.asarray(res.x))
        h = self.highs
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), costs.astype(np.float64))  # type: ignore[attr-defined]
        result = self._run()
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.zeros(self.n))  # type: ignore[attr-defined]
        self.last = None
        return result

    def optimise(self, j: int, sign: float) -> tuple[float, FloatArray | None]:
        """Minimise sign * x_j: (optimal value, solution), or (-inf, None) when unbounded."""
        if self.highs is None:
            c = np.zeros(self.n)
            c[j] = sign
            res = _solve(c, self.component)
            return (-np.inf, None) if res is None else (float(res.fun), np.asarray(res.x))
        h = self.highs
        if self.last is not None and self.last != j:
            h.changeColCost(self.last, 0.0)  # type: ignore[attr-defined]
        h.changeColCost(j, sign)  # type: ignore[attr-defined]
        self.last = j
        return self._run()

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
            raise IplosError(
                "the published cells contradict the table's additivity (no non-negative values fit the "
                "suppressed cells): the table is not additive as laid out"
            )
        raise IplosError(f"linear program failed: {h.modelStatusToString(status)}")  # type: ignore[attr-defined]


def intervals(component: Component, tol: float = 1e-7) -> tuple[FloatArray, FloatArray, int]:
    """Smallest and largest value of each cell of `component` over x >= 0, A x = b; LPs solved.

    Every solution is a witness: a cell seen at a bound that a single row implies (0 or the row's
    lower bound for the minimum, the row's upper bound for the maximum) has that value as its
    extreme, and its own program is skipped. Batch programs (maximise the sum of the uncertain
    cells, each scaled by its bound; minimise their sum) certify many cells at once first.
    """
    n = component.cells.size
    if component.matrix.shape[0] == 0:
        return np.zeros(n), np.full(n, np.inf), 0
    lb, ub = simple_bounds(component)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    lp = _WarmLP(component)
    solved = 0
    seen_min = np.full(n, np.inf)
    seen_max = np.full(n, -np.inf)

    def witness(x: FloatArray) -> None:
        np.minimum(seen_min, x, out=seen_min)
        np.maximum(seen_max, x, out=seen_max)

    # upper bounds: batches, then one program per uncertified cell
    for _ in range(20):
        open_ = np.flatnonzero(~(seen_max >= ub - tol) & np.isfinite(ub) & (ub > tol))
        if open_.size < 20:
            break
        costs = np.zeros(n)
        costs[open_] = -1.0 / ub[open_]
        value, x = lp.optimise_vector(costs)
        solved += 1
        if x is None:
            break
        before = int((seen_max >= ub - tol).sum())
        witness(x)
        if int((seen_max >= ub - tol).sum()) - before < max(5, open_.size // 50):
            break
    for j in range(n):
        if seen_max[j] >= ub[j] - tol:
            upper[j] = ub[j]
            continue
        value, x = lp.optimise(j, -1.0)
        solved += 1
        if x is None:
            upper[j] = np.inf
            continue
        upper[j] = -value
        witness(x)
    # lower bounds, the same way
    for _ in range(20):
        open_ = np.flatnonzero(seen_min > lb + tol)
        if open_.size < 20:
            break
        costs = np.zeros(n)
        costs[open_] = 1.0 / np.maximum(upper[open_], 1.0)
        value, x = lp.optimise_vector(costs)
        solved += 1
        assert x is not None
        before = int((seen_min <= lb + tol).sum())
        witness(x)
        if int((seen_min <= lb + tol).sum()) - before < max(5, open_.size // 50):
            break
    for j in range(n):
        if seen_min[j] <= lb[j] + tol:
            lower[j] = max(lb[j], 0.0)
            continue
        value, x = lp.optimise(j, 1.0)
        solved += 1
        assert x is not None  # minimising a non-negative variable is bounded
        lower[j] = max(0.0, value)
        witness(x)
    return lower, upper, solved


def _solve(c: FloatArray, component: Component):  # type: ignore[no-untyped-def]
    res = linprog(c, A_eq=component.matrix, b_eq=component.rhs, bounds=(0, None), method="highs")
    if res.status == 3:
        return None
    if res.status == 2:
        raise IplosError(
            "the published cells contradict the table's additivity (no non-negative values fit the "
            "suppressed cells): the table is not additive as laid out"
        )
    if res.status != 0:
        raise IplosError(f"linear program failed: {res.message}")
    return res
