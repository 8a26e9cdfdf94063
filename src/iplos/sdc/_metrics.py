"""Utility metrics: how much information a transformation loses (lower is better for all five).

All follow ARX 3.9's definitions (Prasser et al.); records in suppressed classes count as fully
generalised. Every metric is computed from a `NodeSummary` (the suppressed classes' sizes and codes,
the passing classes' sizes) plus per-level constants of the input, so it costs nothing per row.

- `Loss`: ARX's default, generalized information loss (Iyengar, KDD 2002). Per attribute,
  a value covering u of the hierarchy's D leaves costs u/D per record; with the
  generalization/suppression factor 0.5 a suppressed record costs 1. The sum over records is
  normalised to [0, 1] between n/D (no generalisation) and n, and attributes are aggregated by
  ARX's geometric mean: prod(1 + v_i)^(1/m) - 1 (ARX `MetricMDNMLoss`, `ILMultiDimensionalGeometricMean`).
  ARX also rounds each attribute's value to a fixed number of decimals; iplos does not round,
  which can only matter for exact ties.
- `NonUniformEntropy`: sum over attributes and records of log2(f(generalised value)/f(original))
  with frequencies f in the input (Prasser et al., "Lightning", 2016). Attributes are summed.
  Differs from ARX 3.9 on purpose: ARX's `MetricMDNUEntropyPrecomputed` computes the sum from the
  input's cardinalities alone, so a suppressed record costs what it would cost released at the
  node's levels; iplos counts a suppressed record as generalised to the root (log2(n/f(original))),
  so suppression is never free. The two agree when nothing is suppressed; with suppression iplos's
  value is ARX's plus, per suppressed record and attribute, log2(n / f(generalised value))
  (tests/sdc/test_sdc_entropy_arx.py), which is where the measured differences of up to 6.6 % come from.
- `Discernibility`: sum of squared sizes of the released classes plus n for each suppressed
  record (Bayardo & Agrawal, ICDE 2005).
- `AECS`: average equivalence class size, n divided by the number of classes, the suppressed
  records forming one class (LeFevre et al., "Mondrian", 2006).
- `Precision`: per attribute the mean of level/(height-1) over records, 1 for suppressed records
  (Sweeney 2002); attributes are averaged (arithmetic mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc._encoding import EncodedHierarchy

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NodeSummary:
    """What the metrics need to know about one node's classes and its suppression."""

    suppressed: int
    passing_classes: int
    passing_sum_squares: int
    suppressed_under: tuple[int, ...]
    suppressed_log_freq: tuple[float, ...]


EMPTY = NodeSummary(0, 0, 0, (), ())


class MetricContext:
    """Per-attribute, per-level constants of the input that the metrics use."""

    def __init__(self, hierarchies: Sequence[EncodedHierarchy], leaf_counts: Sequence[IntArray]) -> None:
        self.hierarchies = tuple(hierarchies)
        self.n = int(leaf_counts[0].sum()) if leaf_counts else 0
        self.level_freq: list[list[IntArray]] = []
        self.loss_total: list[list[int]] = []
        self.entropy_total: list[list[float]] = []
        for h, counts in zip(hierarchies, leaf_counts, strict=True):
            freqs, losses, entropies = [], [], []
            present = counts > 0
            for level in range(h.height):
                codes = h.leaf_codes[level]
                freq = np.bincount(codes, weights=counts, minlength=h.cardinality(level)).astype(np.int64)
                freqs.append(freq)
                losses.append(int((counts * h.leaves_under[level][codes]).sum()))
                ratio = freq[codes[present]] / counts[present]
                entropies.append(float((counts[present] * np.log2(ratio)).sum()))
            self.level_freq.append(freqs)
            self.loss_total.append(losses)
            self.entropy_total.append(entropies)
        self.log_freq: list[list[FloatArray]] = [
            [np.log2(np.maximum(f, 1)).astype(np.float64) for f in freqs] for freqs in self.level_freq
        ]

    def summarise(
        self,
        levels: Sequence[int],
        sizes: IntArray,
        passing: npt.NDArray[np.bool_],
        codes: Sequence[IntArray],
    ) -> NodeSummary:
        """Summary of a node from its class sizes, pass mask and the suppressed classes' codes."""
        failing = ~passing
        supp_sizes = sizes[failing]
        kept = sizes[passing]
        # Plain multiply-and-sum, not np.dot: BLAS threads cost more than they save here.
        under = tuple(
            int((supp_sizes * h.leaves_under[level][c]).sum())
            for h, level, c in zip(self.hierarchies, levels, codes, strict=True)
        )
        logf = tuple(
            float((supp_sizes * self.log_freq[j][level][c]).sum())
            for j, (level, c) in enumerate(zip(levels, codes, strict=True))
        )
        return NodeSummary(
            suppressed=int(supp_sizes.sum()),
            passing_classes=int(kept.shape[0]),
            passing_sum_squares=int((kept * kept).sum()),
            suppressed_under=under,
            suppressed_log_freq=logf,
        )


