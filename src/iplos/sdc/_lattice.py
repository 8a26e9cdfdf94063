"""The generalization lattice: every combination of levels between per-attribute bounds.

Node (l_1, ..., l_m) is finer than (or equal to) node (u_1, ..., u_m) when l_i <= u_i for all i;
generalising moves up. The lattice is held as one array of nodes so that "every node finer than
this one" is a single vectorised comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MAX_NODES = 2_000_000


class Lattice:
    """All level combinations with min_levels[i] <= level_i <= max_levels[i]."""

    def __init__(self, min_levels: Sequence[int], max_levels: Sequence[int]) -> None:
        lo = np.asarray(min_levels, dtype=np.int64)
        hi = np.asarray(max_levels, dtype=np.int64)
        if lo.shape != hi.shape or np.any(lo > hi) or np.any(lo < 0):
            raise IplosError(f"invalid level bounds: min {list(lo)}, max {list(hi)}")
        widths = hi - lo + 1
        size = int(np.prod(widths, dtype=np.float64)) if widths.size else 1
        if size > MAX_NODES:
            raise IplosError(
                f"the lattice has {size} nodes, more than {MAX_NODES}; bound the levels with --min-level/--max-level"
            )
        self.min_levels = lo
        self.max_levels = hi
        grids = np.indices(tuple(int(w) for w in widths)).reshape(len(widths), -1).T
        self.nodes: IntArray = (grids + lo).astype(np.int64)
        self.heights: IntArray = self.nodes.sum(axis=1) if len(widths) else np.zeros(1, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.nodes.shape[0])

    def finer_or_equal(self, index: int) -> BoolArray:
        """Mask of nodes at or below node `index` in every attribute."""
        return np.asarray(np.all(self.nodes <= self.nodes[index], axis=1), dtype=np.bool_)

    def coarser_or_equal(self, index: int) -> BoolArray:
        """Mask of nodes at or above node `index` in every attribute."""
        return np.asarray(np.all(self.nodes >= self.nodes[index], axis=1), dtype=np.bool_)

    def levels(self, index: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.nodes[index])
