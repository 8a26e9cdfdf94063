"""Implied bounds of the suppressed cells, by propagation over single rows (no LP).

For a row sum(a_i x_i) = b, each term a_j x_j equals b minus the others, so it lies between b
minus the others' largest and smallest activity; starting from x >= 0 and repeating over all rows
until nothing tightens gives outer bounds [L, U] on every cell: no attacker table lies outside
them. They serve as certificates: a feasible table (any LP solution) that reaches U_j proves
that U_j is the largest value of cell j, with no LP of its own. On hierarchical tables they are
usually exact already. (As column bounds of the LP they would change no solution, but they make
each warm-started solve slower than they save.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from iplos.errors import IplosError
from iplos.sdc.tables._table import FloatArray

INFEASIBLE = (
    "the published cells contradict the table's additivity (no non-negative values fit the "
    "suppressed cells): the table is not additive as laid out"
)


def implied_bounds(
    matrix: sp.csr_matrix, rhs: FloatArray, rounds: int = 100, tol: float = 1e-7
) -> tuple[FloatArray, FloatArray]:
    """Outer bounds (L, U) of x over {x >= 0, matrix @ x = rhs} (up to round-off); U may be inf."""
    m = matrix.tocsr()
    n_rows, n = m.shape
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    if n_rows == 0 or m.nnz == 0:
        return lower, upper
    row = np.repeat(np.arange(n_rows), np.diff(m.indptr))
    col = m.indices
    a = m.data
    pos = a > 0
    b = np.asarray(rhs, dtype=np.float64)[row]
    for _ in range(rounds):
        lo_c = np.where(pos, a * lower[col], a * upper[col])
        hi_c = np.where(pos, a * upper[col], a * lower[col])
        fin_lo = np.isfinite(lo_c)
        fin_hi = np.isfinite(hi_c)
        lo_c0 = np.where(fin_lo, lo_c, 0.0)
        hi_c0 = np.where(fin_hi, hi_c, 0.0)
        sum_lo = np.bincount(row, lo_c0, n_rows)[row]
        sum_hi = np.bincount(row, hi_c0, n_rows)[row]
        inf_lo = np.bincount(row, ~fin_lo, n_rows)[row] - ~fin_lo
        inf_hi = np.bincount(row, ~fin_hi, n_rows)[row] - ~fin_hi
        # a_j x_j = b - others, others' activity in [sum_lo - own, sum_hi - own]
        with np.errstate(invalid="ignore"):
            ax_hi = np.where(inf_lo == 0, b - (sum_lo - lo_c0), np.inf)
            ax_lo = np.where(inf_hi == 0, b - (sum_hi - hi_c0), -np.inf)
            new_u = np.where(pos, ax_hi / a, ax_lo / a)
            new_l = np.where(pos, ax_lo / a, ax_hi / a)
        u2 = upper.copy()
        np.minimum.at(u2, col, new_u)
        l2 = lower.copy()
        np.maximum.at(l2, col, new_l)
        l2 = np.maximum(l2, 0.0)
        with np.errstate(invalid="ignore"):
            changed = bool(
                (u2 < upper - tol * np.maximum(1.0, np.abs(u2))).any()
                | (l2 > lower + tol * np.maximum(1.0, l2)).any()
            )
        upper, lower = u2, l2
        if (lower > upper + 1e-6 * np.maximum(1.0, np.abs(lower))).any():
            raise IplosError(INFEASIBLE)
        if not changed:
            break
    return lower, np.maximum(upper, lower)
