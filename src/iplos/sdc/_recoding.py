"""Local recoding: each class generalised to its own levels, by top-down multidimensional partitioning.

Global recoding (the lattice search) gives a quasi-identifier one level for every record; local
recoding lets "82" stand in one class and "80-84" in another. The method is Mondrian's greedy
top-down partitioning (LeFevre, DeWitt & Ramakrishnan, "Mondrian multidimensional k-anonymity",
ICDE 2006) with categorical splits along the generalization hierarchies, as in their treatment of
hierarchies and in top-down specialization (Fung, Wang & Yu, "Top-down specialization for
information and privacy preservation", ICDE 2005):

- Start from the classes of the node at the maximum levels (usually one class, everything '*').
  Classes there that fail the criteria are suppressed, within the suppression limit, as in ARX.
- Each round, every open partition considers specialising each quasi-identifier one level down its
  hierarchy. The records split by their value at that level; each child value with at least k
  records that meets the other criteria becomes a partition of its own; the other records stay
  together as a remainder keeping the parent value (when the remainder itself would fail, the
  smallest children join it). A remainder never splits on that attribute again.
- Among the feasible splits a partition takes the one that gains the most of ARX's Loss (records
  times leaves no longer covered, per attribute domain) per bit of the split's entropy, so cheap,
  informative splits (sex, service group, year) go before costly fine ones (day, kommune).
  A specialisation that keeps all records together (one child only) is always taken.
- A partition that can neither split nor be specialised is final. Every final partition meets every
  criterion by construction; the released classes are re-grouped from the released values and
  checked again.

Records released with every quasi-identifier '*' are suppressed records (the release gate counts
them so) and must fit the suppression limit; otherwise the call fails with an error saying so.
Suppression is never used to buy utility: besides those, only classes failing at the maximum
levels are suppressed. Rows are weighted by their counts, so a table of person signatures (one row
per distinct signature, counting persons) is recoded person by person. Everything runs on the
frequency table with numpy, one grouping per attribute per round.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc._criteria import KAnonymity
from iplos.sdc._encoding import EncodedHierarchy, encode_hierarchy, resolve_hierarchies
from iplos.sdc._evaluate import expand_criteria, suppression_limit
from iplos.sdc._frequency import FrequencyTable
from iplos.sdc._groups import GroupView, passing_groups
from iplos.sdc._metrics import Loss
from iplos.sdc._search import SearchConfig, _bounds

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Rounds in which a failing remainder may take in the smallest child before the split is given up.
_REMAINDER_TRIES = 3


@dataclass(frozen=True, eq=False)
class LocalRecoding:
    """Per input row of the frequency table, the level and code each quasi-identifier is released at.

    `suppressed_rows` are released with every quasi-identifier '*' and count as suppressed records
    (`suppressed` of them); `loss` is ARX's Loss computed cell by cell (`recoding_loss`), the same
    value `Loss` gives a global transformation.
    """

    quasi_identifiers: tuple[str, ...]
    levels: tuple[IntArray, ...]
    codes: tuple[IntArray, ...]
    suppressed_rows: BoolArray
    suppressed: int
    n_records: int
    released_class_sizes: IntArray
    loss: float
    loss_by_attribute: dict[str, float]
    partitions: int
    rounds: int
    seconds: float
    level_labels: tuple[tuple[tuple[str, ...], ...], ...] = field(repr=False)

    @property
    def classes(self) -> int:
        """Number of released classes (suppressed records not counted)."""
        return int(self.released_class_sizes.shape[0])

    def released(self, quasi_identifier: str) -> tuple[IntArray, tuple[str, ...]]:
        """One code per row into the returned labels: the released value, '*' where suppressed."""
        j = self.quasi_identifiers.index(quasi_identifier)
        labels: dict[str, int] = {}
        luts = []
        for names in self.level_labels[j]:
            luts.append(np.array([labels.setdefault(v, len(labels)) for v in names], dtype=np.int64))
        star = labels.setdefault("*", len(labels))
        out = np.empty(self.levels[j].shape[0], dtype=np.int64)
        for level, lut in enumerate(luts):
            at = self.levels[j] == level
            out[at] = lut[self.codes[j][at]]
        out[self.suppressed_rows] = star
        return out, tuple(labels)


def recoding_loss(
    encoded: Sequence[EncodedHierarchy],
    counts: IntArray,
    levels: Sequence[IntArray],
    codes: Sequence[IntArray],
    suppressed_rows: BoolArray,
) -> tuple[float, list[float]]:
    """ARX's Loss cell by cell: a value covering u of D leaves costs (u-1)/(D-1), a suppressed cell 1.

    Per attribute the record-weighted mean; attributes aggregated by ARX's geometric mean
    prod(1 + v)^(1/m) - 1. For a global transformation this equals `Loss()` (gs factor 0.5).
    """
    n = float(counts.sum())
    values = []
    for h, lev, code in zip(encoded, levels, codes, strict=True):
        d = h.domain_size
        under = np.empty(lev.shape[0], dtype=np.float64)
        for level in range(h.height):
            at = lev == level
            under[at] = h.leaves_under[level][code[at]]
        under[suppressed_rows] = d
        cost = (under - 1.0) / (d - 1.0) if d > 1 else np.zeros_like(under)
        values.append(float((cost * counts).sum() / n) if n else 0.0)
    product = 1.0
    for v in values:
        product *= (1.0 + v) ** (1.0 / len(values)) if values else 1.0
    return (product - 1.0 if values else 0.0), values


@dataclass
class _Partitions:
    """Growable per-partition state: level and frozen flag per attribute, open or final."""

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
class _Candidate:
    """One attribute's candidate split of every open partition in one round."""

    rows: IntArray
    group: IntArray
    group_part: IntArray
    own: BoolArray  # group becomes a partition of its own (else it stays in the remainder)
    feasible: BoolArray
    refine: BoolArray
    score: FloatArray


