"""(k, k^m)-anonymity of persons: a relational part known fully, the other tables' rows m at a time.

A multi-table extract is stacked with a table column (`TABLE`): rows of the person-year table
(`RELATIONAL`) are the relational part, the rows of every other table (service spells, NPR
episodes, diagnoses, cause of death) are a person's items. The attacker model follows
Terrovitis, Mamoulis & Kalnis, "Privacy-preserving anonymization of set-valued data" (PVLDB 2008;
k^m-anonymity: any m items an attacker knows of a person's set are shared by at least k persons)
and Poulis, Loukides, Gkoulalas-Divanis & Skiadopoulos, "Anonymizing data with relational and
transaction attributes" (ECML PKDD 2013; RT-anonymity), applied to persons:

- P(p): the multiset of p's generalised person-year rows (the trajectory, with the years present),
  together with the set of other tables p has rows in (so that knowing someone was never in
  hospital, or is alive, is covered: the k^m model alone knows only rows a person has);
- E(p): the SET of p's distinct generalised rows of the other tables (an element names its table);
- p is protected when, for every S subset of E(p) with |S| <= m (S = {} included), at least k
  persons q have P(q) = P(p) and S subset of E(q). This is stricter than k^m over the trajectory
  alone (each count is over fewer persons), so it implies it.

`items_known = None` is full knowledge: the multiset of everything (`release._person`), exact.

Coarsening merges elements, so every (P, S) key of a person at a finer node maps to a key at the
coarser node with at least as many supporters: the count is monotone and the lattice search prunes
with it. Suppression removes whole persons: removing one lowers the counts of the keys it
supported and can push another person below k, so it is iterated to the fixed point (the greatest
set of persons who are all protected among themselves, which only grows under coarsening).

The l and t criteria judge the classes of the relational part: within each class of persons with
equal P, the records of one generalised person-year element (what an attacker who knows P learns of
that year), exactly as `release._person` judges full signatures; a class failing them is
suppressed whole, inside the same fixed point.

Everything is counted in numpy over signatures (persons with equal leaf signatures share all
keys, weighted by their number). A signature with n distinct items has C(n, r) keys of size r,
generated per group of equal n by one fancy-index into a combination table; before keys of size
r are made, signatures already failing with smaller keys are dropped (Apriori: the fixed point only
removes more). A signature with more than `MAX_ITEMS` distinct items at a node is suppressed
instead of expanded (sound, never an unchecked release; with m = 2 that is 32,640 pairs for one
person), and is counted in `KmResult.too_many`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import numpy.typing as npt

from iplos.catalog import Hierarchy
from iplos.errors import IplosError
from iplos.release._person import PersonTable, group_signatures
from iplos.release._plan import MAX_ITEMS_KNOWN

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TABLE = "_tabell"
RELATIONAL = "person_year"
#: The default knowledge bound for a multi-table delivery (see docs/release.md, "Several tables").
DEFAULT_ITEMS_KNOWN = 2
__all__ = ["DEFAULT_ITEMS_KNOWN", "MAX_ITEMS", "MAX_ITEMS_KNOWN", "RELATIONAL", "TABLE", "km_anonymity"]
MAX_ITEMS = 256


def relational_elements(table: PersonTable, hierarchies: dict[str, Hierarchy]) -> BoolArray | None:
    """Which elements are person-year rows (None: the table has no table column, all relational)."""
    if TABLE not in table.quasi_identifiers:
        return None
    j = table.quasi_identifiers.index(TABLE)
    leaf = hierarchies[TABLE].leaf_index(RELATIONAL)
    codes = table.element_codes[j]
    if leaf is None:
        return np.zeros(codes.shape[0], dtype=np.bool_)
    return np.asarray(codes == leaf, dtype=np.bool_)


def relational_view(table: PersonTable, relational: BoolArray) -> PersonTable:
    """The table with each signature cut to its person-year elements (and their detail records)."""
    keep = relational[table.elements]
    seg = table.segment()
    counts = np.bincount(seg[keep], minlength=table.n_signatures)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    detail = relational[table.detail_element]
    return replace(
        table,
        offsets=offsets,
        elements=table.elements[keep],
        detail_signature=table.detail_signature[detail],
        detail_element=table.detail_element[detail],
        detail_count=table.detail_count[detail],
        detail_sensitive=tuple(s[detail] for s in table.detail_sensitive),
    )


@dataclass(frozen=True, eq=False)
class KmResult:
    """The outcome of (k, k^m)-anonymity at one node.

    - `suppressed[s]`: signature s is suppressed (its persons removed);
    - `relational_class[s]`: the class of equal P of signature s;
    - `class_sizes`: released persons per class of equal P (classes with someone released);
    - `smallest_key`: fewest persons supporting a (P, S) key of a released person (0: none released);
    - `keys`: distinct (P, S) keys counted; `rounds`: fixed-point rounds; `too_many`: signatures
      suppressed because they had more than `MAX_ITEMS` distinct items;
    - `worst[s]`: the fewest persons holding one of signature s's keys (0: suppressed): an attacker
      who chooses the best m rows of such a person finds them among that many.
    """

    suppressed: BoolArray
    relational_class: IntArray
    class_sizes: IntArray
    smallest_key: int
    keys: int
    rounds: int
    too_many: int
    worst: IntArray


def _item_sets(table: PersonTable, element_key: IntArray, relational: BoolArray) -> tuple[IntArray, IntArray]:
    """Each signature's distinct generalised items: (signature, item key), sorted by both."""
    items = ~relational[table.elements]
    seg = table.segment()[items]
    keys = element_key[table.elements[items]]
    width = int(element_key.max(initial=0)) + 1
    if float(table.n_signatures) * width < 2.0**62:
        pairs = np.unique(seg * width + keys)
        return pairs // width, pairs % width
    stacked = np.unique(np.stack([seg, keys], axis=1), axis=0)
    return stacked[:, 0].copy(), stacked[:, 1].copy()


