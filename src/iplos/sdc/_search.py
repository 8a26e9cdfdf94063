"""The optimal search over the generalization lattice.

Among all nodes within the level bounds that satisfy the criteria with at most the allowed share
of records suppressed (records of failing classes are suppressed, as in ARX), return the one with
the least information loss; ties go to the lower node (smaller sum of levels), then to the
lexicographically smaller levels. The answer equals evaluating every node (tests check this).

Pruning, both exact:
- Bounds: every metric has a lower bound that needs no grouping (its value with nothing
  suppressed); a node whose bound exceeds the best value found cannot win and is never grouped.
- Monotonicity: when every criterion is monotone under generalization with suppression (k-anonymity,
  distinct-l-diversity; any criterion when nothing may be suppressed), a failing node proves every
  finer node fails. Candidates are resolved Flash-style (Kohlmayer et al., 2012): from the most
  promising candidate, a chain is built up to the top of the lattice and binary-searched for its
  lowest satisfying node, so one failure prunes a whole region below it.

Deliberate differences from ARX 3.9 (none changes which node is optimal except in exact ties):
- ties in the metric go to the lower node, then the lexicographically smaller levels (ARX keeps
  the first optimum its traversal meets);
- metric values are not rounded (ARX rounds each attribute's value before aggregating);
- the suppression limit is floor(share * n) records, as ARX's outlier count, with 1e-9 slack so
  that 0.05 * 100 is 5 despite binary floating point.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc._criteria import Criterion
from iplos.sdc._encoding import EncodedHierarchy, encode_hierarchy, resolve_hierarchies
from iplos.sdc._evaluate import NodeEvaluator, NodeResult
from iplos.sdc._frequency import FrequencyTable
from iplos.sdc._lattice import Lattice
from iplos.sdc._metrics import Loss, Metric
from iplos.sdc._rollup import rows_in_classes

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class SearchConfig:
    """What a release must meet and how to judge the candidates.

    `max_suppressed` is a share of records in [0, 1]; `min_levels`/`max_levels` bound each
    quasi-identifier's level by name (e.g. kommune at most fylke).
    """

    criteria: Sequence[Criterion]
    max_suppressed: float = 0.0
    utility: Metric = field(default_factory=Loss)
    min_levels: Mapping[str, int] = field(default_factory=dict)
    max_levels: Mapping[str, int] = field(default_factory=dict)
    list_all: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        if not self.criteria:
            raise IplosError("at least one privacy criterion is needed")


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The chosen transformation, its suppression and metrics, and the satisfying nodes seen.

    `satisfying` lists every satisfying node the search evaluated; with `SearchConfig(list_all=True)`
    it lists every satisfying node of the lattice. `released_class_sizes` are the sizes of the
    classes left after suppression. `suppressed_rows` marks the rows of the input
    frequency table whose records are suppressed; `suppressed_classes` gives the suppressed classes
    as codes per quasi-identifier at the chosen levels.
    """

    quasi_identifiers: tuple[str, ...]
    levels: tuple[int, ...]
    level_names: tuple[str, ...]
    n_records: int
    suppressed: int
    suppressed_classes: tuple[IntArray, ...]
    released_class_sizes: IntArray
    classes: int
    utility: str
    metrics: dict[str, float]
    metrics_before: dict[str, float]
    satisfying: tuple[NodeResult, ...]
    lattice_size: int
    evaluated: int
    complete: bool
    seconds: float
    _suppressed_rows: Callable[[], BoolArray] = field(repr=False)

    @cached_property
    def suppressed_rows(self) -> BoolArray:
        """Which rows of the input frequency table are suppressed (computed on first use)."""
        return self._suppressed_rows()

    @property
    def levels_by_name(self) -> dict[str, int]:
        return dict(zip(self.quasi_identifiers, self.levels, strict=True))


def level_bounds(
    quasi_identifiers: Sequence[str],
    heights: Sequence[int],
    min_levels: Mapping[str, int],
    max_levels: Mapping[str, int],
) -> tuple[list[int], list[int]]:
    """Per quasi-identifier, the finest and coarsest level a search may choose (checked).

    `heights` are the hierarchies' heights in the order of `quasi_identifiers`; the record-level and
    the person-level search share this one reading of min/max levels.
    """
    for name in (*min_levels, *max_levels):
        if name not in quasi_identifiers:
            raise IplosError(f"level bound for {name!r}, which is not a quasi-identifier")
    lo, hi = [], []
    for q, height in zip(quasi_identifiers, heights, strict=True):
        a = int(min_levels.get(q, 0))
        b = int(max_levels.get(q, height - 1))
        if not 0 <= a <= b <= height - 1:
            raise IplosError(
                f"level bounds for {q!r} must satisfy 0 <= min <= max <= {height - 1}, not min {a}, max {b}"
            )
        lo.append(a)
        hi.append(b)
    return lo, hi


def _bounds(
    qis: Sequence[str], encoded: Sequence[EncodedHierarchy], config: SearchConfig
) -> tuple[list[int], list[int]]:
    return level_bounds(qis, [h.height for h in encoded], config.min_levels, config.max_levels)


def node_key(value: float, node: Sequence[int]) -> tuple[float, int, tuple[int, ...]]:
    """A node's place in the order of preference: its metric, then the lower node, then its levels."""
    return (value, int(sum(node)), tuple(int(v) for v in node))


def better_node(a: tuple[float, int, tuple[int, ...]], b: tuple[float, int, tuple[int, ...]] | None) -> bool:
    """Whether key `a` beats `b`: metrics within TIE_TOLERANCE (relative) are a tie, won by the lower node."""
    if b is None:
        return True
    scale = max(abs(a[0]), abs(b[0]), 1.0)
    if abs(a[0] - b[0]) > TIE_TOLERANCE * scale:
        return a[0] < b[0]
    return a[1:] < b[1:]


