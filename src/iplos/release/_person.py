"""Person signatures and their classes at one lattice node.

A person's signature is the multiset of their rows' quasi-identifier values, generalised to the
node's levels: with `aargang` a quasi-identifier, it says which years the person is present in and
what they looked like in each (DESIGN.md, "The person is the unit of protection"). Persons with equal
signatures form a class; an attacker who knows someone's quasi-identifiers in every year finds them
among the persons of their class and nowhere else.

`PersonTable` holds the distinct signatures at the finest level the engine grouped (each a sorted
run of element ids, an element being a distinct row of quasi-identifier leaves), the number of
persons per signature, and, for the sensitive columns, how many records of each (signature,
element) hold each value. Everything at a node is computed from this table in numpy: the element
codes are generalised by lookup, each signature's run is re-sorted, and equal runs are found by a
64-bit hash whose every group is then verified element by element (a collision falls back to exact
row grouping), so the classes are exact. Coarsening can only merge signatures, never split them, so
k-anonymity and distinct-l-diversity stay monotone at the person level.

The sensitive criteria judge, within each class, the records of one generalised element: the
persons of the class all have such a record, and an attacker who found the class learns that the
person's record in that year (table) is one of those. A class passes when every one of its element
groups passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc import Criterion, EncodedHierarchy, KAnonymity

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, eq=False)
class PersonTable:
    """Distinct person signatures at leaf level, with persons per signature and sensitive tallies.

    - `element_codes[j][e]`: leaf code of quasi-identifier j in element e.
    - `offsets`, `elements`: signature s is `elements[offsets[s]:offsets[s+1]]` (sorted element ids,
      one per record of any one of its persons).
    - `persons[s]`: persons with signature s.
    - `detail_*`: (signature, element, sensitive codes) -> records, for the sensitive criteria and the
      record-level metrics.
    """

    quasi_identifiers: tuple[str, ...]
    element_codes: tuple[IntArray, ...]
    offsets: IntArray
    elements: IntArray
    persons: IntArray
    detail_signature: IntArray
    detail_element: IntArray
    detail_count: IntArray
    sensitive: tuple[str, ...] = ()
    detail_sensitive: tuple[IntArray, ...] = ()
    sensitive_labels: tuple[tuple[str, ...], ...] = ()
    person_keys: npt.NDArray[Any] | None = None  # each person's key (None: rows are persons)
    person_signature: IntArray | None = None  # each person's signature, aligned with person_keys

    @property
    def n_signatures(self) -> int:
        return int(self.persons.shape[0])

    @property
    def n_persons(self) -> int:
        return int(self.persons.sum())

    @property
    def n_records(self) -> int:
        return int(self.detail_count.sum())

    @property
    def lengths(self) -> IntArray:
        return np.diff(self.offsets)

    def segment(self) -> IntArray:
        """Signature index of every position of `elements`."""
        return np.repeat(np.arange(self.n_signatures, dtype=np.int64), self.lengths)


@dataclass(eq=False)
class PersonClasses:
    """The classes of persons at one node (a `ClassView` for k: sizes are persons)."""

    levels: tuple[int, ...]
    of_signature: IntArray  # class of each signature
    sizes: IntArray  # persons per class
    element_key: IntArray  # generalised key of each element (dense rank)
    table: PersonTable
    distributions: tuple[FloatArray, ...]
    _groups: ElementGroups | None = field(default=None, repr=False)

    @property
    def n_classes(self) -> int:
        return int(self.sizes.shape[0])

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        raise IplosError("k-anonymity counts persons and needs no sensitive values")

    def distribution(self, attribute: str) -> FloatArray:
        return self.distributions[self.table.sensitive.index(attribute)]

    def labels(self, attribute: str) -> tuple[str, ...]:
        t = self.table
        return t.sensitive_labels[t.sensitive.index(attribute)] if t.sensitive_labels else ()

    def groups(self) -> ElementGroups:
        """The (class, generalised element) groups of records, for the sensitive criteria."""
        if self._groups is None:
            t = self.table
            cls = self.of_signature[t.detail_signature]
            ek = self.element_key[t.detail_element]
            width = int(self.element_key.max(initial=0)) + 1
            pair = cls * width + ek
            keys, inverse = np.unique(pair, return_inverse=True)
            inverse = inverse.reshape(-1)
            sizes = np.bincount(inverse, weights=t.detail_count, minlength=keys.shape[0]).astype(np.int64)
            self._groups = ElementGroups(keys // width, inverse, sizes, self)
        return self._groups


@dataclass(eq=False)
class ElementGroups:
    """Records of one class and one generalised element (a `ClassView` for l and t)."""

    class_of: IntArray
    of_detail: IntArray
    sizes: IntArray
    classes: PersonClasses
    _histograms: dict[str, tuple[IntArray, IntArray, IntArray]] = field(default_factory=dict, repr=False)

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        if attribute not in self._histograms:
            t = self.classes.table
            j = t.sensitive.index(attribute)
            m = max(len(t.sensitive_labels[j]), 1)
            pair = self.of_detail * m + t.detail_sensitive[j]
            keys, inverse = np.unique(pair, return_inverse=True)
            sums = np.bincount(inverse.reshape(-1), weights=t.detail_count, minlength=keys.shape[0])
            self._histograms[attribute] = (keys // m, keys % m, sums.astype(np.int64))
        return self._histograms[attribute]

    def distribution(self, attribute: str) -> FloatArray:
        return self.classes.distribution(attribute)

    def labels(self, attribute: str) -> tuple[str, ...]:
        return self.classes.labels(attribute)


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, elementwise (wrapping arithmetic)."""
    z = values + _MIX
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