def _encode(columns: Sequence[IntArray], widths: Sequence[int]) -> IntArray:
    """Dense ids of the rows of `columns` (equal rows share an id)."""
    space = float(np.prod([max(w, 1) for w in widths], dtype=np.float64))
    if space < 2.0**62:
        code = np.zeros(columns[0].shape[0], dtype=np.int64)
        for col, w in zip(columns, widths, strict=True):
            code = code * max(w, 1) + col
        _, inverse = np.unique(code, return_inverse=True)
    else:
        _, inverse = np.unique(np.stack(list(columns), axis=1), axis=0, return_inverse=True)
    return np.asarray(inverse.reshape(-1), dtype=np.int64)


def _keys_of_size(
    r: int,
    item_sig: IntArray,
    item_key: IntArray,
    starts: IntArray,
    counts: IntArray,
    alive: BoolArray,
    p_class: IntArray,
    n_classes: int,
    n_items: int,
) -> tuple[IntArray, IntArray]:
    """(key id, signature) of every key of size r of the living signatures with at most MAX_ITEMS."""
    sig_parts: list[IntArray] = []
    col_parts: list[list[IntArray]] = [[] for _ in range(r)]
    eligible = alive & (counts >= r) & (counts <= MAX_ITEMS)
    for n in np.unique(counts[eligible]):
        sigs = np.flatnonzero(eligible & (counts == n))
        combo = np.asarray(list(combinations(range(int(n)), r)), dtype=np.int64)  # C(n, r) x r
        matrix = item_key[starts[sigs][:, None] + np.arange(int(n))[None, :]]  # sigs x n
        chosen = matrix[:, combo]  # sigs x C x r
        sig_parts.append(np.repeat(sigs, combo.shape[0]))
        for j in range(r):
            col_parts[j].append(chosen[:, :, j].reshape(-1))
    if not sig_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    sig = np.concatenate(sig_parts)
    cols = [p_class[sig], *(np.concatenate(c) for c in col_parts)]
    return _encode(cols, [n_classes, *([n_items] * r)]), sig