class _Recoder:
    def __init__(
        self, freq: FrequencyTable, encoded: Sequence[EncodedHierarchy], config: SearchConfig
    ) -> None:
        self.freq = freq
        self.encoded = tuple(encoded)
        self.lo, self.hi = _bounds(freq.quasi_identifiers, self.encoded, config)
        checks = expand_criteria(config.criteria, freq.sensitive)
        self.k = max([c.k for c, _ in checks if isinstance(c, KAnonymity)], default=1)
        self.checks = [(c, a) for c, a in checks if not isinstance(c, KAnonymity)]
        self.n = freq.n_records
        self.max_out = suppression_limit(config.max_suppressed, self.n)
        self.counts = freq.counts.astype(np.int64)
        self.distributions = {
            s: np.bincount(c, weights=self.counts, minlength=len(lab)) / max(self.n, 1)
            for s, c, lab in zip(freq.sensitive, freq.sensitive_codes, freq.sensitive_labels, strict=True)
        }
        n_rows = freq.n_rows
        # Per attribute: each row's code at every level (int32), and lookups over the codes of all
        # levels (code c of level lv at offset[lv] + c): rank among its siblings, and its Loss cost.
        self.codes_at: list[npt.NDArray[np.int32]] = []
        self.offsets: list[IntArray] = []
        self.rank_lut: list[IntArray] = []
        self.cost_lut: list[FloatArray] = []
        self.fanout: list[IntArray] = []  # per attribute, the most children of a value at each level
        for h, leaf in zip(encoded, freq.codes, strict=True):
            at = np.empty((h.height, n_rows), dtype=np.int32)
            for lv in range(h.height):
                at[lv] = h.leaf_codes[lv].astype(np.int32).take(leaf)
            self.codes_at.append(at)
            self.offsets.append(np.cumsum([0] + [h.cardinality(lv) for lv in range(h.height)]))
            fan = np.ones(h.height, dtype=np.int64)
            ranks = []
            for lv in range(h.height):
                if lv == h.height - 1:
                    ranks.append(np.zeros(h.cardinality(lv), dtype=np.int64))
                    continue
                parent = h.level_map(lv, lv + 1)
                order = np.lexsort((np.arange(parent.shape[0]), parent))
                first = np.searchsorted(parent[order], parent[order], side="left")
                rank = np.empty(parent.shape[0], dtype=np.int64)
                rank[order] = np.arange(parent.shape[0]) - first
                ranks.append(rank)
                fan[lv + 1] = int(np.bincount(parent).max(initial=1))
            self.rank_lut.append(np.concatenate(ranks))
            self.fanout.append(fan)
            d = max(h.domain_size - 1, 1)
            self.cost_lut.append(np.concatenate([(h.leaves_under[lv] - 1.0) / d for lv in range(h.height)]))

    def view(self, rows: IntArray, groups: IntArray, n_groups: int) -> GroupView:
        return GroupView(
            groups,
            n_groups,
            self.counts[rows],
            {s: c[rows] for s, c in zip(self.freq.sensitive, self.freq.sensitive_codes, strict=True)},
            self.distributions,
            dict(zip(self.freq.sensitive, self.freq.sensitive_labels, strict=True)),
        )

    def passes(self, rows: IntArray, groups: IntArray, n_groups: int, sizes: IntArray) -> BoolArray:
        ok = sizes >= self.k
        if self.checks and n_groups and rows.size:
            ok &= passing_groups(self.view(rows, groups, n_groups), self.checks)
        return ok

    def candidate(
        self, j: int, rows: IntArray, cpart: IntArray, levels: IntArray, frozen: BoolArray
    ) -> _Candidate:
        """Attribute j's split of each open partition (numbered 0..P-1 as `cpart`, with its levels)."""
        n_parts = levels.shape[0]
        level = levels[cpart]
        eligible = level > self.lo[j]
        if not eligible.all():
            rows, cpart, level = rows[eligible], cpart[eligible], level[eligible]
        present = np.unique(levels[levels > self.lo[j]])
        fan = int(self.fanout[j][present].max(initial=1))
        n_all = self.freq.n_rows
        codes = self.codes_at[j].reshape(-1)
        child = (level - 1) * n_all + rows
        child_code = self.offsets[j].take(level - 1) + codes.take(child)
        key = cpart * fan + self.rank_lut[j].take(child_code)
        w = self.counts.take(rows)
        space = n_parts * fan
        if space <= max(8 * rows.shape[0], 1 << 20):
            dense = np.bincount(key, weights=w, minlength=space)
            occupied = dense > 0
            g_key = np.flatnonzero(occupied)
            group = (np.cumsum(occupied) - 1).take(key)
            sizes = dense[g_key].astype(np.int64)
        else:
            g_key, group = np.unique(key, return_inverse=True)
            group = group.reshape(-1).astype(np.int64)
            sizes = np.bincount(group, weights=w, minlength=g_key.shape[0]).astype(np.int64)
        n_groups = g_key.shape[0]
        g_part = g_key // fan
        n_child = np.bincount(g_part, minlength=n_parts)
        own = self.passes(rows, group, n_groups, sizes)
        rem_ok = np.ones(n_parts, dtype=np.bool_)
        rem_size = np.zeros(n_parts, dtype=np.int64)
        for attempt in range(_REMAINDER_TRIES + 1):
            rem_size = np.bincount(g_part[~own], weights=sizes[~own], minlength=n_parts).astype(np.int64)
            rem_ok = rem_size >= self.k
            if self.checks:
                in_rem = ~own[group]
                rem_ok &= self.passes(rows[in_rem], cpart[in_rem], n_parts, rem_size)
            rem_ok |= rem_size == 0
            bad = ~rem_ok & (n_child >= 2)
            if not bad.any() or attempt == _REMAINDER_TRIES:
                break
            # The smallest child of each partition with a failing remainder joins the remainder.
            cand = np.flatnonzero(own & bad[g_part])
            if cand.size == 0:
                break
            order = cand[np.lexsort((sizes[cand], g_part[cand]))]
            first = np.ones(order.shape[0], dtype=np.bool_)
            first[1:] = g_part[order[1:]] != g_part[order[:-1]]
            own[order[first]] = False
        n_own = np.bincount(g_part[own], minlength=n_parts)
        feasible = ~frozen & (n_child >= 2) & (n_own >= 1) & ((n_own >= 2) | (rem_size > 0)) & rem_ok
        refine = n_child == 1
        cost = self.cost_lut[j]
        gain_row = cost.take(self.offsets[j].take(level) + codes.take(child + n_all)) - cost.take(child_code)
        g_gain = np.bincount(group, weights=gain_row * w, minlength=n_groups)
        gain = np.bincount(g_part[own], weights=g_gain[own], minlength=n_parts)
        total = np.bincount(g_part, weights=sizes, minlength=n_parts)
        s_own = sizes[own].astype(np.float64)
        plogp = np.bincount(
            g_part[own], weights=s_own * np.log2(np.maximum(s_own, 1)), minlength=n_parts
        ).astype(np.float64)
        rem = rem_size.astype(np.float64)
        plogp += rem * np.log2(np.maximum(rem, 1))
        entropy = np.log2(np.maximum(total, 1)) * total - plogp
        score = np.where(feasible, gain / np.maximum(entropy, 1e-12), -np.inf)
        return _Candidate(rows, group, g_part, own, feasible, refine, score)

    def run(self) -> tuple[IntArray, _Partitions, BoolArray, int]:
        q = len(self.encoded)
        n_rows = self.freq.n_rows
        # Start: the classes of the node at the maximum levels.
        key = np.zeros(n_rows, dtype=np.int64)
        for j, h in enumerate(self.encoded):
            key = key * h.cardinality(self.hi[j]) + self.codes_at[j][self.hi[j]]
        uniq, part = np.unique(key, return_inverse=True)
        part = part.reshape(-1).astype(np.int64)
        n0 = uniq.shape[0]
        all_rows = np.arange(n_rows, dtype=np.int64)
        sizes = np.bincount(part, weights=self.counts, minlength=n0).astype(np.int64)
        ok = self.passes(all_rows, part, n0, sizes)
        suppressed_rows = ~ok[part]
        parts = _Partitions(
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
            lookup = np.full(parts.size, -1, dtype=np.int64)
            lookup[open_ids] = np.arange(open_ids.shape[0])
            cpart_all = lookup.take(part)
            rows = np.flatnonzero(cpart_all >= 0)
            cpart = cpart_all.take(rows)
            rounds += 1
            levels = parts.levels[open_ids]
            frozen = parts.frozen[open_ids]
            cands = [self.candidate(j, rows, cpart, levels[:, j], frozen[:, j]) for j in range(q)]
            progressed = np.zeros(open_ids.shape[0], dtype=np.bool_)
            for j, c in enumerate(cands):
                parts.levels[open_ids, j] -= c.refine
                progressed |= c.refine
            scores = np.stack([c.score for c in cands])
            best = np.argmax(scores, axis=0)
            splits = np.isfinite(scores[best, np.arange(open_ids.shape[0])])
            progressed |= splits
            for j, c in enumerate(cands):
                chosen = splits & (best == j)
                if not chosen.any():
                    continue
                groups = np.flatnonzero(chosen[c.group_part] & c.own)
                new_ids = parts.add(open_ids[c.group_part[groups]])
                parts.levels[new_ids, j] -= 1
                target = np.full(c.own.shape[0], -1, dtype=np.int64)
                target[groups] = new_ids
                row_target = target.take(c.group)
                moved = row_target >= 0
                part[c.rows[moved]] = row_target[moved]
                parts.frozen[open_ids[chosen], j] = True
            parts.open[open_ids] = progressed
            parts.open[: parts.size] &= np.bincount(part, minlength=parts.size) > 0
        return part, parts, suppressed_rows, rounds


def local_recoding(
    freq: FrequencyTable,
    hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy],
    config: SearchConfig,
) -> LocalRecoding:
    """Recode each class to its own levels, meeting every criterion of `config` (see module doc).

    Uses `config.criteria`, `max_suppressed`, `min_levels` and `max_levels`; the utility is
    ARX's Loss (other metrics are refused). Raises IplosError when the classes at the maximum
    levels need more suppression than allowed, or when the records released with every value '*'
    exceed the suppression limit.
    """
    started = time.perf_counter()
    if not freq.quasi_identifiers:
        raise IplosError("local recoding needs at least one quasi-identifier")
    if not isinstance(config.utility, Loss) or config.utility.gs_factor != 0.5:
        raise IplosError(
            f"local recoding minimises the loss metric (ARX's Loss), not {config.utility.name!r}"
        )
    if freq.n_records == 0:
        raise IplosError("local recoding needs at least one record")
    encoded = [encode_hierarchy(h) for h in resolve_hierarchies(freq.quasi_identifiers, hierarchies)]
    for q, h, column in zip(freq.quasi_identifiers, encoded, freq.codes, strict=True):
        if column.size and (int(column.min()) < 0 or int(column.max()) >= h.domain_size):
            raise IplosError(f"column {q!r}: codes outside its hierarchy {h.name!r}")
    recoder = _Recoder(freq, encoded, config)
    part, parts, suppressed_rows, rounds = recoder.run()
    n_rows = freq.n_rows
    idx = np.arange(n_rows)
    levels = tuple(parts.levels[part, j].copy() for j in range(len(encoded)))
    codes = tuple(recoder.codes_at[j][levels[j], idx] for j in range(len(encoded)))
    blank = np.ones(n_rows, dtype=np.bool_)
    for h, lev in zip(encoded, levels, strict=True):
        top = h.height - 1
        blank &= (lev == top) if h.labels[top] == ("*",) else False
    counts = recoder.counts
    already = int(counts[suppressed_rows].sum())
    fully = int(counts[blank & ~suppressed_rows].sum())
    if already + fully > recoder.max_out:
        problems = []
        if already:
            problems.append(f"suppress {already} record(s) of classes failing at the maximum levels")
        if fully:
            problems.append(f"release {fully} record(s) with every quasi-identifier '*'")
        raise IplosError(
            f"local recoding would {' and '.join(problems)}, beyond the suppression limit of "
            f"{recoder.max_out} records; allow more suppression, higher maximum levels or weaker criteria"
        )
    suppressed_rows = suppressed_rows | blank
    released_sizes = _check_released(recoder, encoded, levels, codes, suppressed_rows)
    loss, by_attr = recoding_loss(encoded, counts, levels, codes, suppressed_rows)
    return LocalRecoding(
        quasi_identifiers=freq.quasi_identifiers,
        levels=levels,
        codes=codes,
        suppressed_rows=suppressed_rows,
        suppressed=int(counts[suppressed_rows].sum()),
        n_records=freq.n_records,
        released_class_sizes=released_sizes,
        loss=loss,
        loss_by_attribute=dict(zip(freq.quasi_identifiers, by_attr, strict=True)),
        partitions=int(np.unique(part[~suppressed_rows]).shape[0]),
        rounds=rounds,
        seconds=time.perf_counter() - started,
        level_labels=tuple(h.labels for h in encoded),
    )


