"""The cell key method: consistent noise from a perturbation table (ABS TableBuilder; Eurostat).

Every unit gets a record key in [0, 1) (a keyed hash, see `build_table`); a cell's key is the
fractional part of the sum of its units' keys, so the same set of units always gives the same key
and the same cell always gets the same noise, in whatever table it appears. The noise comes from
a perturbation table: for each original count i (counts above D use row D) a distribution over
the noise values max(-i, -D)..D with mean 0 and variance V, chosen with maximum entropy
(p(v) ∝ exp(a v + b v²); Giessing, "Computational issues in the design of transition probabilities
and disclosure risk estimation for additive noise", PSD 2016). Empty cells stay empty. Where the
truncated support of a small count cannot reach variance V, the row takes the largest variance it
can (reported per row). The cell key is looked up in the row's cumulative distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import root

from iplos.errors import IplosError
from iplos.sdc.tables._table import FloatArray, Table


@dataclass(frozen=True)
class PerturbationTable:
    """Noise distributions for counts 0..D (row D serves every larger count)."""

    max_noise: int = 2
    variance: float = 1.0

    def __post_init__(self) -> None:
        if self.max_noise < 1:
            raise IplosError(f"the maximum noise D must be at least 1, not {self.max_noise}")
        if not 0 < self.variance < self.max_noise**2:
            raise IplosError(
                f"the noise variance V must lie in (0, D²) = (0, {self.max_noise**2}), not {self.variance}"
            )

    @cached_property
    def rows(self) -> tuple[tuple[np.ndarray, FloatArray, float], ...]:
        """Per original count i: (noise values, probabilities, achieved variance)."""
        out: list[tuple[np.ndarray, FloatArray, float]] = [(np.array([0]), np.array([1.0]), 0.0)]
        for i in range(1, self.max_noise + 1):
            support = np.arange(max(-i, -self.max_noise), self.max_noise + 1)
            target = min(self.variance, 0.95 * i * self.max_noise)
            probs = _max_entropy(support, target)
            var = float((probs * support**2).sum())
            out.append((support, probs, var))
        return tuple(out)

    def noise(self, counts: FloatArray, cell_keys: FloatArray) -> FloatArray:
        """Noise for each cell from its original count and cell key."""
        out = np.zeros(counts.shape[0])
        row_of = np.minimum(np.rint(counts).astype(np.int64), self.max_noise)
        for i, (support, probs, _) in enumerate(self.rows):
            sel = row_of == i
            if i == 0 or not sel.any():
                continue
            cum = np.cumsum(probs)
            cum[-1] = 1.0
            pick = np.searchsorted(cum, cell_keys[sel], side="right")
            out[sel] = support[np.minimum(pick, support.size - 1)]
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "method": "cell key (maximum-entropy perturbation table)",
            "D": self.max_noise,
            "V": self.variance,
            "rows": [
                {
                    "count": i if i < self.max_noise else f">={self.max_noise}",
                    "noise": [int(v) for v in support],
                    "probability": [round(float(p), 6) for p in probs],
                    "variance": round(var, 6),
                }
                for i, (support, probs, var) in enumerate(self.rows)
            ],
        }


def _max_entropy(support: np.ndarray, variance: float) -> FloatArray:
    """p(v) ∝ exp(a v + b v²) on `support` with mean 0 and the given variance."""
    s = support.astype(np.float64)

    def probs(theta: FloatArray) -> FloatArray:
        z = theta[0] * s + theta[1] * s**2
        w = np.exp(z - z.max())
        return np.asarray(w / w.sum(), dtype=np.float64)

    def equations(theta: FloatArray) -> list[float]:
        p = probs(theta)
        return [float((p * s).sum()), float((p * s**2).sum() - variance)]

    sol = root(equations, np.array([0.0, 0.0]), method="hybr")
    p = probs(sol.x)
    if not sol.success or max(abs(e) for e in equations(sol.x)) > 1e-6:
        raise IplosError(f"no perturbation distribution on {support.tolist()} with variance {variance}")
    return p


def cell_keys(table: Table) -> FloatArray:
    """Fractional part of each cell's sum of record keys."""
    if table.key_sums is None:
        raise IplosError("the table was built without a cell key seed")
    return np.asarray(np.mod(table.key_sums, 1.0), dtype=np.float64)


def perturb(table: Table, ptable: PerturbationTable) -> FloatArray:
    """Perturbed counts of a frequency table: value + noise, never below zero."""
    if table.kind != "frequency":
        raise IplosError("the cell key method here perturbs frequency tables (counts)")
    noisy = table.values + ptable.noise(table.values, cell_keys(table))
    return np.asarray(np.maximum(noisy, 0.0), dtype=np.float64)