def _with_presence(table: PersonTable, trajectory: IntArray, relational: BoolArray) -> IntArray:
    """Classes of equal trajectory AND equal set of other tables a person has rows in."""
    if TABLE not in table.quasi_identifiers:
        return trajectory
    codes = table.element_codes[table.quasi_identifiers.index(TABLE)]
    items = ~relational[table.elements]
    presence = np.zeros(table.n_signatures, dtype=np.int64)
    np.bitwise_or.at(presence, table.segment()[items], np.left_shift(1, codes[table.elements[items]]))
    n = int(trajectory.max(initial=-1)) + 1
    return _encode([trajectory, presence], [n, int(presence.max(initial=0)) + 1])


FailCheck = Callable[[BoolArray, IntArray], BoolArray]


def km_anonymity(
    table: PersonTable,
    element_key: IntArray,
    relational: BoolArray,
    view: PersonTable,
    k: int,
    m: int,
    extra: FailCheck | None = None,
) -> KmResult:
    """(k, k^m)-anonymity at the node whose generalised element keys are `element_key`.

    `view` is `relational_view(table, relational)`; `extra(kept, relational_class)` returns the
    signatures failing the l/t criteria on the relational classes of the kept persons.
    """
    if m < 0:
        raise IplosError(f"the attacker's number of known items must be >= 0, not {m}")
    n_sig = table.n_signatures
    p_class = _with_presence(table, group_signatures(view, element_key), relational)
    n_classes = int(p_class.max(initial=-1)) + 1
    item_sig, item_key = _item_sets(table, element_key, relational)
    counts = np.bincount(item_sig, minlength=n_sig).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    n_items = int(item_key.max(initial=-1)) + 1
    too_many = (counts > MAX_ITEMS) & (m > 0)
    kept = ~too_many
    weights = table.persons.astype(np.int64)
    levels: list[tuple[IntArray, IntArray]] = []  # (key id, signature) per key size 1..m
    rounds = 0

    def fixed_point() -> None:
        nonlocal kept, rounds
        while True:
            rounds += 1
            w = weights * kept
            fail = np.bincount(p_class, weights=w, minlength=n_classes)[p_class] < k
            for key_id, sig in levels:
                support = np.bincount(key_id, weights=w[sig], minlength=int(key_id.max(initial=-1)) + 1)
                fail[sig[support[key_id] < k]] = True
            if extra is not None:
                fail |= extra(kept & ~fail, p_class)
            now = kept & ~fail
            if np.array_equal(now, kept):
                return
            kept = now

    fixed_point()
    if n_items:
        for r in range(1, m + 1):
            key_id, sig = _keys_of_size(
                r, item_sig, item_key, starts, counts, kept, p_class, n_classes, n_items
            )
            if key_id.size == 0:
                break
            levels.append((key_id, sig))
            fixed_point()
    w = weights * kept
    sizes = np.bincount(p_class, weights=w, minlength=n_classes).astype(np.int64)
    smallest = int(sizes[sizes > 0].min()) if np.any(sizes > 0) else 0
    n_keys = int(np.count_nonzero(sizes))
    worst = np.where(kept, sizes[p_class], 0).astype(np.int64)
    for key_id, sig in levels:
        support = np.bincount(key_id, weights=w[sig], minlength=int(key_id.max(initial=-1)) + 1)
        live = support[key_id[kept[sig]]]
        if live.size:
            smallest = min(smallest, int(live.min())) if smallest else int(live.min())
        n_keys += int(np.count_nonzero(support))
        row_support = support[key_id].astype(np.int64)
        on = kept[sig]
        np.minimum.at(worst, sig[on], row_support[on])
    return KmResult(
        suppressed=~kept,
        relational_class=p_class,
        class_sizes=sizes[sizes > 0],
        smallest_key=smallest,
        keys=n_keys,
        rounds=rounds,
        too_many=int(too_many.sum()),
        worst=worst,
    )
