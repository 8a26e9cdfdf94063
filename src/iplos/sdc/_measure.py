"""Utility metrics of one node when the suppressed records are chosen from outside the search.

The record-level search suppresses whole equivalence classes, so it measures a node from its class
sizes. A person-level release suppresses whole persons, and a record class may then keep some of its
records and lose others. `NodeMeasure` takes, for each row of a record frequency table, how many of
its records are suppressed, and measures the node with exactly the same metric definitions as the
search (`MetricContext`, `ALL_METRICS`): released records form the classes of the node, the
suppressed records of each class form a suppressed class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc._encoding import EncodedHierarchy, encode_hierarchy, resolve_hierarchies
from iplos.sdc._frequency import FrequencyTable, split_keys
from iplos.sdc._metrics import ALL_METRICS, Metric, MetricContext

IntArray = npt.NDArray[np.int64]


class NodeMeasure:
    """Every utility metric of nodes of one record frequency table, for any choice of suppressed records."""

    def __init__(
        self, freq: FrequencyTable, hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy]
    ) -> None:
        self.freq = freq
        self.encoded: tuple[EncodedHierarchy, ...] = tuple(
            encode_hierarchy(h) for h in resolve_hierarchies(freq.quasi_identifiers, hierarchies)
        )
        leaf_counts = [
            np.bincount(c, weights=freq.counts, minlength=h.domain_size).astype(np.int64)
            for c, h in zip(freq.codes, self.encoded, strict=True)
        ]
        self.context = MetricContext(self.encoded, leaf_counts)

    def lower_bound(self, metric: Metric, levels: Sequence[int]) -> float:
        """A value that no suppression at these levels goes below."""
        return metric.lower_bound(self.context, levels)

    def keys(self, levels: Sequence[int]) -> tuple[IntArray, tuple[int, ...]]:
        """Each row's class key at `levels` (mixed radix, first quasi-identifier most significant)."""
        cards = tuple(h.cardinality(v) for h, v in zip(self.encoded, levels, strict=True))
        if float(np.prod([max(c, 1) for c in cards], dtype=np.float64)) >= 2.0**62:
            raise IplosError("the quasi-identifiers' combined domain is too large to encode in 64 bits")
        key = np.zeros(self.freq.n_rows, dtype=np.int64)
        for h, level, card, col in zip(self.encoded, levels, cards, self.freq.codes, strict=True):
            key *= card
            key += h.leaf_codes[level][col]
        return key, cards

    def metrics(self, levels: Sequence[int], suppressed: IntArray | None = None) -> dict[str, float]:
        """Every metric of the node `levels` when `suppressed[i]` of row i's records are suppressed."""
        levels = tuple(int(v) for v in levels)
        counts = self.freq.counts
        supp = np.zeros_like(counts) if suppressed is None else np.asarray(suppressed, dtype=np.int64)
        if supp.shape != counts.shape or np.any(supp < 0) or np.any(supp > counts):
            raise IplosError("suppressed records per row must lie between 0 and the row's count")
        key, cards = self.keys(levels)
        released = counts - supp
        space = int(np.prod([max(c, 1) for c in cards], dtype=np.float64))
        kept_keys, kept_sizes = _sum_by_key(key[released > 0], released[released > 0], space)
        out_keys, out_sizes = _sum_by_key(key[supp > 0], supp[supp > 0], space)
        sizes = np.concatenate([kept_sizes, out_sizes])
        passing = np.concatenate(
            [np.ones(kept_keys.shape[0], dtype=np.bool_), np.zeros(out_keys.shape[0], dtype=np.bool_)]
        )
        codes = [c.astype(np.int64) for c in split_keys(out_keys, cards)] if cards else []
        summary = self.context.summarise(levels, sizes, passing, codes)
        return {m.name: m.value(self.context, levels, summary) for m in ALL_METRICS}


DENSE_LIMIT = 1 << 24


def _sum_by_key(key: IntArray, weights: IntArray, space: int) -> tuple[IntArray, IntArray]:
    """Distinct keys (ascending) and the summed weights of each; dense counting for small key spaces."""
    if space <= max(DENSE_LIMIT, 4 * key.shape[0]):
        dense = np.bincount(key, weights=weights, minlength=space)
        present = np.flatnonzero(dense)
        return present.astype(np.int64), dense[present].astype(np.int64)
    keys, inverse = np.unique(key, return_inverse=True)
    return keys.astype(np.int64), np.bincount(inverse.reshape(-1), weights=weights).astype(np.int64)
