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
from iplos.release._person import PersonTable, dense_rank, group_signatures
from iplos.sdc import Criterion, EncodedHierarchy, KAnonymity
from iplos.sdc._groups import GroupView, passing_groups
from iplos.sdc._recoding import recoding_loss

IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_REMAINDER_TRIES = 3
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(values: UIntArray) -> UIntArray:
    """splitmix64's finaliser, elementwise (wrapping arithmetic)."""
    z = values + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _C1
    z = (z ^ (z >> np.uint64(27))) * _C2
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


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


@dataclass
class _Parts:
    levels: IntArray
    frozen: BoolArray
    open: BoolArray
    size: int

    def add(self, parents: IntArray) -> IntArray:
        count = parents.shape[0]
        while self.size + count > self.levels.shape[0]:
            grow = max(self.levels.shape[0], 16)
            self.levels = np.concatenate([self.levels, np.zeros((grow, self.levels.shape[1]), np.int64)])
            self.frozen = np.concatenate([self.frozen, np.zeros((grow, self.frozen.shape[1]), np.bool_)])
            self.open = np.concatenate([self.open, np.zeros(grow, np.bool_)])
        ids = np.arange(self.size, self.size + count, dtype=np.int64)
        self.levels[ids] = self.levels[parents]
        self.frozen[ids] = self.frozen[parents]
        self.open[ids] = True
        self.size += count
        return ids


@dataclass
class _Round:
    """One round's open signatures (`cpart`: open partition 0..n_parts-1), their positions (element
    of each, `owner` the signature) and detail rows, with element hashes at the current levels."""

    sigs: IntArray
    cpart: IntArray
    sig_levels: IntArray
    n_parts: int
    owner: IntArray
    pos_el: IntArray
    pos_hash: UIntArray
    d_rows: IntArray
    d_owner: IntArray
    d_el: IntArray
    d_hash: UIntArray


@dataclass
class _Split:
    sigs: IntArray  # the candidate's signatures
    group: IntArray  # child of each of them
    group_part: IntArray  # open partition (0..P-1) of each child
    own: BoolArray
    feasible: BoolArray
    refine: BoolArray
    score: FloatArray


