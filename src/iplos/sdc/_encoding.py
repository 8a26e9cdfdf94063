"""Integer encoding of generalization hierarchies, the form every search step works on.

A `Hierarchy` (catalogue) holds strings; the search needs, for each level, the code of every leaf
at that level, the labels of those codes, and how many leaves fall under each code (the domain
share used by ARX's Loss metric). `EncodedHierarchy` holds exactly that, once per search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class EncodedHierarchy:
    """One hierarchy as integer codes: `leaf_codes[level][leaf]` is the code of a leaf at `level`."""

    name: str
    level_names: tuple[str, ...]
    leaf_codes: tuple[IntArray, ...]
    labels: tuple[tuple[str, ...], ...]
    leaves_under: tuple[IntArray, ...]

    @property
    def height(self) -> int:
        """Number of levels, level 0 (the leaves) included."""
        return len(self.level_names)

    @property
    def domain_size(self) -> int:
        """Number of leaves in the hierarchy (ARX's domain size for the Loss metric)."""
        return int(self.leaf_codes[0].shape[0])

    def cardinality(self, level: int) -> int:
        """Number of distinct values at `level`."""
        return len(self.labels[level])

    def level_map(self, source: int, target: int) -> IntArray:
        """For each code at level `source`, its code at the coarser level `target`."""
        if target < source:
            raise ValueError(f"cannot map level {source} to the finer level {target}")
        out = np.zeros(self.cardinality(source), dtype=np.int64)
        out[self.leaf_codes[source]] = self.leaf_codes[target]
        return out


_CACHE: dict[int, tuple[Hierarchy, EncodedHierarchy]] = {}
_CACHE_SIZE = 64


def encode_hierarchy(hierarchy: Hierarchy) -> EncodedHierarchy:
    """Encode a hierarchy; level 0 codes are the leaf row numbers, so leaf code == leaf index.

    The encoding of the last few hierarchy objects is kept (a search and the command line that
    applies its result encode the same objects).
    """
    hit = _CACHE.get(id(hierarchy))
    if hit is not None and hit[0] is hierarchy:
        return hit[1]
    encoded = _encode(hierarchy)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(hierarchy)] = (hierarchy, encoded)
    return encoded


def _encode(hierarchy: Hierarchy) -> EncodedHierarchy:
    leaf_codes: list[IntArray] = []
    labels: list[tuple[str, ...]] = []
    under: list[IntArray] = []
    for level in range(hierarchy.height):
        codes, names = hierarchy.codes(level)
        leaf_codes.append(codes)
        labels.append(names)
        under.append(np.bincount(codes, minlength=len(names)).astype(np.int64))
    return EncodedHierarchy(
        name=hierarchy.name,
        level_names=hierarchy.level_names,
        leaf_codes=tuple(leaf_codes),
        labels=tuple(labels),
        leaves_under=tuple(under),
    )


def resolve_hierarchies(
    quasi_identifiers: Sequence[str], hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy]
) -> tuple[Hierarchy, ...]:
    """The hierarchy of each quasi-identifier, in order; a missing one is an error naming it."""
    if isinstance(hierarchies, Mapping):
        missing = [q for q in quasi_identifiers if q not in hierarchies]
        if missing:
            raise IplosError(f"no hierarchy for quasi-identifier(s) {', '.join(map(repr, missing))}")
        return tuple(hierarchies[q] for q in quasi_identifiers)
    out = tuple(hierarchies)
    if len(out) != len(quasi_identifiers):
        raise IplosError(
            f"{len(out)} hierarchies given for {len(quasi_identifiers)} quasi-identifiers "
            f"({', '.join(quasi_identifiers)})"
        )
    return out
