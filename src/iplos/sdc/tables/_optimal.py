"""Optimal secondary suppression: a minimum-cost pattern by mixed-integer programming.

The model of Fischetti & Salazar (JASA 2000): a binary y_c per cell (1 = suppressed, fixed to 1 for
sensitive cells), minimise sum(cost_c * y_c) subject to, for every sensitive cell p and direction,
the attacker's linear program reaching p's protection level. That program, maximise d_p subject to
A d = 0 and -min(a_c, D) * y_c <= d_c <= D * y_c (D: the largest protection level required),
is replaced by its dual: for any multipliers mu of A d = 0, with reduced costs r = e_p - A^T mu,
sum_c (max(-r_c, 0) * D + max(r_c, 0) * min(a_c, D)) * y_c >= upper_p must hold (weak duality), and for the
optimal mu of an unprotected pattern it is violated. So: solve the master (HiGHS through
`highspy`), check each sensitive cell with two LPs over its suppressed component, add
the violated dual cuts, repeat until none is violated. Starting cuts: a sensitive cell is never
alone among the suppressed cells of a sum it is part of.

The attacker of the model also knows that no cell is more than D from its true value, which the
audit's attacker does not, so a pattern that protects here protects in the audit too; the bound
keeps the cuts tight (with the table total in its place they are weak and convergence is slow).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iplos.errors import IplosError
from iplos.sdc.tables._lp import components, open_highs
from iplos.sdc.tables._table import FloatArray

BoolArray = npt.NDArray[np.bool_]
TOL = 1e-6


@dataclass(frozen=True)
class OptimalOutcome:
    suppressed: BoolArray
    proven_optimal: bool
    rounds: int
    cuts: int
    finished: bool
    master_seconds: float = 0.0
    check_seconds: float = 0.0


class _Master:
    """The master MILP, kept across rounds: each round only adds the new cuts, and HiGHS starts
    from the best protected pattern known (an incumbent, so an upper bound that prunes its
    search)."""

    def __init__(self, cost: FloatArray, lower: FloatArray) -> None:
        self.n = cost.shape[0]
        self.cost = cost
        self.lower = lower
        self.rows: list[sp.csr_matrix] = []
        self.lbs: list[float] = []
        self.h: object | None = None
        _core, h = open_highs()
        self._core = _core
        h.setOptionValue("mip_rel_gap", 1e-6)
        lp = _core.HighsLp()
        lp.num_col_ = self.n
        lp.num_row_ = 0
        lp.col_cost_ = cost.astype(np.float64)
        lp.col_lower_ = lower.astype(np.float64)
        lp.col_upper_ = np.ones(self.n)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = 0
        lp.a_matrix_.start_ = np.zeros(self.n + 1, dtype=np.int32)
        lp.a_matrix_.index_ = np.zeros(0, dtype=np.int32)
        lp.a_matrix_.value_ = np.zeros(0)
        lp.integrality_ = [_core.HighsVarType.kInteger] * self.n
        h.passModel(lp)
        self.h = h

    def add(self, rows: sp.csr_matrix, lbs: list[float]) -> None:
        rows = rows.tocsr()
        self.rows.append(rows)
        self.lbs.extend(lbs)
        if self.h is not None:
            self.h.addRows(  # type: ignore[attr-defined]
                rows.shape[0],
                np.asarray(lbs, dtype=np.float64),
                np.full(rows.shape[0], self._core.kHighsInf),
                rows.nnz,
                rows.indptr[:-1].astype(np.int32),
                rows.indices.astype(np.int32),
                rows.data.astype(np.float64),
            )

    def relaxation(self, time_limit: float) -> FloatArray | None:
        """The LP relaxation's optimal y (None on time-out)."""
        h = self.h
        assert h is not None
        idx = np.arange(self.n, dtype=np.int32)
        core = self._core
        h.changeColsIntegrality(self.n, idx, np.full(self.n, core.HighsVarType.kContinuous))  # type: ignore[attr-defined]
        h.setOptionValue("time_limit", max(time_limit, 0.01))  # type: ignore[attr-defined]
        h.run()  # type: ignore[attr-defined]
        ok = h.getModelStatus() == core.HighsModelStatus.kOptimal  # type: ignore[attr-defined]
        y = np.clip(np.asarray(h.getSolution().col_value), 0.0, 1.0) if ok else None  # type: ignore[attr-defined]
        h.changeColsIntegrality(self.n, idx, np.full(self.n, core.HighsVarType.kInteger))  # type: ignore[attr-defined]
        return y

    def solve(self, time_limit: float, incumbent: BoolArray | None) -> tuple[BoolArray | None, bool]:
        """A minimum-cost y under the cuts so far, and whether it is proven optimal; None when
        time ran out before any solution."""
        h = self.h
        assert h is not None
        h.setOptionValue("time_limit", max(time_limit, 0.01))  # type: ignore[attr-defined]
        if incumbent is not None:
            # the incumbent's cost bounds the search (prunes every node that cannot beat it);
            # setSolution would do as well but makes HiGHS print to stdout
            best = float(self.cost @ incumbent)
            h.setOptionValue("objective_bound", best + 1e-7 * max(1.0, abs(best)))  # type: ignore[attr-defined]
        h.run()  # type: ignore[attr-defined]
        status = h.getModelStatus()  # type: ignore[attr-defined]
        statuses = self._core.HighsModelStatus
        info = h.getInfo()  # type: ignore[attr-defined]
        if status == statuses.kInfeasible and incumbent is not None:
            return incumbent.copy(), True  # nothing is cheaper than the incumbent
        if status == statuses.kOptimal:
            return np.round(np.asarray(h.getSolution().col_value)) > 0.5, True  # type: ignore[attr-defined]
        if status in (statuses.kTimeLimit, statuses.kInterrupt, statuses.kSolutionLimit):
            if info.primal_solution_status == 2:  # feasible, not proven optimal
                return np.round(np.asarray(h.getSolution().col_value)) > 0.5, False  # type: ignore[attr-defined]
            return None, False
        raise IplosError(f"secondary suppression model failed: {h.modelStatusToString(status)}")  # type: ignore[attr-defined]


