"""The partitioning behind `_local`: Mondrian's top-down splits of person signatures, vectorised.

`PersonRecoder.run` returns each signature's partition, the partitions' levels and the signatures
suppressed at the coarsest levels; `_local.person_local_recoding` turns that into a `LocalRelease`
and re-checks it. See `_local`'s module doc for the method and its references.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.release._person import PersonTable
from iplos.sdc import Criterion, EncodedHierarchy, KAnonymity
from iplos.sdc._groups import GroupView, passing_groups
from iplos.sdc._recoding import _Partitions as _Parts

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


class PersonRecoder:
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
