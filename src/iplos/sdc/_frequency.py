"""The frequency table: distinct quasi-identifier combinations and how many records hold each.

Disclosure risk depends only on these combinations and their counts (plus the sensitive values
inside each), so every measure and the whole search run on this table, never on the rows
(DESIGN.md, "Frequency table first"). Quasi-identifier values are stored as leaf indices into
their hierarchies; sensitive values as indices into sorted labels. A row is one distinct
combination of quasi-identifiers and sensitive values, so one equivalence class may span rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError, Problem
from iplos.sdc._encoding import resolve_hierarchies

IntArray = npt.NDArray[np.int64]
# Codes may be any integer type (the command line keeps int32 to halve memory).
CodeArray = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True, eq=False)
class FrequencyTable:
    """Distinct combinations (leaf codes per quasi-identifier, codes per sensitive) with counts."""

    quasi_identifiers: tuple[str, ...]
    codes: tuple[CodeArray, ...]
    counts: IntArray
    sensitive: tuple[str, ...] = ()
    sensitive_codes: tuple[CodeArray, ...] = ()
    sensitive_labels: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        n = self.counts.shape[0]
        if len(self.codes) != len(self.quasi_identifiers):
            raise IplosError("frequency table: one code column per quasi-identifier is needed")
        if len(set(self.quasi_identifiers)) != len(self.quasi_identifiers):
            raise IplosError(f"quasi-identifiers repeat: {', '.join(self.quasi_identifiers)}")
        if not (len(self.sensitive) == len(self.sensitive_codes) == len(self.sensitive_labels)):
            raise IplosError("frequency table: sensitive names, codes and labels differ in number")
        overlap = set(self.sensitive) & set(self.quasi_identifiers)
        if overlap:
            raise IplosError(f"column(s) both quasi-identifier and sensitive: {', '.join(sorted(overlap))}")
        for name, col in zip(
            (*self.quasi_identifiers, *self.sensitive), (*self.codes, *self.sensitive_codes), strict=True
        ):
            if col.shape != (n,):
                raise IplosError(f"frequency table: column {name!r} has {col.shape[0]} rows, counts {n}")
        if n and int(self.counts.min()) <= 0:
            raise IplosError("frequency table: every count must be positive")

    @property
    def n_records(self) -> int:
        """Number of records the table stands for."""
        return int(self.counts.sum())

    @property
    def n_rows(self) -> int:
        """Number of distinct combinations (rows of the table)."""
        return int(self.counts.shape[0])

    @cached_property
    def ascending(self) -> bool:
        """Whether rows are distinct on the quasi-identifiers and in ascending order of their codes.

        Tables grouped by sorting (`from_columns`, the command line) are; then, without sensitive
        attributes, each row is an equivalence class of the untransformed data. Computed once.
        """
        return strictly_ascending(self.codes)

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Sequence[object] | npt.NDArray[np.generic]],
        quasi_identifiers: Sequence[str],
        hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy],
        sensitive: Sequence[str] = (),
        counts: Sequence[int] | IntArray | None = None,
    ) -> FrequencyTable:
        """Count the distinct combinations of microdata columns (values compared as strings).

        With `counts`, each row stands for that many records (an already grouped table).
        A value missing from its hierarchy is an error naming the column and the value.
        """
        qis = tuple(quasi_identifiers)
        hs = resolve_hierarchies(qis, hierarchies)
        missing = [c for c in (*qis, *sensitive) if c not in columns]
        if missing:
            raise IplosError(f"column(s) not in the data: {', '.join(map(repr, missing))}")
        lengths = {len(columns[c]) for c in (*qis, *sensitive)}
        if len(lengths) > 1:
            raise IplosError("columns differ in length")
        n = lengths.pop() if lengths else 0
        weights = np.ones(n, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
        qi_codes = [leaf_codes_of(h, columns[q], q) for q, h in zip(qis, hs, strict=True)]
        s_codes: list[IntArray] = []
        s_labels: list[tuple[str, ...]] = []
        for s in sensitive:
            codes, labels = sensitive_codes_of(columns[s])
            s_codes.append(codes)
            s_labels.append(labels)
        radices = [len(h.rows) for h in hs] + [len(lab) for lab in s_labels]
        grouped, grouped_counts = group_rows([*qi_codes, *s_codes], radices, weights)
        return cls(
            quasi_identifiers=qis,
            codes=tuple(grouped[: len(qis)]),
            counts=grouped_counts,
            sensitive=tuple(sensitive),
            sensitive_codes=tuple(grouped[len(qis) :]),
            sensitive_labels=tuple(s_labels),
        )


def leaf_codes_of(
    hierarchy: Hierarchy, values: Sequence[object] | npt.NDArray[np.generic], column: str
) -> IntArray:
    """Leaf index of each value; values not in the hierarchy are an error naming column and value."""
    distinct, inverse = np.unique(np.asarray([_text(v) for v in values], dtype=object), return_inverse=True)
    lut = np.empty(len(distinct), dtype=np.int64)
    unknown: list[str] = []
    for i, value in enumerate(distinct):
        index = hierarchy.leaf_index(value)
        if index is None:
            unknown.append(str(value))
            lut[i] = -1
        else:
            lut[i] = index
    if unknown:
        raise_unknown_values(column, hierarchy.name, unknown)
    return lut[inverse.reshape(-1)]


def raise_unknown_values(column: str, hierarchy: str, unknown: Sequence[str]) -> None:
    """Raise the error for values that are not leaves of a quasi-identifier's hierarchy."""
    shown = list(unknown[:10])
    more = f" and {len(unknown) - len(shown)} more" if len(unknown) > len(shown) else ""
    raise IplosError(
        f"column {column!r}: {len(unknown)} value(s) not in hierarchy {hierarchy!r}{more}",
        [Problem("value not in the hierarchy", column=column, value=v) for v in shown],
    )


