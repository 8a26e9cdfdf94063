"""SUDA: which small sets of quasi-identifier values make a record unique.

A minimal sample unique (MSU) of a record is a set of its QI values that no other record shares,
while no proper subset is unique (Elliot, Manning & Ford, "A computational algorithm for handling
the special uniques problem", 2002). Records with MSUs of few attributes are the riskiest.
This implementation enumerates attribute subsets by size up to `max_size` on the frequency table:
a subset is an MSU of a record when the record is unique on it and on none of its proper subsets
(it suffices to check subsets one smaller). Variable contribution: the share of MSUs that contain
the attribute, as in sdcMicro's `suda2` summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from iplos.sdc._frequency import FrequencyTable

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SudaReport:
    """MSU counts by subset, records with any MSU, and each attribute's contribution."""

    max_size: int
    msu_by_subset: dict[str, int]
    records_with_msu: int
    msu_count_by_size: dict[int, int]
    contribution: dict[str, float]


def unique_mask(freq: FrequencyTable, subset: tuple[int, ...]) -> BoolArray:
    """For each row, whether its values on `subset` occur in exactly one record."""
    if not subset:
        return np.full(freq.n_rows, freq.n_records == 1)
    radices = [int(freq.codes[i].max(initial=0)) + 1 for i in subset]
    if float(np.prod(radices, dtype=np.float64)) < 2.0**62:
        key = np.zeros(freq.n_rows, dtype=np.int64)
        for i, radix in zip(subset, radices, strict=True):
            key *= radix
            key += freq.codes[i]
        _, inverse = np.unique(key, return_inverse=True)
    else:
        _, inverse = np.unique(np.stack([freq.codes[i] for i in subset], axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sizes = np.bincount(inverse, weights=freq.counts)
    return np.asarray(sizes[inverse] == 1, dtype=np.bool_)


def suda(freq: FrequencyTable, max_size: int = 3) -> SudaReport:
    """Find minimal sample uniques of up to `max_size` attributes (see module doc)."""
    q = len(freq.quasi_identifiers)
    max_size = min(max_size, q)
    unique: dict[tuple[int, ...], BoolArray] = {(): unique_mask(freq, ())}
    msu: dict[tuple[int, ...], BoolArray] = {}
    any_msu = np.zeros(freq.n_rows, dtype=np.bool_)
    for size in range(1, max_size + 1):
        for subset in combinations(range(q), size):
            mask = unique_mask(freq, subset)
            unique[subset] = mask
            minimal = mask.copy()
            for drop in range(size):
                minimal &= ~unique[subset[:drop] + subset[drop + 1 :]]
            if minimal.any():
                msu[subset] = minimal
                any_msu |= minimal
    names = freq.quasi_identifiers
    total = sum(int(m.sum()) for m in msu.values())
    contribution = {
        name: (sum(int(m.sum()) for s, m in msu.items() if i in s) / total if total else 0.0)
        for i, name in enumerate(names)
    }
    by_size: dict[int, int] = {}
    for s, m in msu.items():
        by_size[len(s)] = by_size.get(len(s), 0) + int(m.sum())
    return SudaReport(
        max_size=max_size,
        msu_by_subset={"+".join(names[i] for i in s): int(m.sum()) for s, m in msu.items()},
        records_with_msu=int(any_msu.sum()),
        msu_count_by_size=by_size,
        contribution=contribution,
    )
