"""The cell key method: consistent noise from a perturbation table (ABS TableBuilder; Eurostat).

Every person has a record key in [0, 1), a secret of the key holder (`iplos.ident.RecordKeys`);
a cell's key is the fractional part of the sum of its persons' keys, so the same set of units always gives the same key
and the same cell always gets the same noise, in whatever table it appears. The noise comes from
a perturbation table: for each original count i (counts above D use row D) a distribution over
the noise values max(-i, -D)..D with mean 0 and variance V, chosen with maximum entropy
(p(v) ∝ exp(a v + b v²); Giessing, "Computational issues in the design of transition probabilities
and disclosure risk estimation for additive noise", PSD 2016), or a p-table given as data. Empty
cells stay empty; with js > 0 no cell is published as 1..js. Where the truncated support of a small
count cannot reach variance V, the row takes the nearest variance it can (reported per row). The
cell key is looked up in the row's cumulative distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import root

from iplos.errors import IplosError, Problem
from iplos.sdc.tables._table import FloatArray, Table

Row = tuple[npt.NDArray[np.int64], FloatArray, float]


@dataclass(frozen=True)
class PerturbationTable:
    """Noise distributions for counts 0..D+js (the last row serves every larger count).

    `max_noise` (D): the largest deviation either way; `variance` (V): the noise variance of
    large counts; `small` (js): no cell is published with a count in 1..js (small counts go to 0
    or above js, as the ptable package's `js`; Enderle, Giessing & Tent, "Designing confidentiality
    on the fly methodology", PSD 2018). Build from the parameters, or read a p-table given as data
    (`from_csv`, the layout of `to_csv`: one row per original count i, noise v, perturbed count
    j = i + v and probability p).
    """

    max_noise: int = 2
    variance: float = 1.0
    small: int = 0
    given: tuple[Row, ...] | None = field(default=None, compare=False, repr=False)
    source: str | None = None

    def __post_init__(self) -> None:
        if self.given is not None:
            return
        if self.max_noise < 1:
            raise IplosError(f"the maximum noise D must be at least 1, not {self.max_noise}")
        if not 0 < self.variance < self.max_noise**2:
            raise IplosError(
                f"the noise variance V must lie in (0, D²) = (0, {self.max_noise**2}), not {self.variance}"
            )
        if not 0 <= self.small < self.max_noise:
            raise IplosError(
                f"the small-value threshold js must lie in [0, D) = [0, {self.max_noise}), not {self.small}"
            )

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """Per original count i: (noise values, probabilities, achieved variance)."""
        if self.given is not None:
            return self.given
        d, js = self.max_noise, self.small
        out: list[Row] = [(np.array([0]), np.array([1.0]), 0.0)]
        for i in range(1, d + js + 1):
            v = np.arange(max(-i, -d), d + 1)
            support = v[~((i + v >= 1) & (i + v <= js))]
            probs = _distribution(support, self.variance)
            out.append((support, probs, float((probs * support**2).sum())))
        return tuple(out)

    def noise(self, counts: FloatArray, cell_keys: FloatArray) -> FloatArray:
        """Noise for each cell from its original count and cell key."""
        out = np.zeros(counts.shape[0])
        row_of = np.minimum(np.rint(counts).astype(np.int64), len(self.rows) - 1)
        for i, (support, probs, _) in enumerate(self.rows):
            sel = row_of == i
            if not sel.any():
                continue
            cum = np.cumsum(probs)
            cum[-1] = 1.0
            pick = np.searchsorted(cum, cell_keys[sel], side="right")
            out[sel] = support[np.minimum(pick, support.size - 1)]
        return out

    def as_dict(self) -> dict[str, object]:
        last = len(self.rows) - 1
        return {
            "method": "cell key (perturbation table "
            + (f"read from {Path(self.source).name})" if self.source else "of maximum entropy)"),
            "D": self.max_noise,
            "V": self.variance,
            "js": self.small,
            "rows": [
                {
                    "count": i if i < last else f">={last}",
                    "noise": [int(v) for v in support],
                    "probability": [round(float(p), 6) for p in probs],
                    "variance": round(var, 6),
                }
                for i, (support, probs, var) in enumerate(self.rows)
            ],
        }

    def to_csv(self) -> str:
        """The p-table as data: `i,j,p,v` per original count and noise value."""
        lines = ["i,j,p,v"]
        for i, (support, probs, _) in enumerate(self.rows):
            lines += [
                f"{i},{i + int(v)},{float(p):.12g},{int(v)}" for v, p in zip(support, probs, strict=True)
            ]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_csv(cls, path: str | Path) -> PerturbationTable:
        """Read a p-table (columns i, j, p, v; i from 0 up, the last serving larger counts)."""
        src = str(path)
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise IplosError(f"cannot read perturbation table {src}: {exc}") from None
        missing = [c for c in ("i", "p", "v") if c not in frame.columns]
        if missing:
            raise IplosError(f"perturbation table {src} lacks column {', '.join(missing)}")
        for col in ("i", "p", "v"):
            bad = pd.to_numeric(frame[col], errors="coerce").isna()
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                raise IplosError(
                    f"perturbation table {src}: not a number",
                    [Problem("not a number", file=src, row=r + 2, column=col, value=str(frame[col].iloc[r]))],
                )
        rows: list[Row] = []
        for i in range(int(frame["i"].max()) + 1):
            part = frame[frame["i"] == i]
            if part.empty:
                raise IplosError(f"perturbation table {src} has no row for count {i}")
            v = part["v"].to_numpy(dtype=np.int64)
            p = part["p"].to_numpy(dtype=np.float64)
            first = int(part.index[0]) + 2
            if (p < 0).any() or abs(p.sum() - 1.0) > 1e-6:
                raise IplosError(
                    f"perturbation table {src}: the probabilities of count {i} do not sum to 1",
                    [Problem("probabilities must be >= 0 and sum to 1", file=src, row=first, column="p")],
                )
            if (i + v < 0).any():
                raise IplosError(
                    f"perturbation table {src}: count {i} could become negative",
                    [Problem("i + v must be >= 0", file=src, row=first, column="v")],
                )
            rows.append((v, p / p.sum(), float((p * v**2).sum() - (p * v).sum() ** 2)))
        d = int(max(int(np.abs(v).max()) for v, _, _ in rows))
        produced = {
            i + int(x) for i, (v, p, _) in enumerate(rows) for x, q in zip(v, p, strict=True) if q > 0
        }
        js = 0
        while js + 1 not in produced and js + 1 < len(rows):
            js += 1
        return cls(d, rows[-1][2], js, tuple(rows), src)


def _distribution(support: npt.NDArray[np.int64], variance: float) -> FloatArray:
    """Mean-0 distribution on `support` of maximum entropy with the variance nearest to V."""
    neg, pos = support[support < 0], support[support > 0]
    if 0 in support and (neg.size == 0 or pos.size == 0):
        return np.asarray(support == 0, dtype=np.float64)
    if neg.size == 0 or pos.size == 0:
        raise IplosError(f"no mean-0 noise on {support.tolist()}")
    a, b = -int(neg.max()), int(pos.min())
    lowest = 0.0 if 0 in support else float(a * b)
    highest = float(-int(neg.min()) * int(pos.max()))
    if support.size == 2 or highest - lowest < 1e-9:
        two = np.zeros(support.size)
        lo_v, hi_v = (int(neg.min()), int(pos.max())) if support.size == 2 else (-a, b)
        two[support == lo_v] = hi_v / (hi_v - lo_v)
        two[support == hi_v] = -lo_v / (hi_v - lo_v)
        return two
    target = min(max(variance, lowest + 0.05 * (highest - lowest)), lowest + 0.95 * (highest - lowest))
    return _max_entropy(support, target)


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
        raise IplosError(
            "the table was built without record keys (the key holder's, for the cell key method)"
        )
    return np.asarray(np.mod(table.key_sums, 1.0), dtype=np.float64)


def perturb(table: Table, ptable: PerturbationTable) -> FloatArray:
    """Perturbed counts of a frequency table: value + noise, never below zero."""
    if table.kind != "frequency":
        raise IplosError("the cell key method here perturbs frequency tables (counts)")
    noisy = np.maximum(table.values + ptable.noise(table.values, cell_keys(table)), 0.0)
    return np.asarray(noisy, dtype=np.float64)