class Metric(Protocol):
    """A utility metric: lower values mean less information lost."""

    @property
    def name(self) -> str:
        """Short name used on the command line and in reports."""
        ...

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float: ...

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        """A value no node with these levels can go below, whatever it suppresses."""
        ...


@dataclass(frozen=True)
class Loss:
    """ARX's generalized information loss ("Loss"), geometric mean over attributes (see module doc)."""

    gs_factor: float = 0.5
    name: str = "loss"

    def __post_init__(self) -> None:
        if not 0 <= self.gs_factor <= 1:
            raise IplosError(
                f"the generalization/suppression factor must lie in [0, 1], not {self.gs_factor}"
            )

    def attribute_values(
        self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary
    ) -> list[float]:
        """Normalised loss of each attribute, in [0, 1]."""
        gs = self.gs_factor
        s_factor = 2 * gs if gs < 0.5 else 1.0
        g_factor = 1.0 if gs <= 0.5 else 1.0 - 2.0 * (gs - 0.5)
        n = ctx.n
        out = []
        for j, (h, level) in enumerate(zip(ctx.hierarchies, levels, strict=True)):
            d = h.domain_size
            supp_under = summary.suppressed_under[j] if summary.suppressed_under else 0
            kept = ctx.loss_total[j][level] - supp_under
            supp_full = summary.suppressed * d
            supp = supp_full if s_factor == 1.0 else supp_under + s_factor * (supp_full - supp_under)
            scaled = g_factor * kept + supp  # = D * (ARX's aggregate)
            denominator = n * d - g_factor * n
            out.append(max(0.0, (scaled - g_factor * n) / denominator) if denominator > 0 else 0.0)
        return out

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float:
        values = self.attribute_values(ctx, levels, summary)
        if not values:
            return 0.0
        product = 1.0
        for v in values:
            product *= (1.0 + v) ** (1.0 / len(values))
        return product - 1.0

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        return self.value(ctx, levels, EMPTY)


@dataclass(frozen=True)
class NonUniformEntropy:
    """Non-uniform entropy in bits, summed over attributes (see module doc)."""

    name: str = "entropy"

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float:
        total = 0.0
        log_n = math.log2(ctx.n) if ctx.n > 0 else 0.0
        for j, level in enumerate(levels):
            total += ctx.entropy_total[j][level]
            if summary.suppressed:
                total += summary.suppressed * log_n - summary.suppressed_log_freq[j]
        return total

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        return self.value(ctx, levels, EMPTY)


@dataclass(frozen=True)
class Discernibility:
    """Discernibility: sum of squared released class sizes plus n per suppressed record."""

    name: str = "discernibility"

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float:
        return float(summary.passing_sum_squares + summary.suppressed * ctx.n)

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        return float(ctx.n)


@dataclass(frozen=True)
class AECS:
    """Average equivalence class size, the suppressed records counted as one class."""

    name: str = "aecs"

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float:
        classes = summary.passing_classes + (1 if summary.suppressed else 0)
        return ctx.n / classes if classes else 0.0

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        return 1.0 if ctx.n else 0.0


@dataclass(frozen=True)
class Precision:
    """Precision loss: mean of level/(height-1) per record and attribute, 1 when suppressed."""

    name: str = "precision"

    def value(self, ctx: MetricContext, levels: Sequence[int], summary: NodeSummary) -> float:
        if not levels or ctx.n == 0:
            return 0.0
        total = 0.0
        for h, level in zip(ctx.hierarchies, levels, strict=True):
            share = level / (h.height - 1) if h.height > 1 else 0.0
            total += (share * (ctx.n - summary.suppressed) + summary.suppressed) / ctx.n
        return total / len(levels)

    def lower_bound(self, ctx: MetricContext, levels: Sequence[int]) -> float:
        return self.value(ctx, levels, EMPTY)


ALL_METRICS: tuple[Metric, ...] = (Loss(), NonUniformEntropy(), Discernibility(), AECS(), Precision())


def metric_named(name: str) -> Metric:
    """The metric of a name: loss, entropy, discernibility, aecs or precision."""
    for metric in ALL_METRICS:
        if metric.name == name:
            return metric
    raise IplosError(f"unknown metric {name!r}; choose one of {', '.join(m.name for m in ALL_METRICS)}")