def optimal_suppression(
    values: FloatArray,
    constraints: sp.csr_matrix,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
    cost: FloatArray,
    time_limit: float = 60.0,
    max_rounds: int = 500,
    incumbent: BoolArray | None = None,
) -> OptimalOutcome:
    """Minimum-cost suppression by cut generation; `finished` is False when time ran out.

    `incumbent`, a pattern known to protect every primary cell with deviations of at most the
    protection levels (the fast method's), starts every master solve as an upper bound; when a
    master's optimum costs as much, the incumbent is optimal and the search stops there.
    """
    start = time.perf_counter()
    n = values.shape[0]
    bound = float(max(upper[primary].max(initial=0.0), lower[primary].max(initial=0.0), 1.0))
    a_csc = constraints.tocsc()
    prim = np.flatnonzero(primary)
    if prim.size == 0:
        return OptimalOutcome(primary.copy(), True, 0, 0, True)
    master = _Master(cost, primary.astype(np.float64))
    # starting cuts: for each primary p and each sum containing p, another cell of it is suppressed
    rows_idx, cols_idx = [], []
    r = 0
    for p in prim:
        for row in a_csc.indices[a_csc.indptr[p] : a_csc.indptr[p + 1]]:
            members = constraints.indices[constraints.indptr[row] : constraints.indptr[row + 1]]
            others = members[members != p]
            if others.size:
                rows_idx.extend([r] * others.size)
                cols_idx.extend(others.tolist())
                r += 1
    if r:
        master.add(sp.csr_matrix((np.ones(len(rows_idx)), (rows_idx, cols_idx)), shape=(r, n)), [1.0] * r)
    best = None if incumbent is None else (incumbent | primary)
    best_cost = np.inf if best is None else float(cost @ best)
    rounds = 0
    n_cuts = r
    t_master = 0.0
    t_check = 0.0

    def outcome(y: BoolArray, proven: bool, finished: bool) -> OptimalOutcome:
        return OptimalOutcome(y, proven, rounds, n_cuts, finished, t_master, t_check)

    # the root: cut the LP relaxation until it is protected (cheap rounds that find most cuts)
    while time.perf_counter() - start < 0.5 * time_limit:
        t0 = time.perf_counter()
        y_relaxed = master.relaxation(time_limit - (time.perf_counter() - start))
        t_master += time.perf_counter() - t0
        if y_relaxed is None:
            break
        y_relaxed[primary] = 1.0
        t0 = time.perf_counter()
        new_rows, new_lb = _violated_cuts(values, constraints, y_relaxed, primary, upper, lower, bound)
        t_check += time.perf_counter() - t0
        if not new_rows:
            break
        master.add(sp.vstack(new_rows).tocsr(), new_lb)
        n_cuts += len(new_lb)
    while rounds < max_rounds:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - start)
        if remaining <= 0:
            return outcome(primary.copy(), False, False)
        t0 = time.perf_counter()
        y_found, proven = master.solve(remaining, best)
        t_master += time.perf_counter() - t0
        if y_found is None:
            return outcome(primary.copy(), False, False)
        y = y_found | primary
        if best is not None and proven and float(cost @ y) >= best_cost - 1e-9 * max(1.0, best_cost):
            return outcome(best, True, True)  # no cheaper pattern exists: the incumbent is optimal
        t0 = time.perf_counter()
        new_rows, new_lb = _violated_cuts(
            values, constraints, y.astype(np.float64), primary, upper, lower, bound
        )
        t_check += time.perf_counter() - t0
        if not new_rows:
            return outcome(y, proven, True)
        master.add(sp.vstack(new_rows).tocsr(), new_lb)
        n_cuts += len(new_lb)
    return outcome(primary.copy(), False, False)


