"""Local recoding and local suppression of persons: each class of persons at levels of its own.

Global recoding gives a quasi-identifier one level for every person; here a person's cells are
generalised to their class's levels, the same levels in every one of their rows (every year), so
the person's signature (the multiset of their rows' generalised values, `_person`) is judged as a
whole. The method is Mondrian's greedy top-down partitioning (LeFevre, DeWitt & Ramakrishnan,
"Mondrian multidimensional k-anonymity", ICDE 2006) along the generalisation hierarchies, as in
top-down specialisation (Fung, Wang & Yu, ICDE 2005), lifted from records to person signatures:

- A partition is a set of persons who share one signature at the partition's levels. It starts as
  the classes at the maximum levels; classes failing there are suppressed (within the budget).
- Each round every open partition considers lowering each quasi-identifier to its next allowed
  level. Its persons split by their signature at the lowered levels; each child with at least k
  persons that meets l and t (judged, as the person-level search judges them, on the records of
  each generalised row of the class) becomes a partition of its own; the others stay together at
  the parent's levels as the remainder, which must itself pass (else its smallest children join
  it) and never splits on that attribute again. The split with the most ARX Loss regained per bit
  of the split's entropy wins; a lowering that keeps everyone together is always taken when l and t
  still hold for the finer rows. One change per partition and round: two lowerings at once could
  part persons whose signatures agreed under each alone.
- Every final partition meets every criterion by construction; the released signatures are grouped
  again exactly, from the released labels, and re-checked before anything is returned.

Local suppression is the same procedure with two allowed levels per quasi-identifier: the levels of
the global optimum and '*' (the top). A person is blanked in a cell in all of their rows or in none.
Persons released with every quasi-identifier '*' count as suppressed and must fit the budget.

Signatures are grouped by an additive 64-bit hash of their elements (order-free, so a multiset
needs no sort); the final check groups exactly, so a hash collision could only make it fail loudly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.release._local_partition import PersonRecoder
from iplos.release._person import PersonTable, dense_rank, group_signatures
from iplos.sdc import Criterion, EncodedHierarchy
from iplos.sdc._recoding import recoding_loss

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class LocalRelease:
    """Per signature of a `PersonTable`, the level of each quasi-identifier it is released at.

    `suppressed_signatures` are released with every quasi-identifier '*' (or removed); they count
    as suppressed persons. `cells_blanked` counts the record cells released '*' that the base levels
    (the minimum levels; for local suppression the global optimum) did not blank.
    """

    method: str
    quasi_identifiers: tuple[str, ...]
    base_levels: tuple[int, ...]
    signature_levels: IntArray  # (signatures, quasi-identifiers)
    suppressed_signatures: BoolArray
    n_persons: int
    n_records: int
    suppressed_persons: int
    suppressed_records: int
    class_sizes: IntArray  # persons per released class
    loss: float
    loss_by_attribute: dict[str, float]
    cells_blanked: int
    cells_blanked_by_attribute: dict[str, int]
    partitions: int
    rounds: int
    seconds: float

    def levels_used(self, quasi_identifier: str) -> tuple[int, ...]:
        """The levels at which some released person has the quasi-identifier (finest first)."""
        j = self.quasi_identifiers.index(quasi_identifier)
        return tuple(int(v) for v in np.unique(self.signature_levels[~self.suppressed_signatures, j]))

    @property
    def smallest_class(self) -> int:
        return int(self.class_sizes.min()) if self.class_sizes.size else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "classes": int(self.class_sizes.shape[0]),
            "smallest_class": self.smallest_class,
            "suppressed_persons": self.suppressed_persons,
            "suppressed_records": self.suppressed_records,
            "loss": self.loss,
            "loss_by_attribute": dict(self.loss_by_attribute),
            "cells_blanked": self.cells_blanked,
            "cells_blanked_by_attribute": dict(self.cells_blanked_by_attribute),
            "partitions": self.partitions,
            "rounds": self.rounds,
            "seconds": self.seconds,
        }


def person_local_recoding(
    table: PersonTable,
    encoded: Sequence[EncodedHierarchy],
    checks: Sequence[tuple[Criterion, str | None]],
    max_suppressed: float,
    allowed: Sequence[Sequence[int]],
    *,
    method: str = "local_recoding",
) -> LocalRelease:
    """Recode each class of persons to levels of its own among `allowed` (per quasi-identifier, the
    levels it may take, finest first; see module doc). Raises IplosError when the persons suppressed
    (failing at the coarsest levels, or released with every quasi-identifier '*') exceed the budget."""
    started = time.perf_counter()
    q = len(table.quasi_identifiers)
    if q == 0 or len(encoded) != q or len(allowed) != q:
        raise IplosError("local recoding needs one hierarchy and one set of levels per quasi-identifier")
    if table.n_persons == 0:
        raise IplosError("local recoding needs at least one person")
    for name, h, levels in zip(table.quasi_identifiers, encoded, allowed, strict=True):
        if not levels or min(levels) < 0 or max(levels) >= h.height:
            raise IplosError(f"{name}: levels {list(levels)} outside 0..{h.height - 1}")
    max_out = math.floor(max_suppressed * table.n_persons + 1e-9)
    recoder = PersonRecoder(table, encoded, checks, max_out, allowed)
    part, parts, suppressed, rounds = recoder.run()
    sig_levels = parts.levels[part]
    blank = np.ones(table.n_signatures, dtype=np.bool_)
    for j, h in enumerate(encoded):
        top = h.height - 1
        blank &= (sig_levels[:, j] == top) if h.labels[top] == ("*",) else False
    persons = table.persons
    already = int(persons[suppressed].sum())
    fully = int(persons[blank & ~suppressed].sum())
    if already + fully > max_out:
        problems = []
        if already:
            problems.append(f"suppress {already} person(s) of classes failing at the coarsest levels")
        if fully:
            problems.append(f"release {fully} person(s) with every quasi-identifier '*'")
        raise IplosError(
            f"{method.replace('_', ' ')} would {' and '.join(problems)}, beyond the suppression limit of "
            f"{max_out} persons; allow more suppression, coarser levels or weaker criteria"
        )
    suppressed = suppressed | blank
    sizes = _check_released(recoder, sig_levels, suppressed)
    d_levels = sig_levels.take(table.detail_signature, axis=0)
    d_codes = [
        recoder.codes_flat[j].take(d_levels[:, j] * recoder.n_el + table.detail_element) for j in range(q)
    ]
    d_supp = suppressed.take(table.detail_signature)
    loss, by_attr = recoding_loss(
        encoded, table.detail_count, [d_levels[:, j] for j in range(q)], d_codes, d_supp
    )
    base = tuple(recoder.lo)
    blanked: dict[str, int] = {}
    for j, (name, h) in enumerate(zip(table.quasi_identifiers, encoded, strict=True)):
        top = h.height - 1
        was_blank = base[j] == top and h.labels[top] == ("*",)
        now = d_supp | ((d_levels[:, j] == top) & (h.labels[top] == ("*",)))
        blanked[name] = 0 if was_blank else int(table.detail_count[now].sum())
    return LocalRelease(
        method=method,
        quasi_identifiers=table.quasi_identifiers,
        base_levels=base,
        signature_levels=sig_levels,
        suppressed_signatures=suppressed,
        n_persons=table.n_persons,
        n_records=table.n_records,
        suppressed_persons=int(persons[suppressed].sum()),
        suppressed_records=int(table.detail_count[d_supp].sum()),
        class_sizes=sizes,
        loss=loss,
        loss_by_attribute=dict(zip(table.quasi_identifiers, by_attr, strict=True)),
        cells_blanked=sum(blanked.values()),
        cells_blanked_by_attribute=blanked,
        partitions=int(np.unique(part[~suppressed]).shape[0]),
        rounds=rounds,
        seconds=time.perf_counter() - started,
    )


def _check_released(recoder: PersonRecoder, sig_levels: IntArray, suppressed: BoolArray) -> IntArray:
    """Group the released signatures exactly, by their released labels, and re-check every criterion.

    Labels are compared as text across levels (a label standing at two levels is one value), as the
    release gate compares them. Returns persons per released class.
    """
    t = recoder.t
    q = len(recoder.encoded)

    def label_key(levels: IntArray, elements: IntArray) -> IntArray:
        key = np.zeros(elements.shape[0], dtype=np.int64)
        space = 1
        for j, h in enumerate(recoder.encoded):
            ids: dict[str, int] = {}
            lut = np.array([ids.setdefault(v, len(ids)) for names in h.labels for v in names], np.int64)
            key = dense_rank(
                key * len(ids) + lut.take(recoder._lut_index(j, levels[:, j], elements)), space * len(ids)
            )
            space = int(key.max(initial=0)) + 1
        return key

    pos_key = label_key(sig_levels.take(recoder.seg, axis=0), t.elements)
    sentinel = int(pos_key.max(initial=0)) + 1
    pos_key = np.where(suppressed.take(recoder.seg), sentinel, pos_key)
    positional = PersonTable(
        quasi_identifiers=t.quasi_identifiers,
        element_codes=tuple(np.zeros(pos_key.shape[0], np.int64) for _ in range(q)),
        offsets=t.offsets,
        elements=np.arange(pos_key.shape[0], dtype=np.int64),
        persons=t.persons,
        detail_signature=t.detail_signature,
        detail_element=t.detail_element,
        detail_count=t.detail_count,
    )
    of_sig = group_signatures(positional, pos_key)
    n_classes = int(of_sig.max(initial=-1)) + 1
    released = ~suppressed
    sizes = np.bincount(of_sig[released], weights=t.persons[released], minlength=n_classes).astype(np.int64)
    present = np.bincount(of_sig[released], minlength=n_classes) > 0
    ok = sizes[present] >= recoder.k
    if recoder.checks and ok.all():
        d_rows = np.flatnonzero(released.take(t.detail_signature))
        d_key = label_key(sig_levels.take(t.detail_signature[d_rows], axis=0), t.detail_element[d_rows])
        cls = of_sig.take(t.detail_signature[d_rows])
        egroup = dense_rank(
            cls * (int(d_key.max(initial=0)) + 1) + d_key, n_classes * (int(d_key.max(initial=0)) + 1)
        )
        ok &= recoder.judge(d_rows, egroup, cls, n_classes)[present]
    if not ok.all():
        raise IplosError(
            f"local recoding: {int((~ok).sum())} released class(es) of persons fail the criteria "
            "(an internal error; please report it)"
        )
    return sizes[present]