class _Recoder:
    def __init__(
        self,
        table: PersonTable,
        encoded: Sequence[EncodedHierarchy],
        checks: Sequence[tuple[Criterion, str | None]],
        max_out: int,
        allowed: Sequence[Sequence[int]],
    ) -> None:
        self.t = table
        self.encoded = tuple(encoded)
        self.k = max([c.k for c, _ in checks if isinstance(c, KAnonymity)], default=1)
        self.checks = [(c, a) for c, a in checks if not isinstance(c, KAnonymity)]
        self.max_out = max_out
        self.allowed = [sorted(set(int(v) for v in a)) for a in allowed]
        self.lo = [a[0] for a in self.allowed]
        self.hi = [a[-1] for a in self.allowed]
        n_el = table.element_codes[0].shape[0]
        self.n_el = n_el
        self.seg = table.segment()
        self.pos_el = table.elements
        self.persons = table.persons
        self.d_sig, self.d_el, self.d_count = table.detail_signature, table.detail_element, table.detail_count
        self.n_records = max(int(self.d_count.sum()), 1)
        self.distributions = {
            s: np.bincount(c, weights=self.d_count, minlength=len(lab)) / self.n_records
            for s, c, lab in zip(table.sensitive, table.detail_sensitive, table.sensitive_labels, strict=True)
        }
        self.codes_flat: list[IntArray] = []  # code of element e at level lv: [lv * n_el + e]
        self.offsets: list[IntArray] = []  # (level, code) -> offset[level] + code
        self.rand: list[UIntArray] = []
        self.cost: list[FloatArray] = []
        self.below: list[IntArray] = []  # next allowed level under each level (-1: none)
        for j, (h, leaf) in enumerate(zip(encoded, table.element_codes, strict=True)):
            self.codes_flat.append(np.concatenate([h.leaf_codes[lv][leaf] for lv in range(h.height)]))
            offsets = np.cumsum([0] + [h.cardinality(lv) for lv in range(h.height)]).astype(np.int64)
            self.offsets.append(offsets)
            rng = np.random.default_rng(0x1F05 + j)
            self.rand.append(rng.integers(0, 2**63, size=int(offsets[-1]), dtype=np.int64).astype(np.uint64))
            d = max(h.domain_size - 1, 1)
            self.cost.append(np.concatenate([(h.leaves_under[lv] - 1.0) / d for lv in range(h.height)]))
            below = np.full(h.height, -1, dtype=np.int64)
            for lower, upper in zip(self.allowed[j][:-1], self.allowed[j][1:], strict=True):
                below[upper] = lower
            self.below.append(below)

    # -- hashes and codes of elements at per-signature levels
    def _lut_index(self, j: int, levels: IntArray, elements: IntArray) -> IntArray:
        codes = self.codes_flat[j].take(levels * self.n_el + elements)
        return np.asarray(self.offsets[j].take(levels) + codes, dtype=np.int64)

    def element_hash(self, levels: IntArray, elements: IntArray) -> UIntArray:
        """Hash of each element at its own levels (rows of `levels`, one column per attribute)."""
        h = np.zeros(elements.shape[0], dtype=np.uint64)
        for j in range(len(self.encoded)):
            h += self.rand[j].take(self._lut_index(j, levels[:, j], elements))
        return h

    def view(self, details: IntArray, groups: IntArray, n_groups: int) -> GroupView:
        t = self.t
        return GroupView(
            groups,
            n_groups,
            self.d_count.take(details),
            {s: c.take(details) for s, c in zip(t.sensitive, t.detail_sensitive, strict=True)},
            self.distributions,
            dict(zip(t.sensitive, t.sensitive_labels, strict=True)),
        )

    def diverse(self, details: IntArray, cls: IntArray, d_hash: UIntArray, n_classes: int) -> BoolArray:
        """Classes whose every generalised row (element group of records) meets l and t."""
        if not self.checks or details.size == 0:
            return np.ones(n_classes, dtype=np.bool_)
        _, egroup = np.unique(_mix(d_hash ^ _mix(cls.astype(np.uint64))), return_inverse=True)
        return self.judge(details, egroup.reshape(-1).astype(np.int64), cls, n_classes)

    def judge(self, details: IntArray, egroup: IntArray, cls: IntArray, n_classes: int) -> BoolArray:
        """Classes none of whose element groups (`egroup` of each detail row) fails l or t."""
        n_eg = int(egroup.max(initial=-1)) + 1
        eg_class = np.zeros(n_eg, dtype=np.int64)
        eg_class[egroup] = cls
        passing = passing_groups(self.view(details, egroup, n_eg), self.checks)
        return np.asarray(np.bincount(eg_class[~passing], minlength=n_classes) == 0)

    def children(self, sig_hash: UIntArray, cpart: IntArray) -> tuple[IntArray, int, IntArray]:
        """Signatures grouped by (open partition, signature hash): child of each, count, child's cpart."""
        key = _mix(sig_hash ^ _mix(cpart.astype(np.uint64) + np.uint64(1)))
        _, first_of, group = np.unique(key, return_index=True, return_inverse=True)
        group = group.reshape(-1).astype(np.int64)
        return group, int(first_of.shape[0]), cpart.take(first_of)

    def signature_hash(self, element_hash: UIntArray, owner: IntArray, n: int) -> UIntArray:
        """Order-free hash of each of n signatures from its positions' element hashes (`owner` sorted)."""
        out = np.zeros(n, dtype=np.uint64)
        if element_hash.size:
            lengths = np.bincount(owner, minlength=n)
            first = np.cumsum(lengths) - lengths
            nonempty = lengths > 0
            out[nonempty] = np.add.reduceat(_mix(element_hash), first[nonempty])
        return out

    def start_round(self, sigs: IntArray, cpart: IntArray, sig_levels: IntArray, n_parts: int) -> _Round:
        """The positions and detail rows of the open signatures, with their hashes at current levels."""
        starts = self.t.offsets.take(sigs)
        lengths = self.t.offsets.take(sigs + 1) - starts
        pos = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        owner = np.repeat(np.arange(sigs.shape[0]), lengths)
        pos_el = self.pos_el.take(pos)
        where = np.full(self.t.n_signatures, -1, dtype=np.int64)
        where[sigs] = np.arange(sigs.shape[0])
        d_all = where.take(self.d_sig)
        d_rows = np.flatnonzero(d_all >= 0)
        d_owner = d_all.take(d_rows)
        d_el = self.d_el.take(d_rows)
        return _Round(
            sigs=sigs,
            cpart=cpart,
            sig_levels=sig_levels,
            n_parts=n_parts,
            owner=owner,
            pos_el=pos_el,
            pos_hash=self.element_hash(sig_levels.take(owner, axis=0), pos_el),
            d_rows=d_rows,
            d_owner=d_owner,
            d_el=d_el,
            d_hash=self.element_hash(sig_levels.take(d_owner, axis=0), d_el),
        )

    def candidate(self, j: int, rnd: _Round, part_frozen: BoolArray) -> _Split:
        """Attribute j's split of each open partition: its hashes moved from the old level to the new
        (an additive hash changes by one term per element), its children judged."""
        n_parts = rnd.n_parts
        level = rnd.sig_levels[:, j]
        lower = self.below[j].take(level)
        keep_mask = lower >= 0
        keep = np.flatnonzero(keep_mask)
        sigs, cpart = rnd.sigs.take(keep), rnd.cpart.take(keep)
        old, new = level.take(keep), lower.take(keep)
        remap = np.full(rnd.sigs.shape[0], -1, dtype=np.int64)
        remap[keep] = np.arange(keep.shape[0])
        pmask = keep_mask.take(rnd.owner)
        p_owner = remap.take(rnd.owner[pmask])
        p_el = rnd.pos_el[pmask]
        rand = self.rand[j]
        p_hash = (
            rnd.pos_hash[pmask]
            - rand.take(self._lut_index(j, old.take(p_owner), p_el))
            + rand.take(self._lut_index(j, new.take(p_owner), p_el))
        )
        group, n_groups, g_part = self.children(self.signature_hash(p_hash, p_owner, keep.shape[0]), cpart)
        sizes = np.bincount(group, weights=self.persons.take(sigs), minlength=n_groups).astype(np.int64)
        n_child = np.bincount(g_part, minlength=n_parts)
        dmask = keep_mask.take(rnd.d_owner)
        details = rnd.d_rows[dmask]
        d_sig_local = remap.take(rnd.d_owner[dmask])
        el = rnd.d_el[dmask]
        idx_old = self._lut_index(j, old.take(d_sig_local), el)
        idx_new = self._lut_index(j, new.take(d_sig_local), el)
        d_child = group.take(d_sig_local)
        own = sizes >= self.k
        if self.checks:
            d_hash_parent = rnd.d_hash[dmask]
            d_hash = d_hash_parent - rand.take(idx_old) + rand.take(idx_new)
            own &= self.diverse(details, d_child, d_hash, n_groups)
        rem_ok = np.ones(n_parts, dtype=np.bool_)
        rem_size = np.zeros(n_parts, dtype=np.int64)
        for attempt in range(_REMAINDER_TRIES + 1):
            rem_size = np.bincount(g_part[~own], weights=sizes[~own], minlength=n_parts).astype(np.int64)
            rem_ok = rem_size >= self.k
            if self.checks:
                in_rem = ~own.take(d_child)
                rem_ok &= self.diverse(
                    details[in_rem], g_part.take(d_child[in_rem]), d_hash_parent[in_rem], n_parts
                )
            rem_ok |= rem_size == 0
            bad = ~rem_ok & (n_child >= 2)
            if not bad.any() or attempt == _REMAINDER_TRIES:
                break
            cand = np.flatnonzero(own & bad[g_part])
            if cand.size == 0:
                break
            order = cand[np.lexsort((sizes[cand], g_part[cand]))]
            first = np.ones(order.shape[0], dtype=np.bool_)
            first[1:] = g_part[order[1:]] != g_part[order[:-1]]
            own[order[first]] = False
        n_own = np.bincount(g_part[own], minlength=n_parts)
        frozen = part_frozen
        feasible = ~frozen & (n_child >= 2) & (n_own >= 1) & ((n_own >= 2) | (rem_size > 0)) & rem_ok
        # Lowering a level that keeps everyone together keeps the class, but can part its rows into
        # finer element groups (years no longer '*'), so l and t must hold for the one child too.
        refine = (n_child == 1) & (n_own == 1)
        # Loss regained: records of own children, per record the cost at the old level less the new.
        gain_row = self.cost[j].take(idx_old) - self.cost[j].take(idx_new)
        g_gain = np.bincount(d_child, weights=gain_row * self.d_count.take(details), minlength=n_groups)
        gain = np.bincount(g_part[own], weights=g_gain[own], minlength=n_parts)
        total = np.bincount(g_part, weights=sizes, minlength=n_parts)
        s_own = sizes[own].astype(np.float64)
        plogp: FloatArray = np.bincount(
            g_part[own], weights=s_own * np.log2(np.maximum(s_own, 1)), minlength=n_parts
        ).astype(np.float64)
        rem = rem_size.astype(np.float64)
        plogp = plogp + rem * np.log2(np.maximum(rem, 1))
        entropy = np.log2(np.maximum(total, 1)) * total - plogp
        score = np.where(feasible, gain / np.maximum(entropy, 1e-12), -np.inf)
        return _Split(sigs, group, g_part, own, feasible, refine, score)

    def run(self) -> tuple[IntArray, _Parts, BoolArray, int]:
        q = len(self.encoded)
        n_sig = self.t.n_signatures
        all_sigs = np.arange(n_sig, dtype=np.int64)
        top = np.tile(np.array(self.hi, dtype=np.int64), (n_sig, 1))
        at_top = self.start_round(all_sigs, np.zeros(n_sig, dtype=np.int64), top, 1)
        part, n0, _ = self.children(
            self.signature_hash(at_top.pos_hash, at_top.owner, n_sig), np.zeros(n_sig, dtype=np.int64)
        )
        sizes = np.bincount(part, weights=self.persons, minlength=n0).astype(np.int64)
        ok = sizes >= self.k
        if self.checks:
            d_all = np.arange(self.d_sig.shape[0], dtype=np.int64)
            d_hash = self.element_hash(top.take(self.d_sig, axis=0), self.d_el)
            ok &= self.diverse(d_all, part.take(self.d_sig), d_hash, n0)
        suppressed = ~ok[part]
        parts = _Parts(
            levels=np.tile(np.array(self.hi, dtype=np.int64), (n0, 1)),
            frozen=np.zeros((n0, q), dtype=np.bool_),
            open=ok.copy(),
            size=n0,
        )
        rounds = 0
        while True:
            open_ids = np.flatnonzero(parts.open[: parts.size])
            if open_ids.size == 0:
                break
            rounds += 1
            lookup = np.full(parts.size, -1, dtype=np.int64)
            lookup[open_ids] = np.arange(open_ids.shape[0])
            cpart_all = lookup.take(part)
            sigs = np.flatnonzero(cpart_all >= 0)
            cpart = cpart_all.take(sigs)
            sig_levels = parts.levels[open_ids].take(cpart, axis=0)
            n_parts = open_ids.shape[0]
            rnd = self.start_round(sigs, cpart, sig_levels, n_parts)
            cands = [self.candidate(j, rnd, parts.frozen[open_ids, j]) for j in range(q)]
            # One change per partition and round: lowering two attributes at once (or lowering one
            # and splitting on another) can part persons whose signatures agreed on each change alone.
            refine_at = np.full(n_parts, -1, dtype=np.int64)
            for j in reversed(range(q)):
                refine_at[cands[j].refine] = j
            refined = refine_at >= 0
            for j in range(q):
                at = refine_at == j
                parts.levels[open_ids[at], j] = self.below[j].take(parts.levels[open_ids[at], j])
            scores = np.stack([c.score for c in cands])
            best = np.argmax(scores, axis=0)
            splits = np.isfinite(scores[best, np.arange(n_parts)]) & ~refined
            progressed = refined | splits
            for j, c in enumerate(cands):
                chosen = splits & (best == j)
                if not chosen.any():
                    continue
                groups = np.flatnonzero(chosen[c.group_part] & c.own)
                parents = open_ids[c.group_part[groups]]
                new_ids = parts.add(parents)
                parts.levels[new_ids, j] = self.below[j].take(parts.levels[parents, j])
                target = np.full(c.own.shape[0], -1, dtype=np.int64)
                target[groups] = new_ids
                sig_target = target.take(c.group)
                moved = sig_target >= 0
                part[c.sigs[moved]] = sig_target[moved]
                parts.frozen[open_ids[chosen], j] = True
            parts.open[open_ids] = progressed
            parts.open[: parts.size] &= np.bincount(part, minlength=parts.size) > 0
        return part, parts, suppressed, rounds


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
    recoder = _Recoder(table, encoded, checks, max_out, allowed)
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


def _check_released(recoder: _Recoder, sig_levels: IntArray, suppressed: BoolArray) -> IntArray:
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
