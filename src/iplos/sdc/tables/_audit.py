"""The audit: what an attacker can derive about every suppressed cell from what is published.

For each suppressed cell the smallest and largest value consistent with the published cells, the
additivity of the table and non-negativity (two linear programs per cell, see `_lp`). A table
passes when every sensitive cell's interval reaches its protection levels; without the true
values (a file produced elsewhere), when every suppressed cell's interval is at least `min_width`
wide. This module shares no code with the suppression search beyond the constraint matrix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iplos.sdc.tables._lp import components, intervals
from iplos.sdc.tables._table import FloatArray, IntArray

TOLERANCE = 1e-6


@dataclass(frozen=True)
class AuditResult:
    """Per-cell attacker intervals (NaN for published cells) and the verdict."""

    lower: FloatArray
    upper: FloatArray
    suppressed: npt.NDArray[np.bool_]
    checked: npt.NDArray[np.bool_]
    ok: npt.NDArray[np.bool_]
    linear_programs: int
    components: int
    seconds: float

    @property
    def failing(self) -> IntArray:
        """Checked cells whose interval is narrower than required."""
        return np.flatnonzero(self.checked & ~self.ok)

    @property
    def passed(self) -> bool:
        return self.failing.size == 0

    @property
    def exact(self) -> IntArray:
        """Suppressed cells an attacker can recompute exactly."""
        return np.flatnonzero(self.suppressed & (self.upper - self.lower <= TOLERANCE))


def attacker_intervals(
    constraints: sp.csr_matrix, values: FloatArray, suppressed: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, int, int]:
    """Lower and upper bound of every suppressed cell; NaN elsewhere. Also LPs and components."""
    lower = np.full(values.shape[0], np.nan)
    upper = np.full(values.shape[0], np.nan)
    n_lp = 0
    n_comp = 0
    for comp in components(constraints, values, suppressed):
        lo, hi, solved = intervals(comp)
        lower[comp.cells] = lo
        upper[comp.cells] = hi
        n_lp += solved
        n_comp += 1
    return lower, upper, n_lp, n_comp


def audit(
    constraints: sp.csr_matrix,
    values: FloatArray,
    suppressed: npt.NDArray[np.bool_],
    *,
    sensitive: npt.NDArray[np.bool_] | None = None,
    upper_required: FloatArray | None = None,
    lower_required: FloatArray | None = None,
    min_width: float = 0.0,
) -> AuditResult:
    """Audit a suppression pattern.

    With the true `values` and the protection levels, each `sensitive` (primary) cell must reach
    `values - lower_required` and `values + upper_required`. Without levels, every suppressed
    cell's interval must be wider than `min_width` (exactly derivable cells always fail).
    Suppressed entries of `values` are only used for the check, never by the attacker.
    """
    start = time.perf_counter()
    supp = np.asarray(suppressed, dtype=bool)
    lower, upper, n_lp, n_comp = attacker_intervals(constraints, values, supp)
    checked = supp & (np.asarray(sensitive, dtype=bool) if sensitive is not None else True)
    ok = np.ones(values.shape[0], dtype=bool)
    if upper_required is not None and lower_required is not None:
        need_lo = values - lower_required + TOLERANCE
        need_hi = values + upper_required - TOLERANCE
        ok[checked] = (lower[checked] <= need_lo[checked]) & (upper[checked] >= need_hi[checked])
    else:
        width = upper[checked] - lower[checked]
        ok[checked] = width >= min_width - TOLERANCE if min_width > 0 else width > TOLERANCE
    return AuditResult(
        lower=lower,
        upper=upper,
        suppressed=supp,
        checked=checked,
        ok=ok,
        linear_programs=n_lp,
        components=n_comp,
        seconds=time.perf_counter() - start,
    )
