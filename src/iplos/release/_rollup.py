"""Roll a person table up to a lattice node: its distinct signatures there, for the nodes above it.

Coarsening merges signatures and never splits them (every hierarchy is a tree), so each node above
a node A can be judged on A's distinct signatures instead of the leaf table: an element of A is
kept as one representative leaf per generalised row (generalising it to any level at or above A's
gives the value every leaf of its group gets), a signature of A as one run of those elements, and
the persons of the merged signatures are summed. This is the roll-up of ARX and Flash (Kohlmayer
et al. 2012): the nodes high in the lattice, where a person-level optimum usually lies, then cost a
fraction of the leaf table. Only persons per class are kept, so it serves the criteria judged on
persons alone (k); the l and t criteria read the records and stay on the leaf table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.release._person import PersonTable, element_keys, group_sorted_signatures
from iplos.sdc import EncodedHierarchy

IntArray = npt.NDArray[np.int64]
CACHE = 8  # rolled tables kept at once
WORTH = 0.7  # a node's signatures are kept when they are at most this share of its base's


@dataclass(frozen=True, eq=False)
class Rolled:
    """The distinct signatures at `levels`, and which of them each leaf signature became."""

    levels: tuple[int, ...]
    table: PersonTable  # element codes are representative leaves; no record detail
    origin: IntArray  # signature of `table` of each leaf signature


def leaf_level(table: PersonTable) -> Rolled:
    """The leaf table itself as the root of every roll-up."""
    return Rolled((0,) * len(table.quasi_identifiers), table, np.arange(table.n_signatures, dtype=np.int64))


def roll_up(
    base: Rolled, levels: Sequence[int], element_key: IntArray, of_signature: IntArray, sorted_keys: IntArray
) -> Rolled:
    """`base` rolled up to `levels`, from its elements' keys there and its signatures' classes."""
    t = base.table
    _, first_element = np.unique(element_key, return_index=True)  # keys are dense: 0, 1, ...
    n_classes = int(of_signature.max(initial=-1)) + 1
    _, representative = np.unique(of_signature, return_index=True)
    lengths = t.lengths[representative]
    offsets = np.zeros(n_classes + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    gather = np.repeat(t.offsets[:-1][representative] - offsets[:-1], lengths)
    gather += np.arange(int(offsets[-1]), dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    table = PersonTable(
        quasi_identifiers=t.quasi_identifiers,
        element_codes=tuple(c[first_element] for c in t.element_codes),
        offsets=offsets,
        elements=sorted_keys[gather],
        persons=np.bincount(of_signature, weights=t.persons, minlength=n_classes).astype(np.int64),
        detail_signature=empty,
        detail_element=empty,
        detail_count=empty,
    )
    return Rolled(tuple(int(v) for v in levels), table, of_signature[base.origin])


class RollUps:
    """Rolled tables of evaluated nodes; each node is judged on the smallest one below it."""

    def __init__(self, table: PersonTable, hierarchies: Sequence[EncodedHierarchy]) -> None:
        self.root = leaf_level(table)
        self.hierarchies = tuple(hierarchies)
        self.kept: list[Rolled] = []

    def base(self, levels: Sequence[int]) -> Rolled:
        below = [r for r in self.kept if all(a <= b for a, b in zip(r.levels, levels, strict=True))]
        return min(below, key=lambda r: r.table.elements.shape[0], default=self.root)

    def classes(self, levels: Sequence[int]) -> tuple[IntArray, IntArray]:
        """Class of each leaf signature at `levels`, and persons per class."""
        base = self.base(levels)
        key = element_keys(base.table, self.hierarchies, levels)
        of_signature, sorted_keys = group_sorted_signatures(base.table, key)
        n_classes = int(of_signature.max(initial=-1)) + 1
        sizes = np.bincount(of_signature, weights=base.table.persons, minlength=n_classes).astype(np.int64)
        if n_classes <= WORTH * base.table.n_signatures and tuple(levels) != base.levels:
            self._keep(roll_up(base, levels, key, of_signature, sorted_keys))
        return of_signature[base.origin], sizes

    def _keep(self, rolled: Rolled) -> None:
        self.kept.append(rolled)
        if len(self.kept) > CACHE:
            self.kept.remove(max(self.kept, key=lambda r: r.table.elements.shape[0]))