def sensitive_codes_of(
    values: Sequence[object] | npt.NDArray[np.generic],
) -> tuple[IntArray, tuple[str, ...]]:
    """Codes into the sorted distinct values (numbers in numeric order, else text order)."""
    texts = [_text(v) for v in values]
    labels = sort_labels(set(texts))
    index = {lab: i for i, lab in enumerate(labels)}
    return np.fromiter((index[t] for t in texts), dtype=np.int64, count=len(texts)), labels


def sort_labels(labels: set[str] | Sequence[str]) -> tuple[str, ...]:
    """Sort values numerically when all are numbers, else as text (the order ordered t-closeness uses)."""
    items = list(dict.fromkeys(labels))
    try:
        return tuple(sorted(items, key=float))
    except ValueError:
        return tuple(sorted(items))


def group_rows(
    columns: Sequence[CodeArray], radices: Sequence[int], weights: IntArray
) -> tuple[list[IntArray], IntArray]:
    """Group rows of integer columns (each in [0, radix)) and sum their weights."""
    n = weights.shape[0]
    if not columns:
        return [], np.array([int(weights.sum())] if n else [], dtype=np.int64)
    if float(np.prod([max(r, 1) for r in radices], dtype=np.float64)) >= 2.0**62:
        matrix = np.stack(columns, axis=1)
        uniq, inverse = np.unique(matrix, axis=0, return_inverse=True)
        sums = np.bincount(inverse.reshape(-1), weights=weights, minlength=uniq.shape[0])
        return [uniq[:, i].astype(np.int64) for i in range(len(columns))], sums.astype(np.int64)
    key = np.zeros(n, dtype=np.int64)
    for col, radix in zip(columns, radices, strict=True):
        key *= max(radix, 1)
        key += col
    uniq_keys, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse.reshape(-1), weights=weights, minlength=uniq_keys.shape[0]).astype(np.int64)
    out: list[IntArray] = []
    rest = uniq_keys
    for radix in reversed(radices):
        out.append(rest % max(radix, 1))
        rest = rest // max(radix, 1)
    out.reverse()
    return out, sums


# Rows per block when checking order: a block's keys stay in cache, and the check stops early.
_BLOCK = 1 << 18


def strictly_ascending(columns: Sequence[CodeArray]) -> bool:
    """Whether the rows of non-negative integer columns strictly increase in lexicographic order."""
    n = columns[0].shape[0] if columns else 0
    if n < 2:
        return True
    radices = [int(c.max()) + 1 for c in columns]
    if float(np.prod(radices, dtype=np.float64)) >= 2.0**62:
        greater = np.zeros(n - 1, dtype=np.bool_)
        equal = np.ones(n - 1, dtype=np.bool_)
        for col in columns:
            step = col[1:].astype(np.int64) - col[:-1]
            greater |= equal & (step > 0)
            equal &= step == 0
        return bool(greater.all())
    for start in range(0, n - 1, _BLOCK):
        stop = min(n, start + _BLOCK + 1)  # blocks overlap by one row
        key = columns[0][start:stop].astype(np.int64)
        for col, radix in zip(columns[1:], radices[1:], strict=True):
            key *= radix
            key += col[start:stop]
        if not bool(np.all(key[1:] > key[:-1])):
            return False
    return True


def split_keys(
    keys: npt.NDArray[np.integer[Any]], radices: Sequence[int]
) -> list[npt.NDArray[np.integer[Any]]]:
    """Mixed-radix keys (first radix most significant) back into one code column per radix.

    The last column is peeled off first, one division per column on the shrinking quotient, in
    int32 as soon as the remaining key space fits (several times faster than int64 division).
    Columns come back as int32 when their radix fits, else int64.
    """
    if not radices:
        return []
    space = 1
    for radix in radices:
        space *= max(radix, 1)
    rest = keys
    out: list[npt.NDArray[np.integer[Any]]] = []
    for radix in reversed(radices[1:]):
        r = max(radix, 1)
        if space < 2**31 and rest.dtype != np.int32:
            rest = rest.astype(np.int32)
        quotient = rest // r
        if r < 2**31:
            part = np.empty(rest.shape[0], dtype=np.int32)
            np.multiply(quotient, r, out=part, casting="unsafe")
            np.subtract(rest, part, out=part, casting="unsafe")
        else:
            part = rest - quotient * r
        out.append(part)
        rest = quotient
        space //= r
    out.append(rest.astype(np.int32) if space < 2**31 else rest.astype(np.int64, copy=False))
    out.reverse()
    return out


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)
