"""Privacy criteria as small value objects: each answers "which equivalence classes pass?".

The search never asks which criterion it holds (STYLE.md §2, after ARX): a criterion looks at a
`ClassView` (class sizes and, for the sensitive attribute it names, the value counts in each class)
and returns a pass mask. Classes that fail any criterion are suppressed when their records fit in
the suppression limit (ARX semantics). `monotone_with_suppression` says whether a coarser
transformation of a passing one is certain to pass when failing classes are suppressed; criteria
that are only monotone without suppression are pruned on only when no suppression is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError, Problem

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Relative slack for comparisons of computed entropies and distances with their thresholds, so that
# a class exactly at the threshold (e.g. two values of equal count for entropy-2-diversity) passes.
TOLERANCE = 1e-9


class ClassView(Protocol):
    """What a criterion may ask about the equivalence classes of one transformation."""

    @property
    def sizes(self) -> IntArray:
        """Records per class."""
        ...

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        """(class index, value code, count) for every value present in a class, sorted by class."""
        ...

    def distribution(self, attribute: str) -> FloatArray:
        """Share of each value code of `attribute` in the whole input (t-closeness's reference)."""
        ...

    def labels(self, attribute: str) -> tuple[str, ...]:
        """The value of each value code of `attribute` (hierarchical t-closeness maps them to leaves)."""
        ...


class Criterion(Protocol):
    """A privacy model evaluated per equivalence class."""

    monotone_with_suppression: ClassVar[bool]

    @property
    def attributes(self) -> tuple[str, ...] | None:
        """Sensitive attributes it concerns (None: all of the table's sensitive attributes)."""
        ...

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        """Which classes pass, judged on `attribute` (None for criteria without one)."""
        ...

    def describe(self) -> str:
        """A short human label, e.g. 'k-anonymity (k=5)'."""
        ...


@dataclass(frozen=True)
class KAnonymity:
    """Every class holds at least `k` records (Sweeney, "k-anonymity: a model for protecting privacy", 2002)."""

    k: int
    monotone_with_suppression: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.k < 1:
            raise IplosError(f"k must be at least 1, not {self.k}")

    @property
    def attributes(self) -> tuple[str, ...] | None:
        return ()

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        return view.sizes >= self.k

    def describe(self) -> str:
        return f"k-anonymity (k={self.k})"


@dataclass(frozen=True)
class DistinctLDiversity:
    """At least `l` distinct sensitive values per class (Machanavajjhala et al., "l-diversity", 2007)."""

    l: int  # noqa: E741  (the paper's name)
    attribute: str | None = None
    monotone_with_suppression: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.l < 1:
            raise IplosError(f"l must be at least 1, not {self.l}")

    @property
    def attributes(self) -> tuple[str, ...] | None:
        return None if self.attribute is None else (self.attribute,)

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        cls, _, _ = view.histogram(_need(attribute))
        return np.bincount(cls, minlength=view.sizes.shape[0]) >= self.l

    def describe(self) -> str:
        return f"distinct-l-diversity (l={self.l}{_on(self.attribute)})"


@dataclass(frozen=True)
class EntropyLDiversity:
    """The entropy of the sensitive values in each class is at least log(l) (Machanavajjhala et al., 2007)."""

    l: float  # noqa: E741
    attribute: str | None = None
    monotone_with_suppression: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.l < 1:
            raise IplosError(f"l must be at least 1, not {self.l}")

    @property
    def attributes(self) -> tuple[str, ...] | None:
        return None if self.attribute is None else (self.attribute,)

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        cls, _, cnt = view.histogram(_need(attribute))
        sizes = view.sizes
        p = cnt / sizes[cls]
        entropy = -np.bincount(cls, weights=p * np.log(p), minlength=sizes.shape[0])
        threshold = math.log(self.l)
        return entropy >= threshold - TOLERANCE * max(1.0, threshold)

    def describe(self) -> str:
        return f"entropy-l-diversity (l={self.l:g}{_on(self.attribute)})"


@dataclass(frozen=True)
class RecursiveCLDiversity:
    """Recursive (c,l)-diversity: r1 < c (r_l + ... + r_m) for the sorted value counts r of each class.

    Machanavajjhala et al., "l-diversity: privacy beyond k-anonymity", ACM TKDD 2007, definition 4.
    """

    c: float
    l: int  # noqa: E741
    attribute: str | None = None
    monotone_with_suppression: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.l < 1 or self.c <= 0:
            raise IplosError(f"recursive (c,l)-diversity needs c > 0 and l >= 1, not c={self.c}, l={self.l}")

    @property
    def attributes(self) -> tuple[str, ...] | None:
        return None if self.attribute is None else (self.attribute,)

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        cls, _, cnt = view.histogram(_need(attribute))
        n_classes = view.sizes.shape[0]
        order = np.lexsort((-cnt, cls))
        cls_sorted, cnt_sorted = cls[order], cnt[order]
        starts = np.searchsorted(cls_sorted, np.arange(n_classes))
        rank = np.arange(cls_sorted.shape[0]) - starts[cls_sorted]
        top = np.zeros(n_classes, dtype=np.int64)
        top[cls_sorted[rank == 0]] = cnt_sorted[rank == 0]
        tail_mask = rank >= self.l - 1
        tail = np.bincount(cls_sorted[tail_mask], weights=cnt_sorted[tail_mask], minlength=n_classes)
        return np.asarray(top < self.c * tail, dtype=np.bool_)

    def describe(self) -> str:
        return f"recursive-(c,l)-diversity (c={self.c:g}, l={self.l}{_on(self.attribute)})"


@dataclass(frozen=True)
class _TCloseness:
    """t-closeness: each class's distribution of a sensitive value lies within t of the whole input's.

    The two variants differ only in the ground distance of the earth mover's distance.
    """

    t: float
    attribute: str | None = None
    monotone_with_suppression: ClassVar[bool] = False
    _kind: ClassVar[str]

    def __post_init__(self) -> None:
        if not 0 <= self.t <= 1:
            raise IplosError(f"t must lie in [0, 1], not {self.t}")

    @property
    def attributes(self) -> tuple[str, ...] | None:
        return None if self.attribute is None else (self.attribute,)

    def distance(self, view: ClassView, attribute: str) -> FloatArray:
        raise NotImplementedError

    def passing(self, view: ClassView, attribute: str | None) -> BoolArray:
        return self.distance(view, _need(attribute)) <= self.t + TOLERANCE

    def describe(self) -> str:
        return f"{self._kind} t-closeness (t={self.t:g}{_on(self.attribute)})"


@dataclass(frozen=True)
class EqualTCloseness(_TCloseness):
    """Earth mover's distance with equal ground distance <= t (Li, Li & Venkatasubramanian, ICDE 2007).

    With equal distance the EMD is half the L1 distance between the class's value shares and the
    shares in the whole input.
    """

    _kind: ClassVar[str] = "equal-distance"

    def distance(self, view: ClassView, attribute: str) -> FloatArray:
        return equal_distance(view, attribute)


@dataclass(frozen=True)
class OrderedTCloseness(_TCloseness):
    """Earth mover's distance with ordered ground distance <= t (Li, Li & Venkatasubramanian, 2007).

    For values v_1 < ... < v_m: EMD = 1/(m-1) * sum_i |sum_{j<=i} (p_j - q_j)|; the order is the
    sensitive labels' numeric order (text order when not all are numbers).
    """

    _kind: ClassVar[str] = "ordered-distance"

    def distance(self, view: ClassView, attribute: str) -> FloatArray:
        return ordered_distance(view, attribute)


@dataclass(frozen=True)
class HierarchicalTCloseness(_TCloseness):
    """Earth mover's distance with hierarchical ground distance <= t (Li, Li & Venkatasubramanian, 2007).

    Two values lie level(lowest common ancestor) / H apart in the sensitive attribute's `hierarchy`
    of height H (its number of levels above the leaves), as ARX's `HierarchicalDistanceTCloseness`.
    A hierarchy whose top level holds several values gets one root above it (H one higher).
    Every value of the attribute must be a leaf of the hierarchy.
    """

    hierarchy: Hierarchy = field(kw_only=True)
    _kind: ClassVar[str] = "hierarchical-distance"

    def distance(self, view: ClassView, attribute: str) -> FloatArray:
        return hierarchical_distance(view, attribute, self.hierarchy)


def hierarchical_distance(view: ClassView, attribute: str, hierarchy: Hierarchy) -> FloatArray:
    """Hierarchical-distance EMD of each class.

    Li et al.'s algorithm sums, over the inner nodes N at level l, l/H * min(pos(N), neg(N)), the
    positive and negative surplus p - q of N's children. Since min(pos, neg) = (sum over children
    of |extra| - |extra(N)|) / 2, the sum telescopes to 1/(2H) * sum_{l < H} A_l, A_l the L1
    distance between the class's and the input's shares of the level-l values. Each A_l is
    computed from the values present in the class (an absent node contributes its share q).
    """
    from iplos.sdc._encoding import encode_hierarchy  # the encoding module imports no criteria

    encoded = encode_hierarchy(hierarchy)
    labels = view.labels(attribute)
    leaf = np.empty(len(labels), dtype=np.int64)
    unknown = []
    for i, label in enumerate(labels):
        index = hierarchy.leaf_index(label)
        leaf[i] = -1 if index is None else index
        if index is None:
            unknown.append(label)
    if unknown:
        raise IplosError(
            f"hierarchical t-closeness on {attribute!r}: {len(unknown)} value(s) not in hierarchy "
            f"{hierarchy.name!r}",
            [Problem("value not in the hierarchy", column=attribute, value=v) for v in unknown[:10]],
        )
    cls, val, cnt = view.histogram(attribute)
    q = view.distribution(attribute)
    sizes = view.sizes
    n_classes = sizes.shape[0]
    top = encoded.height - 1
    height = top if encoded.cardinality(top) == 1 else top + 1
    total = np.zeros(n_classes, dtype=np.float64)
    if height == 0:
        return total
    p = cnt / sizes[cls]
    for level in range(height):
        node_of_value = encoded.leaf_codes[level][leaf]
        card = encoded.cardinality(level)
        q_node = np.bincount(node_of_value, weights=q, minlength=card)
        key = cls * card + node_of_value[val]
        uniq, inverse = np.unique(key, return_inverse=True)
        p_node = np.bincount(inverse.reshape(-1), weights=p, minlength=uniq.shape[0])
        node, owner = uniq % card, uniq // card
        part = np.bincount(owner, weights=np.abs(p_node - q_node[node]) - q_node[node], minlength=n_classes)
        total += part + 1.0
    return np.asarray(np.maximum(total / (2.0 * height), 0.0), dtype=np.float64)


def equal_distance(view: ClassView, attribute: str) -> FloatArray:
    """Equal-distance EMD of each class: 0.5 * sum over all values of |p - q|."""
    cls, val, cnt = view.histogram(attribute)
    q = view.distribution(attribute)
    p = cnt / view.sizes[cls]
    # Values absent from a class contribute q each: sum_present(|p - q| - q) + 1 covers them.
    part = np.bincount(cls, weights=np.abs(p - q[val]) - q[val], minlength=view.sizes.shape[0])
    return np.asarray(np.maximum(0.5 * (part + 1.0), 0.0), dtype=np.float64)


def ordered_distance(view: ClassView, attribute: str) -> FloatArray:
    """Ordered-distance EMD of each class, computed from the values present in it.

    Between two present values the class's cumulative share P is constant, so the sum of
    |P - Q(i)| over that run follows from prefix sums of the (non-decreasing) global cumulative Q.
    """
    cls, val, cnt = view.histogram(attribute)
    q = view.distribution(attribute)
    m = q.shape[0]
    n_classes = view.sizes.shape[0]
    if m <= 1:
        return np.zeros(n_classes)
    big_q = np.cumsum(q)[: m - 1]  # Q(i) for i = 0..m-2 (Q(m-1) = 1 = P(m-1) contributes nothing)
    prefix = np.concatenate(([0.0], np.cumsum(big_q)))
    order = np.lexsort((val, cls))
    cls, val, cnt = cls[order], val[order], cnt[order]
    # Integer running counts per class keep the cumulative shares exact.
    cum_p = _cumsum_by_group(cnt, cls) / view.sizes[cls]
    nxt = np.empty_like(val)
    nxt[:-1] = val[1:]
    last = np.ones(cls.shape[0], dtype=np.bool_)
    last[:-1] = cls[1:] != cls[:-1]
    nxt[last] = m - 1
    a, b = val, np.minimum(nxt, m - 1)
    split = np.clip(np.searchsorted(big_q, cum_p, side="right"), a, b)
    run = (
        cum_p * (split - a) - (prefix[split] - prefix[a]) + (prefix[b] - prefix[split]) - cum_p * (b - split)
    )
    first = np.ones(cls.shape[0], dtype=np.bool_)
    first[1:] = cls[1:] != cls[:-1]
    # Before a class's first value P = 0, so the run contributes sum of Q(i) for i < first value.
    head = prefix[np.minimum(val[first], m - 1)]
    total = np.bincount(cls, weights=run, minlength=n_classes).astype(np.float64)
    total[cls[first]] += head
    return np.asarray(total / (m - 1), dtype=np.float64)


def _cumsum_by_group(values: IntArray, groups: IntArray) -> IntArray:
    """Running sum of `values` restarting at each new group (groups sorted)."""
    total = np.cumsum(values)
    first = np.ones(groups.shape[0], dtype=np.bool_)
    first[1:] = groups[1:] != groups[:-1]
    offsets = np.where(first, total - values, 0)
    return np.asarray(total - np.maximum.accumulate(offsets), dtype=np.int64)


def _need(attribute: str | None) -> str:
    if attribute is None:
        raise IplosError("this criterion needs a sensitive attribute")
    return attribute


def _on(attribute: str | None) -> str:
    return f", on {attribute}" if attribute else ""
