"""The optimal person-level search over the lattice (one level per quasi-identifier, in every year).

Among all nodes within the level bounds whose classes of persons meet the criteria with at most the
allowed share of persons suppressed (the persons of failing classes are suppressed whole), return the
one with the least information loss; ties go to the lower node (smaller sum of levels), then to the
lexicographically smaller levels, exactly as `iplos.sdc.search` breaks them. The information loss is
`iplos.sdc`'s metric of the records as released (suppressed persons' records count as suppressed).
With `items_known` on a stacked multi-table extract, persons are judged by (k, k^m)-anonymity
(`release._items`) instead of their full signature; it is monotone too, so the same pruning holds.

Pruning, both exact (tests compare with every node evaluated):
- Bounds: a metric's value with nothing suppressed is a lower bound; a node whose bound exceeds the
  best value found is never grouped.
- Monotonicity: coarsening merges signatures, so when every criterion is monotone under suppression
  (k, distinct-l) or nothing may be suppressed, a failing node proves every finer node fails. From
  the most promising open node a chain is built up to the top and binary-searched for its lowest
  satisfying node (Flash, Kohlmayer et al. 2012), so one failure prunes a region below it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from iplos.catalog import Hierarchy
from iplos.errors import IplosError
from iplos.release._items import KmResult, km_anonymity, relational_elements, relational_view
from iplos.release._person import (
    PersonClasses,
    PersonTable,
    element_keys,
    passing_classes,
    person_classes,
)
from iplos.release._rollup import RollUps
from iplos.sdc import (
    TIE_TOLERANCE,
    Criterion,
    EncodedHierarchy,
    FrequencyTable,
    KAnonymity,
    Metric,
    NodeMeasure,
    better_node,
    encode_hierarchy,
    level_bounds,
    node_key,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
MAX_NODES = 200_000


@dataclass(frozen=True)
class PersonNode:
    """One evaluated node: levels, whether it satisfies, what it suppresses, its metrics."""

    levels: tuple[int, ...]
    satisfies: bool
    suppressed_persons: int
    suppressed_records: int
    classes: int
    metrics: dict[str, float]
    smallest_class: int = 0  # persons in the smallest released class (0: nothing released)

    @property
    def highest_risk(self) -> float:
        """The prosecutor's highest re-identification risk at this node: 1 / smallest class."""
        return 1.0 / self.smallest_class if self.smallest_class else 0.0


@dataclass(frozen=True, eq=False)
class PersonSearchResult:
    """The chosen node with its suppression, the released class sizes (persons) and what was seen."""

    quasi_identifiers: tuple[str, ...]
    levels: tuple[int, ...]
    level_names: tuple[str, ...]
    n_persons: int
    n_records: int
    suppressed_persons: int
    suppressed_records: int
    suppressed_signatures: BoolArray  # over the input table's signatures
    released_class_sizes: IntArray
    utility: str
    metrics: dict[str, float]
    metrics_before: dict[str, float]
    satisfying: tuple[PersonNode, ...]
    lattice_size: int
    evaluated: int
    seconds: float

    @property
    def levels_by_name(self) -> dict[str, int]:
        return dict(zip(self.quasi_identifiers, self.levels, strict=True))


def check_pairs(
    criteria: Sequence[Criterion], sensitive: Sequence[str]
) -> list[tuple[Criterion, str | None]]:
    """Each criterion with the sensitive column it judges (k: none)."""
    out: list[tuple[Criterion, str | None]] = []
    for criterion in criteria:
        attrs = criterion.attributes
        if attrs == ():
            out.append((criterion, None))
            continue
        for attr in tuple(sensitive) if attrs is None else attrs:
            if attr not in sensitive:
                raise IplosError(f"{criterion.describe()}: {attr!r} is not a sensitive column of the extract")
            out.append((criterion, attr))
    return out