DENSE_LIMIT = 1 << 24


def dense_rank(key: IntArray, space: int) -> IntArray:
    """Rank of each key among the distinct keys (0, 1, ...), in key order.

    Small key spaces are ranked through a presence table (no sort); large ones with `np.unique`.
    """
    if space <= max(DENSE_LIMIT, 4 * key.shape[0]):
        present = np.zeros(space, dtype=np.int64)
        present[key] = 1
        rank = np.cumsum(present) - 1
        return np.asarray(rank[key], dtype=np.int64)
    _, inverse = np.unique(key, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.int64)


def element_keys(
    table: PersonTable, hierarchies: Sequence[EncodedHierarchy], levels: Sequence[int]
) -> IntArray:
    """Dense rank of each element's generalised quasi-identifier values at `levels`."""
    n = table.element_codes[0].shape[0] if table.element_codes else 0
    cards = [h.cardinality(v) for h, v in zip(hierarchies, levels, strict=True)]
    space = float(np.prod([max(c, 1) for c in cards], dtype=np.float64))
    if space >= 2.0**62:
        stacked = np.stack(
            [h.leaf_codes[v][c] for h, v, c in zip(hierarchies, levels, table.element_codes, strict=True)],
            axis=1,
        )
        _, inverse = np.unique(stacked, axis=0, return_inverse=True)
        return np.asarray(inverse.reshape(-1), dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    for h, level, card, col in zip(hierarchies, levels, cards, table.element_codes, strict=True):
        key *= card
        key += h.leaf_codes[level][col]
    return dense_rank(key, int(space))


def group_signatures(table: PersonTable, element_key: IntArray) -> IntArray:
    """Class index of each signature: signatures whose generalised element multisets are equal.

    The class order is that of the sorted signature hashes (deterministic for a given table).
    """
    return group_sorted_signatures(table, element_key)[0]


def group_sorted_signatures(table: PersonTable, element_key: IntArray) -> tuple[IntArray, IntArray]:
    """`group_signatures`, and each signature's generalised keys sorted (aligned with `elements`)."""
    n_sig = table.n_signatures
    if n_sig == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    seg = table.segment()
    lengths = table.lengths
    keys = element_key[table.elements]
    width = int(element_key.max(initial=0)) + 1
    if float(n_sig) * width < 2.0**62:
        # One sort of (signature, key) pairs as single integers: signatures stay in order.
        composite = seg * width + keys
        composite.sort()
        sorted_keys = composite - seg * width
    else:
        sorted_keys = keys[np.lexsort((keys, seg))]
    position = np.arange(sorted_keys.shape[0], dtype=np.int64) - table.offsets[seg]
    mixed = _mix(sorted_keys.astype(np.uint64) * np.uint64(1_000_003) + position.astype(np.uint64))
    hashes = np.zeros(n_sig, dtype=np.uint64)
    _segment_sum(hashes, mixed, table.offsets)
    hashes = _mix(hashes ^ lengths.astype(np.uint64))
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    rep = first[inverse]  # the representative signature of each signature's class
    exact = bool(np.all(lengths == lengths[rep]))
    if exact:
        rep_pos = table.offsets[rep[seg]] + position
        exact = bool(np.all(sorted_keys == sorted_keys[rep_pos]))
    if exact:
        return inverse, sorted_keys
    return _group_exactly(sorted_keys, seg, position, lengths), sorted_keys  # a hash collision


def _segment_sum(out: npt.NDArray[np.uint64], values: npt.NDArray[np.uint64], offsets: IntArray) -> None:
    """out[s] = sum of values[offsets[s]:offsets[s+1]] (wrapping), for non-empty segments."""
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    if values.shape[0]:
        sums = np.add.reduceat(values, starts[nonempty])
        out[nonempty] = sums


def _group_exactly(sorted_keys: IntArray, seg: IntArray, position: IntArray, lengths: IntArray) -> IntArray:
    width = int(lengths.max(initial=0))
    matrix = np.full((lengths.shape[0], width + 1), -1, dtype=np.int64)
    matrix[:, 0] = lengths
    matrix[seg, position + 1] = sorted_keys
    _, inverse = np.unique(matrix, axis=0, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.int64)


def person_classes(
    table: PersonTable,
    hierarchies: Sequence[EncodedHierarchy],
    levels: Sequence[int],
    distributions: tuple[FloatArray, ...],
) -> PersonClasses:
    """The classes of persons at the node `levels`."""
    ek = element_keys(table, hierarchies, levels)
    of_sig = group_signatures(table, ek)
    n_classes = int(of_sig.max(initial=-1)) + 1
    sizes = np.bincount(of_sig, weights=table.persons, minlength=n_classes).astype(np.int64)
    return PersonClasses(tuple(int(v) for v in levels), of_sig, sizes, ek, table, distributions)


def passing_classes(classes: PersonClasses, checks: Sequence[tuple[Criterion, str | None]]) -> BoolArray:
    """Which classes meet every criterion: k on persons, l and t on every element group."""
    mask = np.ones(classes.n_classes, dtype=np.bool_)
    for criterion, attribute in checks:
        if isinstance(criterion, KAnonymity) or attribute is None:
            mask &= criterion.passing(classes, attribute)
            continue
        groups = classes.groups()
        ok: Any = criterion.passing(groups, attribute)
        failing = np.bincount(groups.class_of[~ok], minlength=classes.n_classes)
        mask &= failing == 0
    return mask