def search(
    freq: FrequencyTable,
    hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy],
    config: SearchConfig,
) -> SearchResult:
    """Find the satisfying transformation with the least information loss (see module doc).

    Raises IplosError when no node within the bounds satisfies the criteria.
    """
    started = time.perf_counter()
    if not freq.quasi_identifiers:
        raise IplosError("the search needs at least one quasi-identifier")
    encoded = [encode_hierarchy(h) for h in resolve_hierarchies(freq.quasi_identifiers, hierarchies)]
    for q, h, codes in zip(freq.quasi_identifiers, encoded, freq.codes, strict=True):
        if codes.size and (int(codes.min()) < 0 or int(codes.max()) >= h.domain_size):
            raise IplosError(f"column {q!r}: codes outside its hierarchy {h.name!r}")
    lo, hi = _bounds(freq.quasi_identifiers, encoded, config)
    lattice = Lattice(lo, hi)
    evaluator = NodeEvaluator(freq, encoded, config.criteria, config.max_suppressed)
    metric = config.utility
    bounds = np.array([metric.lower_bound(evaluator.context, lattice.levels(i)) for i in range(len(lattice))])
    monotone = evaluator.max_out == 0 or all(c.monotone_with_suppression for c, _ in evaluator.checks)

    failed = np.zeros(len(lattice), dtype=np.bool_)
    done = np.zeros(len(lattice), dtype=np.bool_)
    results: dict[int, NodeResult] = {}
    best: int | None = None
    best_key: tuple[float, int, tuple[int, ...]] | None = None

    def visit(i: int) -> bool:
        nonlocal best, best_key
        result, _, _ = evaluator.evaluate(lattice.levels(i))
        done[i] = True
        results[i] = result
        if not result.satisfies:
            failed[i] = True
            if monotone:
                failed[lattice.finer_or_equal(i)] = True
            return False
        key = node_key(result.metrics[metric.name], result.levels)
        if better_node(key, best_key):
            best, best_key = i, key
        return True

    def open_nodes() -> BoolArray:
        mask = ~failed & ~done
        if best_key is not None:
            mask &= bounds <= best_key[0] + TIE_TOLERANCE * max(abs(best_key[0]), 1.0)
        return mask

    top = len(lattice) - 1
    if monotone and not visit(top):
        raise _impossible(freq.quasi_identifiers, config, evaluator.max_out)
    while True:
        candidates = np.flatnonzero(open_nodes())
        if candidates.size == 0:
            break
        open_mask = ~failed & ~done
        evaluator.prepare(lattice.nodes[open_mask].min(axis=0))
        order = np.lexsort((lattice.heights[candidates], bounds[candidates]))
        start = int(candidates[order[0]])
        if not monotone:
            visit(start)
            continue
        chain = _chain(lattice, start, bounds)
        low, high = 0, len(chain) - 1  # chain[high] is the top, known to satisfy
        while low < high:
            mid = (low + high) // 2
            node = chain[mid]
            ok = (not failed[node]) and (results[node].satisfies if done[node] else visit(node))
            if ok:
                high = mid
            else:
                low = mid + 1
    if best is None:
        raise _impossible(freq.quasi_identifiers, config, evaluator.max_out)
    complete = False
    if config.list_all:
        for i in np.flatnonzero(~failed & ~done):
            visit(int(i))
        complete = True

    chosen = lattice.levels(best)
    result = results[best]
    classes = evaluator.group(chosen)  # the same classes whichever source they roll up from
    passing = evaluator.passing(classes)
    failing_keys = classes.keys[~passing]
    satisfying = tuple(results[i] for i in sorted(results) if results[i].satisfies)
    return SearchResult(
        quasi_identifiers=freq.quasi_identifiers,
        levels=chosen,
        level_names=tuple(h.level_names[level] for h, level in zip(encoded, chosen, strict=True)),
        n_records=freq.n_records,
        suppressed=result.suppressed,
        suppressed_classes=tuple(classes.decode(~passing)),
        released_class_sizes=classes.sizes[passing],
        classes=result.classes,
        utility=metric.name,
        metrics=result.metrics,
        metrics_before=evaluator.original_metrics(),
        satisfying=satisfying,
        lattice_size=len(lattice),
        evaluated=evaluator.evaluations,
        complete=complete,
        seconds=time.perf_counter() - started,
        # Rows are looked up only when asked for: the command line, which does not ask, saves a
        # pass over the (national-scale) input table.
        _suppressed_rows=lambda: rows_in_classes(freq.codes, chosen, encoded, failing_keys),
    )


def _chain(lattice: Lattice, start: int, bounds: npt.NDArray[np.float64]) -> list[int]:
    """A path from `start` up to the top, each step raising the attribute with the lowest bound."""
    nodes = lattice.nodes
    lo, hi = lattice.min_levels, lattice.max_levels
    widths = hi - lo + 1
    strides = np.ones(len(widths), dtype=np.int64)
    for i in range(len(widths) - 2, -1, -1):
        strides[i] = strides[i + 1] * widths[i + 1]
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


def _impossible(qis: Sequence[str], config: SearchConfig, max_out: int) -> IplosError:
    criteria = ", ".join(c.describe() for c in config.criteria)
    return IplosError(
        f"no transformation of {', '.join(qis)} within the level bounds meets {criteria} "
        f"with at most {max_out} suppressed records; allow more suppression, coarser levels or weaker criteria"
    )
