"""Optimal secondary suppression: a minimum-cost pattern by mixed-integer programming.

The model of Fischetti & Salazar (JASA 2000): a binary y_c per cell (1 = suppressed, fixed to 1 for
sensitive cells), minimise sum(cost_c * y_c) subject to, for every sensitive cell p and direction,
the attacker's linear program reaching p's protection level. That program, maximise d_p subject to
A d = 0 and -min(a_c, D) * y_c <= d_c <= D * y_c (D: the largest protection level required),
is replaced by its dual: for any multipliers mu of A d = 0, with reduced costs r = e_p - A^T mu,
sum_c (max(-r_c, 0) * D + max(r_c, 0) * min(a_c, D)) * y_c >= upper_p must hold (weak duality), and for the
optimal mu of an unprotected pattern it is violated. So: solve the master (HiGHS through
scipy.optimize.milp), check each sensitive cell with two LPs over its suppressed component, add
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
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from iplos.errors import IplosError
from iplos.sdc.tables._lp import components
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


def optimal_suppression(
    values: FloatArray,
    constraints: sp.csr_matrix,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
    cost: FloatArray,
    time_limit: float = 60.0,
    max_rounds: int = 200,
) -> OptimalOutcome:
    """Minimum-cost suppression by cut generation; `finished` is False when time ran out."""
    start = time.perf_counter()
    n = values.shape[0]
    bound = float(max(upper[primary].max(initial=0.0), lower[primary].max(initial=0.0), 1.0))
    a_csc = constraints.tocsc()
    cut_rows: list[sp.csr_matrix] = []
    cut_lb: list[float] = []
    prim = np.flatnonzero(primary)
    if prim.size == 0:
        return OptimalOutcome(primary.copy(), True, 0, 0, True)
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
        cut_rows.append(sp.csr_matrix((np.ones(len(rows_idx)), (rows_idx, cols_idx)), shape=(r, n)))
        cut_lb.extend([1.0] * r)
    rounds = 0
    n_cuts = r
    proven = True
    lb_y = primary.astype(np.float64)
    while rounds < max_rounds:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - start)
        if remaining <= 0:
            return OptimalOutcome(primary.copy(), False, rounds, n_cuts, False)
        matrix = sp.vstack(cut_rows).tocsr() if cut_rows else sp.csr_matrix((0, n))
        cons = [LinearConstraint(matrix, np.array(cut_lb), np.inf)] if cut_lb else []
        res = milp(
            cost,
            constraints=cons,
            integrality=np.ones(n),
            bounds=Bounds(lb_y, np.ones(n)),
            options={"time_limit": remaining, "disp": False, "mip_rel_gap": 1e-6},
        )
        if res.x is None:
            if res.status == 1:  # time limit without a solution
                return OptimalOutcome(primary.copy(), False, rounds, n_cuts, False)
            raise IplosError(f"secondary suppression model failed: {res.message}")
        if res.status != 0:
            proven = False
        y = np.round(res.x).astype(bool) | primary
        new_rows, new_lb = _violated_cuts(values, constraints, y, primary, upper, lower, bound)
        if not new_rows:
            return OptimalOutcome(y, proven, rounds, n_cuts, True)
        cut_rows.append(sp.vstack(new_rows).tocsr())
        cut_lb.extend(new_lb)
        n_cuts += len(new_lb)
    return OptimalOutcome(primary.copy(), False, rounds, n_cuts, False)


def _violated_cuts(
    values: FloatArray,
    constraints: sp.csr_matrix,
    y: BoolArray,
    primary: BoolArray,
    upper: FloatArray,
    lower: FloatArray,
    bound: float,
) -> tuple[list[sp.csr_matrix], list[float]]:
    rows: list[sp.csr_matrix] = []
    lbs: list[float] = []
    n = values.shape[0]
    for comp in components(constraints, values, y):
        sens = [int(c) for c in comp.cells if primary[c]]
        if not sens:
            continue
        local = {int(c): i for i, c in enumerate(comp.cells)}
        lo = -np.minimum(values[comp.cells], bound)
        hi = np.full(comp.cells.size, bound)
        full_rows = constraints[comp.rows]
        for p in sens:
            for direction, level in ((1.0, upper[p]), (-1.0, lower[p])):
                if level <= TOL:
                    continue
                c = np.zeros(comp.cells.size)
                c[local[p]] = -direction
                if comp.matrix.shape[0] == 0:
                    reach = hi[local[p]] if direction > 0 else -lo[local[p]]
                    if reach >= level - TOL:
                        continue
                    raise IplosError(f"cell {p} cannot be protected")
                res = linprog(
                    c,
                    A_eq=comp.matrix,
                    b_eq=np.zeros(comp.matrix.shape[0]),
                    bounds=np.stack([lo, hi], axis=1),
                    method="highs",
                )
                if res.status != 0:
                    raise IplosError(f"attacker linear program failed: {res.message}")
                reach = -float(res.fun)
                if reach >= level - TOL:
                    continue
                cut = _dual_cut(p, direction, res.eqlin.marginals, full_rows, values, bound, y, reach, n)
                rows.append(cut)
                lbs.append(float(level))
    return rows, lbs


def _dual_cut(
    p: int,
    direction: float,
    mu: FloatArray,
    full_rows: sp.csr_matrix,
    values: FloatArray,
    bound: float,
    y: BoolArray,
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