def _check_released(
    recoder: _Recoder,
    encoded: Sequence[EncodedHierarchy],
    levels: Sequence[IntArray],
    codes: Sequence[IntArray],
    suppressed_rows: BoolArray,
) -> IntArray:
    """Group the released values into classes and re-check every criterion on them.

    Classes are the distinct released labels, as the release gate groups them: should one label
    stand at two levels of a hierarchy, its records form one class.
    """
    rows = np.flatnonzero(~suppressed_rows)
    columns, radices = [], []
    for h, lev, code in zip(encoded, levels, codes, strict=True):
        ids: dict[str, int] = {}
        lut = np.array([ids.setdefault(v, len(ids)) for names in h.labels for v in names], dtype=np.int64)
        offsets = np.cumsum([0] + [h.cardinality(lv) for lv in range(h.height)])
        columns.append(lut[offsets[lev[rows]] + code[rows]])
        radices.append(max(len(ids), 1))
    if math.prod(radices) >= 2**62:
        _, inverse = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
    else:
        key = np.zeros(rows.shape[0], dtype=np.int64)
        for radix, col in zip(radices, columns, strict=True):
            key = key * radix + col
        _, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    n_classes = int(inverse.max()) + 1 if inverse.size else 0
    sizes = np.bincount(inverse, weights=recoder.counts[rows], minlength=n_classes).astype(np.int64)
    ok = recoder.passes(rows, inverse, n_classes, sizes)
    if not ok.all():
        raise IplosError(
            f"local recoding: {int((~ok).sum())} released class(es) fail the criteria "
            "(an internal error; please report it)"
        )
    return sizes
