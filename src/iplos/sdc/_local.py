"""Local (cell) suppression: reach k-anonymity by blanking single values, suppressing no record.

Greedy on the frequency table (in the spirit of sdcMicro's `localSuppression`, Templ et al. 2015,
but vectorised): in each round every row of a class smaller than k blanks ('*') the one
quasi-identifier whose blanking joins it with the most records that could share its new class
(rows already blank there, and other violating rows), ties to the attribute with more distinct
values. Rounds repeat until no class is smaller than k. If the fully blanked class is still smaller
than k at the end, records of classes with more than k records are blanked into it. Every class of the result
has at least k records (for n >= k), and no record is removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc._frequency import FrequencyTable

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STAR = -1


@dataclass(frozen=True, eq=False)
class LocalSuppression:
    """Per input row, the codes after suppression (-1 = '*'), and how many cells were blanked.

    `fully_blanked[row]` records of a row are, in addition, blanked in every attribute (taken from
    a large class to fill the fully blanked class up to k).
    """

    codes: tuple[IntArray, ...]
    fully_blanked: IntArray
    cells_suppressed: int
    cells_by_attribute: dict[str, int]
    rounds: int


def _class_keys(codes: list[IntArray], radices: list[int], skip: int | None = None) -> IntArray:
    key = np.zeros(codes[0].shape[0], dtype=np.int64)
    for j, (col, radix) in enumerate(zip(codes, radices, strict=True)):
        if j == skip:
            continue
        key = key * (radix + 1) + (col + 1)
    return key


def _sizes(key: IntArray, counts: IntArray) -> IntArray:
    _, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    return np.bincount(inverse, weights=counts).astype(np.int64)[inverse]


def local_suppression(freq: FrequencyTable, k: int, max_rounds: int = 100) -> LocalSuppression:
    """Blank values until every class has at least k records (see module doc)."""
    if k < 1:
        raise IplosError(f"k must be at least 1, not {k}")
    if freq.n_records < k:
        raise IplosError(f"the data hold {freq.n_records} records, fewer than k = {k}")
    q = len(freq.codes)
    codes = [c.astype(np.int64).copy() for c in freq.codes]
    radices = [int(c.max(initial=0)) + 1 for c in codes]
    counts = freq.counts
    rounds = 0
    while True:
        sizes = _sizes(_class_keys(codes, radices), counts)
        small = sizes < k
        if not small.any() or rounds >= max_rounds:
            break
        rounds += 1
        open_rows = np.flatnonzero(small & np.any(np.stack(codes) != STAR, axis=0))
        if open_rows.size == 0:
            break
        best_gain = np.full(open_rows.size, -1, dtype=np.int64)
        best_attr = np.zeros(open_rows.size, dtype=np.int64)
        cards = np.array(radices)
        prefer = np.argsort(-cards, kind="stable")  # attributes with more values win ties
        for j in prefer:
            # Rows that would share a class with a row blanking j: rows blank at j, and violators.
            joinable = (codes[j] == STAR) | small
            key = _class_keys(codes, radices, skip=int(j))
            gain = np.zeros(freq.n_rows, dtype=np.int64)
            idx = np.flatnonzero(joinable)
            gain[idx] = _sizes(key[idx], counts[idx])
            g = gain[open_rows]
            g[codes[j][open_rows] == STAR] = -1
            better = g > best_gain
            best_gain[better] = g[better]
            best_attr[better] = j
        for j in range(q):
            rows = open_rows[best_attr == j]
            codes[j][rows] = STAR
    extra = np.zeros(freq.n_rows, dtype=np.int64)
    sizes = _sizes(_class_keys(codes, radices), counts)
    if (sizes < k).any():
        _fill_blank_class(codes, radices, counts, k, extra)
    blank = {
        name: int(counts[(c == STAR) & (orig != STAR)].sum() + extra[c != STAR].sum())
        for name, c, orig in zip(freq.quasi_identifiers, codes, freq.codes, strict=True)
    }
    return LocalSuppression(
        codes=tuple(codes),
        fully_blanked=extra,
        cells_suppressed=sum(blank.values()),
        cells_by_attribute=blank,
        rounds=rounds,
    )


def _fill_blank_class(
    codes: list[IntArray], radices: list[int], counts: IntArray, k: int, extra: IntArray
) -> None:
    """Bring the fully blanked class (the only one that can remain small) up to k records.

    Records are taken from classes with more than k records (they stay k-anonymous), the largest
    surplus first, and blanked in every attribute; `extra[row]` counts such records of a row.
    Only when no class has a surplus are whole classes blanked, smallest first.
    """
    key = _class_keys(codes, radices)
    uniq, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    class_size = np.bincount(inverse, weights=counts).astype(np.int64)
    star_key = _class_keys([np.array([STAR]) for _ in codes], radices)[0]
    star = np.flatnonzero(uniq == star_key)
    star_class = int(star[0]) if star.size else -1
    missing = k - (int(class_size[star_class]) if star_class >= 0 else 0)
    surplus = class_size - k
    if star_class >= 0:
        surplus[star_class] = 0
    for cls in np.argsort(-surplus, kind="stable"):
        if missing <= 0 or surplus[cls] <= 0:
            break
        for row in np.flatnonzero(inverse == cls):
            take = int(min(missing, surplus[cls], counts[row] - extra[row]))
            if take > 0:
                extra[row] += take
                surplus[cls] -= take
                missing -= take
            if missing <= 0 or surplus[cls] <= 0:
                break
    if missing > 0:
        for cls in np.argsort(class_size, kind="stable"):
            if missing <= 0:
                break
            if cls == star_class:
                continue
            rows = inverse == cls
            for c in codes:
                c[rows] = STAR
            missing -= int(class_size[cls]) - int(extra[rows].sum())
            extra[rows] = 0
