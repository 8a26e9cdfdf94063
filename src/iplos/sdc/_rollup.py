"""Grouping a frequency table into the equivalence classes of one transformation.

A transformation (lattice node) gives each quasi-identifier a level. Its classes are found by
mapping every source row's codes to that level (one lookup per column) and encoding the mapped
codes as one int64 per row in mixed radix, quasi-identifier 0 most significant; classes are the
distinct keys, in ascending order, so a class's key is the same whichever finer table it was
rolled up from. Small key spaces are counted densely with `bincount`; large ones by sorting.
A grouped node can be materialised as a new, smaller source for coarser nodes ("roll-up").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.sdc._encoding import EncodedHierarchy
from iplos.sdc._frequency import split_keys

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Key spaces up to this size (or four times the rows) are counted with a dense bincount.
DENSE_LIMIT = 1 << 22
DENSE_MAX = 1 << 27


# Quasi-identifiers whose combined domain fits in this many values share one packed code column.
PACK_LIMIT = 1 << 20


@dataclass(eq=False)
class Source:
    """Rows to group: codes per quasi-identifier at `levels`, sensitive codes, and counts.

    The codes are stored packed: quasi-identifiers with small domains share one int32 column
    (mixed radix, `radices` per member), so a grouping pass does one lookup per pack, not per column.
    """

    levels: tuple[int, ...]
    codes: tuple[npt.NDArray[np.integer[Any]], ...]
    counts: IntArray
    sensitive_codes: tuple[npt.NDArray[np.integer[Any]], ...] = ()
    weights: FloatArray = field(init=False, repr=False)
    packs: tuple[tuple[int, ...], ...] = field(init=False, repr=False)
    radices: tuple[int, ...] = field(init=False, repr=False)
    packed: tuple[npt.NDArray[np.int32], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.weights = self.counts.astype(np.float64)
        self.radices = tuple(int(c.max(initial=0)) + 1 for c in self.codes)
        packs: list[list[int]] = []
        size = 0
        for j in sorted(range(len(self.codes)), key=lambda j: self.radices[j]):
            if packs and size * self.radices[j] <= PACK_LIMIT:
                packs[-1].append(j)
                size *= self.radices[j]
            else:
                packs.append([j])
                size = self.radices[j]
        self.packs = tuple(tuple(p) for p in packs)
        packed = []
        for pack in self.packs:
            col = self.codes[pack[0]].astype(np.int32)
            for j in pack[1:]:
                col *= self.radices[j]
                col += self.codes[j]
            packed.append(col)
        self.packed = tuple(packed)
        self.codes = ()  # the packed columns replace them

    def pack_lut(self, pack: tuple[int, ...], luts: Sequence[IntArray]) -> IntArray:
        """Lookup table over a pack's combined code: the sum of its members' lookups."""
        out = np.zeros(1, dtype=np.int64)
        for j in pack:
            out = np.add.outer(out, luts[j][: self.radices[j]]).reshape(-1)
        return out

    def code_counts(self, sizes: Sequence[int]) -> list[IntArray]:
        """Records per code of each quasi-identifier (padded to `sizes`): one weighted count per pack."""
        out: list[IntArray] = [np.zeros(size, dtype=np.int64) for size in sizes]
        for pack, col in zip(self.packs, self.packed, strict=True):
            shape = tuple(self.radices[j] for j in pack)
            dense = np.bincount(col, weights=self.weights, minlength=int(np.prod(shape))).reshape(shape)
            for axis, j in enumerate(pack):
                others = tuple(a for a in range(len(pack)) if a != axis)
                out[j][: shape[axis]] = dense.sum(axis=others) if others else dense
        return out

    @property
    def n_rows(self) -> int:
        return int(self.counts.shape[0])


@dataclass(eq=False)
class Classes:
    """The equivalence classes of one node: ascending keys and sizes (a `ClassView`)."""

    levels: tuple[int, ...]
    keys: IntArray
    sizes: IntArray
    cards: tuple[int, ...]
    strides: tuple[int, ...]
    source: Source
    sensitive: tuple[str, ...]
    sensitive_cards: tuple[int, ...]
    global_distributions: tuple[FloatArray, ...]
    sensitive_labels: tuple[tuple[str, ...], ...] = ()
    _row_key: npt.NDArray[np.integer[Any]] | None = field(default=None, repr=False)
    _inverse: IntArray | None = field(default=None, repr=False)
    _histograms: dict[str, tuple[IntArray, IntArray, IntArray]] = field(default_factory=dict, repr=False)

    @property
    def n_classes(self) -> int:
        return int(self.keys.shape[0])

    def inverse(self) -> IntArray:
        """Class index of every source row."""
        if self._inverse is None:
            assert self._row_key is not None
            space = self.strides[0] * self.cards[0] if self.cards else 1
            if space <= max(DENSE_LIMIT, 4 * self._row_key.shape[0]) and space <= DENSE_MAX:
                rank = np.zeros(space, dtype=np.int64)
                rank[self.keys] = np.arange(self.keys.shape[0], dtype=np.int64)
                self._inverse = rank[self._row_key]
            else:
                self._inverse = np.searchsorted(self.keys, self._row_key).astype(np.int64)
        return self._inverse

    def decode(self, selection: IntArray | npt.NDArray[np.bool_] | None = None) -> list[IntArray]:
        """Codes per quasi-identifier (at this node's levels) of the selected classes."""
        keys = self.keys if selection is None else self.keys[selection]
        return [c.astype(np.int64, copy=False) for c in self._decode(keys)]

    def _decode(self, keys: IntArray) -> list[npt.NDArray[np.integer[Any]]]:
        """Codes per quasi-identifier (int32 where they fit)."""
        return split_keys(keys, self.cards)

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        """(class, value, count) of the sensitive attribute, sorted by class then value."""
        if attribute not in self._histograms:
            j = self.sensitive.index(attribute)
            m = self.sensitive_cards[j]
            pair = self.inverse() * m + self.source.sensitive_codes[j]
            keys, sums = _group(pair, self.n_classes * m, self.source.weights)
            self._histograms[attribute] = (keys // m, keys % m, sums)
        return self._histograms[attribute]

    def distribution(self, attribute: str) -> FloatArray:
        return self.global_distributions[self.sensitive.index(attribute)]

    def labels(self, attribute: str) -> tuple[str, ...]:
        return self.sensitive_labels[self.sensitive.index(attribute)] if self.sensitive_labels else ()

    def materialise(self) -> Source:
        """These classes as a source table (one row per class and distinct sensitive values)."""
        if not self.source.sensitive_codes:
            return Source(levels=self.levels, codes=tuple(self._decode(self.keys)), counts=self.sizes)
        radix = [*self.sensitive_cards]
        key = self.inverse()
        for code, m in zip(self.source.sensitive_codes, radix, strict=True):
            key = key * m + code
        space = self.n_classes * int(np.prod(radix))
        keys, sums = _group(key, space, self.source.weights)
        sens: list[IntArray] = []
        for m in reversed(radix):
            sens.append(keys % m)
            keys = keys // m
        sens.reverse()
        class_codes = [c[keys] for c in self._decode(self.keys)]
        return Source(levels=self.levels, codes=tuple(class_codes), counts=sums, sensitive_codes=tuple(sens))


def group_node(
    source: Source,
    levels: Sequence[int],
    hierarchies: Sequence[EncodedHierarchy],
    sensitive: tuple[str, ...] = (),
    global_distributions: tuple[FloatArray, ...] = (),
    sensitive_labels: tuple[tuple[str, ...], ...] = (),
) -> Classes:
    """Group `source` into the classes of the node `levels` (each level >= the source's)."""
    cards = tuple(h.cardinality(level) for h, level in zip(hierarchies, levels, strict=True))
    strides_list = [1] * len(cards)
    for i in range(len(cards) - 2, -1, -1):
        strides_list[i] = strides_list[i + 1] * cards[i + 1]
    strides = tuple(strides_list)
    space = strides[0] * cards[0] if cards else 1
    if space >= 2**62:
        raise ValueError("the quasi-identifiers' combined domain is too large to encode in 64 bits")
    n = source.n_rows
    # int32 keys and codes: numpy converts them to int64 inside `take` and `bincount`, but
    # measured whole, the halved memory (and page faults of fresh arrays) costs as much as it saves.
    small = space < 2**31
    luts = [
        h.level_map(src_level, level) * stride
        for h, src_level, level, stride in zip(hierarchies, source.levels, levels, strides, strict=True)
    ]
    key: npt.NDArray[np.integer[Any]] | None = None
    scratch: npt.NDArray[np.integer[Any]] | None = None
    for pack, codes in zip(source.packs, source.packed, strict=True):
        if all(hierarchies[j].cardinality(levels[j]) == 1 for j in pack):
            continue  # only single values (e.g. the root): contributes 0 to every key
        lut = source.pack_lut(pack, luts).astype(np.int32) if small else source.pack_lut(pack, luts)
        # Codes lie within the lookup table by construction; "clip" skips the bounds check per row.
        if key is None:
            key = np.take(lut, codes, mode="clip")
        else:
            if scratch is None:
                scratch = np.empty(n, dtype=lut.dtype)
            np.take(lut, codes, out=scratch, mode="clip")
            key += scratch
    del scratch
    if key is None:
        key = np.zeros(n, dtype=np.int32 if small else np.int64)
    keys, sizes = _group(key, space, source.weights, source.counts)
    return Classes(
        levels=tuple(int(v) for v in levels),
        keys=keys,
        sizes=sizes,
        cards=cards,
        strides=strides,
        source=source,
        sensitive=sensitive,
        sensitive_cards=tuple(d.shape[0] for d in global_distributions),
        global_distributions=global_distributions,
        sensitive_labels=sensitive_labels,
        _row_key=key,
    )


def rows_in_classes(
    codes: Sequence[npt.NDArray[np.integer[Any]]],
    levels: Sequence[int],
    hierarchies: Sequence[EncodedHierarchy],
    keys: IntArray,
) -> npt.NDArray[np.bool_]:
    """Which rows (leaf codes per quasi-identifier) fall, at the node `levels`, in a class of `keys`."""
    n = codes[0].shape[0] if codes else 0
    if not keys.size:
        return np.zeros(n, dtype=np.bool_)
    cards = [h.cardinality(level) for h, level in zip(hierarchies, levels, strict=True)]
    row_key = np.zeros(n, dtype=np.int64)
    for h, level, card, col in zip(hierarchies, levels, cards, codes, strict=True):
        row_key *= card
        row_key += np.take(h.leaf_codes[level], col, mode="clip")  # leaf codes index the table
    space = int(np.prod(cards, dtype=np.float64))
    if space <= max(DENSE_LIMIT, 4 * n) and space <= DENSE_MAX:
        member = np.zeros(space, dtype=np.bool_)
        member[keys] = True
        return np.take(member, row_key, mode="clip")
    return np.isin(row_key, keys)


def _group(
    key: npt.NDArray[np.integer[Any]], space: int, weights: FloatArray, counts: IntArray | None = None
) -> tuple[IntArray, IntArray]:
    """Distinct keys (ascending) and the summed weights of each (positive integers as floats).

    `counts`, the weights as integers, allows counting by sorting the keys repeated by their counts
    when they add up to at most twice the rows: a plain sort, several times cheaper than the
    argsort behind `np.unique(return_inverse=True)`.
    """
    n = key.shape[0]
    if space == 1 and n:  # the root: one class
        return np.zeros(1, dtype=np.int64), np.array([round(float(weights.sum()))], dtype=np.int64)
    if space <= max(DENSE_LIMIT, 4 * n) and space <= DENSE_MAX:
        dense = np.bincount(key, weights=weights, minlength=space)
        present = np.flatnonzero(dense != 0)  # a boolean scan is twice as fast as one over floats
        return present.astype(np.int64), dense[present].astype(np.int64)
    if counts is not None and n and int(counts.sum()) <= 2 * n:
        expanded = np.repeat(key, counts)
        expanded.sort()
        total = expanded.shape[0]
        boundary = np.empty(total, dtype=np.bool_)
        boundary[0] = True
        np.not_equal(expanded[1:], expanded[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        del boundary
        sizes = np.diff(starts, append=total).astype(np.int64)
        return expanded[starts].astype(np.int64), sizes
    uniq, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse.reshape(-1), weights=weights, minlength=uniq.shape[0])
    return uniq.astype(np.int64), sums.astype(np.int64)