class PersonEvaluator:
    """Evaluates nodes of one person table against fixed criteria and a suppression budget.

    With `items_known` = m (not None) and a stacked multi-table extract (`release._items.TABLE`
    among the quasi-identifiers), persons are judged by (k, k^m)-anonymity (`release._items`): the
    person-year trajectory fully known, any m of the other tables' rows; the l and t criteria then
    judge the classes of equal trajectory. Otherwise by their full signature (`release._person`).
    """

    def __init__(
        self,
        table: PersonTable,
        hierarchies: Mapping[str, Hierarchy],
        criteria: Sequence[Criterion],
        max_suppressed: float,
        items_known: int | None = None,
    ) -> None:
        if not 0 <= max_suppressed <= 1:
            raise IplosError(f"the suppression budget is a share in [0, 1], not {max_suppressed}")
        missing = [q for q in table.quasi_identifiers if q not in hierarchies]
        if missing:
            raise IplosError(f"no hierarchy for quasi-identifier(s) {', '.join(missing)}")
        self.table = table
        self.hierarchies = {q: hierarchies[q] for q in table.quasi_identifiers}
        self.encoded: tuple[EncodedHierarchy, ...] = tuple(
            encode_hierarchy(hierarchies[q]) for q in table.quasi_identifiers
        )
        self.checks = check_pairs(criteria, table.sensitive)
        self.max_out = math.floor(max_suppressed * table.n_persons + 1e-9)
        relational = relational_elements(table, dict(hierarchies)) if items_known is not None else None
        self.items_known = items_known if relational is not None else None
        self.relational = relational
        self.view = relational_view(table, relational) if relational is not None else table
        judged = self.view
        self.distributions = tuple(
            np.bincount(codes, weights=judged.detail_count, minlength=len(labels)) / max(judged.n_records, 1)
            for codes, labels in zip(judged.detail_sensitive, judged.sensitive_labels, strict=True)
        )
        self.k = max((c.k for c, _ in self.checks if isinstance(c, KAnonymity)), default=1)
        n_elements = table.element_codes[0].shape[0] if table.element_codes else 0
        self.records_per_element = np.bincount(
            table.detail_element, weights=table.detail_count, minlength=n_elements
        ).astype(np.int64)
        self.measure = NodeMeasure(
            FrequencyTable(table.quasi_identifiers, table.element_codes, self.records_per_element),
            [hierarchies[q] for q in table.quasi_identifiers],
        )
        self.evaluations = 0
        # Criteria on persons alone (k) are judged on rolled-up signatures (see `_rollup`).
        on_persons = bool(self.checks) and all(isinstance(c, KAnonymity) for c, _ in self.checks)
        self.rollups = RollUps(table, self.encoded) if on_persons and self.items_known is None else None
        self._km: tuple[tuple[int, ...], KmResult] | None = None

    @property
    def by_items(self) -> bool:
        """Whether persons are judged by (k, k^m)-anonymity rather than by their full signature."""
        return self.items_known is not None

    def classes(self, levels: Sequence[int]) -> PersonClasses:
        """The classes at `levels`: full signatures, or equal trajectories under (k, k^m)."""
        return person_classes(self.view, self.encoded, levels, self.distributions)

    def km(self, levels: Sequence[int]) -> KmResult:
        """(k, k^m)-anonymity at `levels` (the last node's result is kept)."""
        node = tuple(int(v) for v in levels)
        if self._km is not None and self._km[0] == node:
            return self._km[1]
        assert self.relational is not None and self.items_known is not None
        ek = element_keys(self.table, self.encoded, node)
        others = [(c, a) for c, a in self.checks if not isinstance(c, KAnonymity)]

        def diversity(kept: BoolArray, p_class: IntArray) -> BoolArray:
            view = self.view
            persons = view.persons * kept
            rows = kept[view.detail_signature]
            sub = replace(
                view,
                persons=persons,
                detail_signature=view.detail_signature[rows],
                detail_element=view.detail_element[rows],
                detail_count=view.detail_count[rows],
                detail_sensitive=tuple(s[rows] for s in view.detail_sensitive),
            )
            n = int(p_class.max(initial=-1)) + 1
            sizes = np.bincount(p_class, weights=persons, minlength=n).astype(np.int64)
            classes = PersonClasses(node, p_class, sizes, ek, sub, self.distributions)
            return np.asarray(~passing_classes(classes, others)[p_class], dtype=np.bool_)

        result = km_anonymity(
            self.table,
            ek,
            self.relational,
            self.view,
            self.k,
            self.items_known,
            diversity if others else None,
        )
        self._km = (node, result)
        return result

    def key_support(self, levels: Sequence[int]) -> IntArray | None:
        """Under (k, k^m): each released person's fewest persons holding one of their keys (what
        the attacker's best choice of m rows narrows them to); None when judged by full signature."""
        if not self.by_items:
            return None
        km = self.km(levels)
        kept = ~km.suppressed
        return np.repeat(km.worst[kept], self.table.persons[kept])

    def released_class_sizes(self, levels: Sequence[int]) -> IntArray:
        """Persons per released class at `levels` (classes of equal trajectory under (k, k^m))."""
        if self.by_items:
            return self.km(levels).class_sizes
        classes = self.classes(levels)
        return classes.sizes[passing_classes(classes, self.checks)]

    def evaluate(self, levels: Sequence[int], with_metrics: bool = True) -> tuple[PersonNode, BoolArray]:
        """A node's outcome and which input signatures it suppresses."""
        self.evaluations += 1
        smallest: int | None = None
        if self.by_items:
            km = self.km(levels)
            out_sig = km.suppressed
            sizes = km.class_sizes
            passing = np.ones(sizes.shape[0], dtype=np.bool_)
            smallest = km.smallest_key
        elif self.rollups is not None:
            of_signature, sizes = self.rollups.classes(levels)
            passing = sizes >= max(c.k for c, _ in self.checks if isinstance(c, KAnonymity))
        else:
            classes = self.classes(levels)
            of_signature, sizes = classes.of_signature, classes.sizes
            passing = passing_classes(classes, self.checks)
        if not self.by_items:
            out_sig = ~passing[of_signature]
        suppressed_persons = int(self.table.persons[out_sig].sum())
        satisfies = suppressed_persons <= self.max_out
        supp_detail = out_sig[self.table.detail_signature]
        per_element = np.bincount(
            self.table.detail_element[supp_detail],
            weights=self.table.detail_count[supp_detail],
            minlength=self.records_per_element.shape[0],
        ).astype(np.int64)
        metrics = self.measure.metrics(levels, per_element) if satisfies and with_metrics else {}
        kept = sizes[passing]
        node = PersonNode(
            levels=tuple(int(v) for v in levels),
            satisfies=satisfies,
            suppressed_persons=suppressed_persons,
            suppressed_records=int(per_element.sum()),
            classes=int(sizes.shape[0]),
            metrics=metrics,
            smallest_class=smallest if smallest is not None else (int(kept.min()) if kept.size else 0),
        )
        return node, out_sig


