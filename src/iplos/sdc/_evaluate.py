"""Evaluating one lattice node: group, apply the criteria, suppress, measure.

`NodeEvaluator` keeps the input as the finest source and materialises smaller sources as coarser
nodes get grouped, so later nodes roll up from the smallest table finer than themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc._criteria import Criterion
from iplos.sdc._encoding import EncodedHierarchy
from iplos.sdc._frequency import FrequencyTable
from iplos.sdc._metrics import ALL_METRICS, MetricContext, NodeSummary
from iplos.sdc._rollup import Classes, Source, group_node

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A grouped node is kept as a source when it has at most this share of its source's rows.
MATERIALISE_RATIO = 0.25
# ... and has more classes than this (tiny tables are cheap to roll up from their source anyway)
MIN_MATERIALISE = 1000
# ... and when all kept sources together hold at most this many times the input's rows.
CACHE_BUDGET = 1.0
# The meet of the remaining candidates is materialised when it has at most this share of rows.
MEET_RATIO = 0.5


@dataclass(frozen=True)
class NodeResult:
    """One evaluated transformation: its levels, suppression and (when it satisfies) its metrics."""

    levels: tuple[int, ...]
    satisfies: bool
    suppressed: int
    classes: int
    metrics: dict[str, float]


def suppression_limit(max_suppressed: float, n_records: int) -> int:
    """Most records that may be suppressed: floor(share * n), as ARX counts its outlier limit."""
    if not 0 <= max_suppressed <= 1:
        raise IplosError(f"the suppression limit is a share in [0, 1], not {max_suppressed}")
    return math.floor(max_suppressed * n_records + 1e-9)


def expand_criteria(
    criteria: Sequence[Criterion], sensitive: Sequence[str]
) -> list[tuple[Criterion, str | None]]:
    """Pair each criterion with the sensitive attribute(s) it judges."""
    out: list[tuple[Criterion, str | None]] = []
    for criterion in criteria:
        attrs = criterion.attributes
        if attrs == ():
            out.append((criterion, None))
            continue
        targets = tuple(sensitive) if attrs is None else attrs
        if not targets:
            raise IplosError(f"{criterion.describe()} needs a sensitive attribute, and none is given")
        for attr in targets:
            if attr not in sensitive:
                raise IplosError(f"{criterion.describe()}: {attr!r} is not a sensitive attribute of the data")
            out.append((criterion, attr))
    return out


class NodeEvaluator:
    """Evaluates nodes of one frequency table against fixed criteria and a suppression limit."""

    def __init__(
        self,
        freq: FrequencyTable,
        hierarchies: Sequence[EncodedHierarchy],
        criteria: Sequence[Criterion],
        max_suppressed: float,
    ) -> None:
        self.freq = freq
        self.hierarchies = tuple(hierarchies)
        self.checks = expand_criteria(criteria, freq.sensitive)
        self.n = freq.n_records
        self.max_out = suppression_limit(max_suppressed, self.n)
        self.base = Source(
            levels=(0,) * len(hierarchies),
            codes=freq.codes,
            counts=freq.counts,
            sensitive_codes=freq.sensitive_codes,
        )
        self.distributions = tuple(
            np.bincount(codes, weights=freq.counts, minlength=len(labels)) / max(self.n, 1)
            for codes, labels in zip(freq.sensitive_codes, freq.sensitive_labels, strict=True)
        )
        leaf_counts = self.base.code_counts([h.domain_size for h in hierarchies])
        self.context = MetricContext(hierarchies, leaf_counts)
        self.sources: list[Source] = [self.base]
        self._prepared: set[tuple[int, ...]] = set()
        self.evaluations = 0

    def group(self, levels: Sequence[int]) -> Classes:
        """The classes of a node, rolled up from the smallest known source finer than it."""
        usable = [s for s in self.sources if all(a <= b for a, b in zip(s.levels, levels, strict=True))]
        source = min(usable, key=lambda s: s.n_rows)
        classes = group_node(
            source,
            levels,
            self.hierarchies,
            self.freq.sensitive,
            self.distributions,
            self.freq.sensitive_labels,
        )
        cached = sum(s.n_rows for s in self.sources[1:])
        if (
            classes.n_classes <= MATERIALISE_RATIO * source.n_rows
            and cached + classes.n_classes <= CACHE_BUDGET * self.base.n_rows
            and classes.n_classes > MIN_MATERIALISE
        ):
            self.sources.append(classes.materialise())
        return classes

    def prepare(self, levels: Sequence[int]) -> None:
        """Materialise the table at `levels` (the meet of the nodes still to evaluate) when smaller.

        Every remaining node is at or above the meet, so all later groupings can start from it.
        """
        key = tuple(int(v) for v in levels)
        if key in self._prepared:
            return
        self._prepared.add(key)
        usable = [s for s in self.sources if all(a <= b for a, b in zip(s.levels, key, strict=True))]
        source = min(usable, key=lambda s: s.n_rows)
        space = float(np.prod([h.cardinality(v) for h, v in zip(self.hierarchies, key, strict=True)]))
        if source.levels == key or space > MEET_RATIO * source.n_rows:
            return  # only a table certain to be much smaller is worth a pass over the source
        classes = group_node(
            source, key, self.hierarchies, self.freq.sensitive, self.distributions, self.freq.sensitive_labels
        )
        if classes.n_classes <= MEET_RATIO * source.n_rows:
            self.sources.append(classes.materialise())

    def passing(self, classes: Classes) -> BoolArray:
        """Which classes meet every criterion."""
        mask = np.ones(classes.n_classes, dtype=np.bool_)
        for criterion, attr in self.checks:
            mask &= criterion.passing(classes, attr)
        return mask

    def evaluate(self, levels: Sequence[int]) -> tuple[NodeResult, Classes, BoolArray]:
        """Evaluate a node; metrics are computed only when it satisfies the criteria."""
        self.evaluations += 1
        classes = self.group(levels)
        passing = self.passing(classes)
        suppressed = int(classes.sizes[~passing].sum())
        satisfies = suppressed <= self.max_out
        metrics: dict[str, float] = {}
        if satisfies:
            summary = self.context.summarise(levels, classes.sizes, passing, classes.decode(~passing))
            metrics = self.metrics(levels, summary)
        result = NodeResult(
            levels=tuple(int(v) for v in levels),
            satisfies=satisfies,
            suppressed=suppressed,
            classes=classes.n_classes,
            metrics=metrics,
        )
        return result, classes, passing

    def metrics(self, levels: Sequence[int], summary: NodeSummary) -> dict[str, float]:
        return {m.name: m.value(self.context, levels, summary) for m in ALL_METRICS}

    def original_metrics(self) -> dict[str, float]:
        """Every metric of the untransformed input (all level 0, nothing suppressed)."""
        levels = (0,) * len(self.hierarchies)
        sizes = self._leaf_class_sizes(levels)
        passing = np.ones(sizes.shape[0], dtype=np.bool_)
        empty = [np.zeros(0, dtype=np.int64) for _ in levels]
        summary = self.context.summarise(levels, sizes, passing, empty)
        return self.metrics(levels, summary)

    def _leaf_class_sizes(self, levels: tuple[int, ...]) -> IntArray:
        """Class sizes of the untransformed input; rows are the classes when keys strictly increase."""
        if not self.freq.sensitive and self.freq.ascending:
            return self.freq.counts
        return group_node(self.base, levels, self.hierarchies).sizes