def _violated_cuts(
    values: FloatArray,
    constraints: sp.csr_matrix,
    y: FloatArray,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
    bound: float,
) -> tuple[list[sp.csr_matrix], list[float]]:
    """The dual cut of every primary cell and direction that the pattern y (0..1; fractional in
    the relaxation) leaves unprotected."""
    relaxed = bool(((y > TOL) & (y < 1 - TOL)).any())
    rows: list[sp.csr_matrix] = []
    lbs: list[float] = []
    n = values.shape[0]
    for comp in components(constraints, values, y > TOL):
        sens = [int(c) for c in comp.cells if primary[c]]
        if not sens:
            continue
        local = {int(c): i for i, c in enumerate(comp.cells)}
        # a cell moves at most as far as it is suppressed (fractional y: the relaxation)
        lo = -np.minimum(values[comp.cells], bound) * y[comp.cells]
        hi = bound * y[comp.cells]
        full_rows = constraints[comp.rows]
        attacker = _Attacker(comp.matrix, lo, hi)
        for p in sens:
            for direction, level in ((1.0, upper[p]), (-1.0, lower[p])):
                if level <= TOL:
                    continue
                c = np.zeros(comp.cells.size)
                c[local[p]] = -direction
                if comp.matrix.shape[0] == 0:
                    reach = hi[local[p]] if direction > 0 else -lo[local[p]]
                    if reach >= level - TOL or relaxed:
                        continue
                    raise IplosError(f"cell {p} cannot be protected")
                reach, mu = attacker.maximise(local[p], direction)
                if reach >= level - TOL:
                    continue
                cut = _dual_cut(p, direction, mu, full_rows, values, bound, y, reach, n)
                # y is binary: a coefficient above the right-hand side helps no more than the rhs
                # itself, so capping it gives a stronger, equally valid cut (Fischetti & Salazar)
                cut.data = np.minimum(cut.data, level)
                rows.append(cut)
                lbs.append(float(level))
    return rows, lbs


class _Attacker:
    """max direction * d_p over A d = 0, lo <= d <= hi, one HiGHS model per component whose
    objective alone changes between cells (warm starts)."""

    def __init__(self, matrix: sp.csr_matrix, lo: FloatArray, hi: FloatArray) -> None:
        self.matrix = matrix
        self.bounds = np.stack([lo, hi], axis=1)
        self.n = matrix.shape[1]
        self.h: object | None = None
        self.last: int | None = None
        _core, h = open_highs()
        self._core = _core
        h.setOptionValue("simplex_strategy", 4)
        lp = _core.HighsLp()
        csc = matrix.tocsc()
        lp.num_col_ = self.n
        lp.num_row_ = csc.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = lo.astype(np.float64)
        lp.col_upper_ = hi.astype(np.float64)
        lp.row_lower_ = np.zeros(csc.shape[0])
        lp.row_upper_ = np.zeros(csc.shape[0])
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = self.n
        lp.a_matrix_.num_row_ = csc.shape[0]
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(np.float64)
        h.passModel(lp)
        self.h = h

    def maximise(self, j: int, direction: float) -> tuple[float, FloatArray]:
        """(largest direction * d_j, the equality multipliers of minimising -direction * d_j)."""
        h = self.h
        assert h is not None
        if self.last is not None and self.last != j:
            h.changeColCost(self.last, 0.0)  # type: ignore[attr-defined]
        h.changeColCost(j, -direction)  # type: ignore[attr-defined]
        self.last = j
        h.run()  # type: ignore[attr-defined]
        if h.getModelStatus() != self._core.HighsModelStatus.kOptimal:  # type: ignore[attr-defined]
            raise IplosError("attacker linear program failed")
        sol = h.getSolution()  # type: ignore[attr-defined]
        return -float(h.getInfo().objective_function_value), np.asarray(sol.row_dual)  # type: ignore[attr-defined]


def _dual_cut(
    p: int,
    direction: float,
    mu: FloatArray,
    full_rows: sp.csr_matrix,
    values: FloatArray,
    bound: float,
    y: FloatArray,
    reach: float,
    n: int,
) -> sp.csr_matrix:
    """The weak-duality cut sum(coef * y) >= level from the LP's equality multipliers."""
    best: FloatArray | None = None
    for sign in (1.0, -1.0):
        r = -(full_rows.T @ (sign * np.asarray(mu)))
        r[p] += -direction
        # minimising c.d: r_c > 0 pushes d_c to its lower bound -min(a_c, D)*y_c, r_c < 0 to D*y_c
        coef = np.where(r > 0, r * np.minimum(values, bound), -r * bound)
        coef[np.abs(coef) < 1e-12] = 0.0
        if abs(float(coef @ y) - reach) <= 1e-6 * max(1.0, abs(reach)):
            best = coef
            break
        if best is None or float(coef @ y) < float(best @ y):
            best = coef
    assert best is not None
    nz = np.flatnonzero(best)
    return sp.csr_matrix((best[nz], (np.zeros(nz.size, dtype=np.int64), nz)), shape=(1, n))