def person_search(
    table: PersonTable,
    hierarchies: Mapping[str, Hierarchy],
    criteria: Sequence[Criterion],
    *,
    max_suppressed: float,
    metric: Metric,
    min_levels: Mapping[str, int] | None = None,
    max_levels: Mapping[str, int] | None = None,
    list_all: bool = False,
    items_known: int | None = None,
) -> PersonSearchResult:
    """The least-loss node whose person classes meet the criteria (see module doc).

    `items_known` = m judges persons by (k, k^m)-anonymity on a stacked multi-table extract
    (`release._items`); None by their full signature.
    """
    started = time.perf_counter()
    qis = table.quasi_identifiers
    if not qis:
        raise IplosError("the search needs at least one quasi-identifier")
    if not criteria:
        raise IplosError("at least one privacy criterion is needed")
    evaluator = PersonEvaluator(table, hierarchies, criteria, max_suppressed, items_known)
    lo, hi = level_bounds(qis, [hierarchies[q].height for q in qis], min_levels or {}, max_levels or {})
    widths = [b - a + 1 for a, b in zip(lo, hi, strict=True)]
    size = int(np.prod(widths, dtype=np.float64))
    if size > MAX_NODES:
        raise IplosError(f"the lattice has {size} nodes, more than {MAX_NODES}; bound the levels")
    nodes = (np.indices(widths).reshape(len(widths), -1).T + np.asarray(lo)).astype(np.int64)
    strides = np.ones(len(widths), dtype=np.int64)
    for i in range(len(widths) - 2, -1, -1):
        strides[i] = strides[i + 1] * widths[i + 1]
    bounds = np.array([evaluator.measure.lower_bound(metric, tuple(n)) for n in nodes])
    monotone = evaluator.max_out == 0 or all(c.monotone_with_suppression for c, _ in evaluator.checks)
    failed = np.zeros(size, dtype=np.bool_)
    done = np.zeros(size, dtype=np.bool_)
    results: dict[int, PersonNode] = {}
    best: int | None = None
    best_key: tuple[float, int, tuple[int, ...]] | None = None

    def visit(i: int) -> bool:
        nonlocal best, best_key
        node, _ = evaluator.evaluate(tuple(nodes[i]))
        done[i] = True
        results[i] = node
        if not node.satisfies:
            failed[i] = True
            if monotone:
                failed[np.all(nodes <= nodes[i], axis=1)] = True
            return False
        key = node_key(node.metrics[metric.name], node.levels)
        if better_node(key, best_key):
            best, best_key = i, key
        return True

    def open_nodes() -> BoolArray:
        mask = ~failed & ~done
        if best_key is not None and not list_all:
            mask &= bounds <= best_key[0] + TIE_TOLERANCE * max(abs(best_key[0]), 1.0)
        return mask

    top = size - 1
    if monotone and not visit(top):
        raise _impossible(qis, criteria, evaluator.max_out)
    while True:
        candidates = np.flatnonzero(open_nodes())
        if candidates.size == 0:
            break
        order = np.lexsort((nodes[candidates].sum(axis=1), bounds[candidates]))
        start = int(candidates[order[0]])
        if not monotone:
            visit(start)
            continue
        chain = _chain(nodes, strides, start, np.asarray(hi), bounds)
        low, high = 0, len(chain) - 1  # chain[high] is the top, known to satisfy
        while low < high:
            mid = (low + high) // 2
            node_index = chain[mid]
            ok = (not failed[node_index]) and (
                results[node_index].satisfies if done[node_index] else visit(node_index)
            )
            if ok:
                high = mid
            else:
                low = mid + 1
    if best is None:
        raise _impossible(qis, criteria, evaluator.max_out)
    chosen = tuple(int(v) for v in nodes[best])
    node, out_sig = evaluator.evaluate(chosen)
    return PersonSearchResult(
        quasi_identifiers=qis,
        levels=chosen,
        level_names=tuple(hierarchies[q].level_names[v] for q, v in zip(qis, chosen, strict=True)),
        n_persons=table.n_persons,
        n_records=table.n_records,
        suppressed_persons=node.suppressed_persons,
        suppressed_records=node.suppressed_records,
        suppressed_signatures=out_sig,
        released_class_sizes=evaluator.released_class_sizes(chosen),
        utility=metric.name,
        metrics=node.metrics,
        metrics_before=evaluator.measure.metrics((0,) * len(qis)),
        satisfying=tuple(results[i] for i in sorted(results) if results[i].satisfies),
        lattice_size=size,
        evaluated=evaluator.evaluations,
        seconds=time.perf_counter() - started,
    )


def _chain(
    nodes: IntArray, strides: IntArray, start: int, hi: IntArray, bounds: npt.NDArray[np.float64]
) -> list[int]:
    """A path from `start` up to the top, each step raising the attribute with the lowest bound."""
    chain = [start]
    current = nodes[start].copy()
    index = start
    while np.any(current < hi):
        best_step, best_bound = -1, np.inf
        for j in np.flatnonzero(current < hi):
            nxt = index + int(strides[j])
            if bounds[nxt] < best_bound:
                best_step, best_bound = int(j), float(bounds[nxt])
        current[best_step] += 1
        index += int(strides[best_step])
        chain.append(index)
    return chain


def _impossible(qis: Sequence[str], criteria: Sequence[Criterion], max_out: int) -> IplosError:
    described = ", ".join(c.describe() for c in criteria)
    return IplosError(
        f"no transformation of {', '.join(qis)} within the level bounds meets {described} for persons "
        f"with at most {max_out} persons suppressed; allow more suppression, coarser levels or weaker criteria"
    )
