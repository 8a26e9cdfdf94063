"""The audit: what an attacker can derive about every suppressed cell from what is published.

For each suppressed cell the smallest and largest value consistent with the published cells, the
additivity of the table and non-negativity (two linear programs per cell, see `_lp`). A table
passes when every sensitive cell's interval reaches its protection levels; without the true
values (a file produced elsewhere), when every suppressed cell's interval is at least `min_width`
wide. This module shares no code with the suppression search beyond the constraint matrix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iplos.errors import IplosError
from iplos.sdc.tables._lp import Goal, components, intervals
from iplos.sdc.tables._table import FloatArray, IntArray

TOLERANCE = 1e-6
IntervalMode = Literal["exact", "witnessed"]
INTERVAL_NOTES = {
    "exact": "lower and upper are the smallest and largest value an attacker can derive",
    "witnessed": (
        "cells with exact=false: lower and upper are values an attacker cannot exclude (the true "
        "interval is at least this wide), computed only as far as the verdict needs; exact=true: "
        "the smallest and largest value an attacker can derive"
    ),
}


@dataclass(frozen=True)
class AuditResult:
    """Per-cell attacker intervals (NaN for published cells) and the verdict.

    With `intervals == "exact"` every interval is the attacker's true smallest and largest value.
    With "witnessed" the verdict is the same, but an interval that already reaches what the cell
    needs is reported as far as it was seen (an attacker cannot exclude it: the true interval
    contains it); `exact_cells` marks the cells whose interval is exact all the same.
    """

    lower: FloatArray
    upper: FloatArray
    suppressed: npt.NDArray[np.bool_]
    checked: npt.NDArray[np.bool_]
    ok: npt.NDArray[np.bool_]
    linear_programs: int
    components: int
    seconds: float
    intervals: IntervalMode = "exact"
    exact_cells: npt.NDArray[np.bool_] | None = None

    @property
    def failing(self) -> IntArray:
        """Checked cells whose interval is narrower than required."""
        return np.flatnonzero(self.checked & ~self.ok)

    @property
    def passed(self) -> bool:
        return self.failing.size == 0

    @property
    def exact(self) -> IntArray:
        """Suppressed cells an attacker can recompute exactly (proven so: with witnessed
        intervals, only cells whose interval is exact count)."""
        proven = self.suppressed if self.exact_cells is None else self.exact_cells
        return np.flatnonzero(proven & (self.upper - self.lower <= TOLERANCE))


def attacker_intervals(
    constraints: sp.csr_matrix,
    values: FloatArray,
    suppressed: npt.NDArray[np.bool_],
    goal: Goal | None = None,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_], int, int]:
    """Lower and upper bound of every suppressed cell (NaN elsewhere), which are exact, LPs and
    components. `goal` (over all cells) limits the work to what a verdict needs."""
    lower = np.full(values.shape[0], np.nan)
    upper = np.full(values.shape[0], np.nan)
    exact = np.zeros(values.shape[0], dtype=bool)
    n_lp = 0
    n_comp = 0
    for comp in components(constraints, values, suppressed):
        local = None
        if goal is not None:
            c = comp.cells
            truth = None if goal.truth is None else goal.truth[c]
            local = Goal(
                low=goal.low[c],
                high=goal.high[c],
                width=goal.width[c],
                truth=truth,
                seen_low=None if goal.seen_low is None else goal.seen_low[c],
                seen_high=None if goal.seen_high is None else goal.seen_high[c],
                prove=goal.prove,
            )
        found = intervals(comp, local)
        lower[comp.cells] = found.lower
        upper[comp.cells] = found.upper
        exact[comp.cells] = found.exact
        n_lp += found.solved
        n_comp += 1
    return lower, upper, exact, n_lp, n_comp


def audit(
    constraints: sp.csr_matrix,
    values: FloatArray,
    suppressed: npt.NDArray[np.bool_],
    *,
    sensitive: npt.NDArray[np.bool_] | None = None,
    upper_required: FloatArray | None = None,
    lower_required: FloatArray | None = None,
    min_width: float = 0.0,
    intervals: IntervalMode = "exact",
    previous: AuditResult | None = None,
    witnesses: Sequence[tuple[IntArray, FloatArray]] = (),
    prove_failing: bool = True,
) -> AuditResult:
    """Audit a suppression pattern.

    With the true `values` and the protection levels, each `sensitive` (primary) cell must reach
    `values - lower_required` and `values + upper_required`. Without levels, every suppressed
    cell's interval must be wider than `min_width` (exactly derivable cells always fail).
    Suppressed entries of `values` are only used for the check, never by the attacker.
    `intervals="witnessed"` gives the same verdict with far fewer LPs (see `AuditResult`).

    With witnessed intervals and true values, two kinds of attacker tables already known spare
    programs (each is checked here, none is taken on trust): the intervals of a `previous` audit
    of the same values whose suppressed cells are a subset of these (suppressing more cells only
    widens what an attacker cannot exclude, so every value seen then can still be seen), and
    `witnesses`, deviations (cells, amounts) that move the true table to another one that keeps
    every published cell, every sum and non-negativity. `prove_failing=False` (witnessed
    intervals only) spares the exact programs of the cells no witness protects: they fail
    unproven (only a suppression search that goes on to protect them wants that).
    """
    start = time.perf_counter()
    if intervals not in ("exact", "witnessed"):
        raise IplosError(f"unknown audit interval mode {intervals!r}; use exact or witnessed")
    supp = np.asarray(suppressed, dtype=bool)
    checked = supp & (np.asarray(sensitive, dtype=bool) if sensitive is not None else True)
    targets = upper_required is not None and lower_required is not None
    goal = None
    if intervals == "witnessed":
        n = values.shape[0]
        none = np.full(n, np.nan)
        if targets:
            assert upper_required is not None and lower_required is not None
            goal = Goal(
                low=np.where(checked, values - lower_required, np.nan),
                high=np.where(checked, values + upper_required, np.nan),
                width=none,
                truth=np.asarray(values, dtype=np.float64),
                **_known(constraints, values, supp, previous, witnesses),
                prove=prove_failing,
            )
        else:
            need = min_width if min_width > 0 else 2 * TOLERANCE
            goal = Goal(low=none, high=none, width=np.where(checked, need, np.nan))
    lower, upper, exact, n_lp, n_comp = attacker_intervals(constraints, values, supp, goal)
    ok = np.ones(values.shape[0], dtype=bool)
    if targets:
        assert upper_required is not None and lower_required is not None
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
        intervals=intervals,
        exact_cells=exact & supp,
    )


def _known(
    constraints: sp.csr_matrix,
    values: FloatArray,
    suppressed: npt.NDArray[np.bool_],
    previous: AuditResult | None,
    witnesses: Sequence[tuple[IntArray, FloatArray]],
) -> dict[str, FloatArray]:
    """Values attacker tables are known to take, per cell (+inf/-inf: none): the previous
    audit's intervals and the valid witnesses."""
    n = values.shape[0]
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    if previous is not None:
        if previous.suppressed.shape != suppressed.shape or (previous.suppressed & ~suppressed).any():
            raise IplosError(
                "a previous audit can only seed this one when every cell it found suppressed is still "
                "suppressed"
            )
        was = previous.suppressed
        low[was] = np.minimum(low[was], previous.lower[was])
        high[was] = np.maximum(high[was], previous.upper[was])
    scale = max(1.0, float(np.abs(values).max(initial=0.0)))
    for cells, amounts in witnesses:
        x = np.asarray(values, dtype=np.float64).copy()
        np.add.at(x, cells, amounts)
        moved = cells[np.abs(amounts) > 0]
        if not suppressed[moved].all() or (x[moved] < -TOLERANCE).any():
            continue
        if np.abs(constraints @ (x - values)).max(initial=0.0) > TOLERANCE * scale:
            continue
        low[moved] = np.minimum(low[moved], x[moved])
        high[moved] = np.maximum(high[moved], x[moved])
    return {"seen_low": low, "seen_high": high}
