"""A brute-force oracle for the search: every node evaluated from the definitions, row by row.

Deliberately naive and independent of iplos.sdc's machinery: values are generalised as strings
through the hierarchies, classes are Python dicts, criteria and metrics follow the papers' formulas.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from iplos.catalog.hierarchy import Hierarchy
from iplos.sdc import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    HierarchicalTCloseness,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
)


@dataclass(frozen=True)
class OracleNode:
    levels: tuple[int, ...]
    satisfies: bool
    suppressed: int
    metrics: dict[str, float]


def _order(values: Sequence[str]) -> list[str]:
    distinct = sorted(set(values))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct


def class_passes(criterion: object, size: int, values: list[str], overall: Counter[str], n: int) -> bool:
    if isinstance(criterion, KAnonymity):
        return size >= criterion.k
    counts = Counter(values)
    if isinstance(criterion, DistinctLDiversity):
        return len(counts) >= criterion.l
    if isinstance(criterion, EntropyLDiversity):
        h = -sum(c / size * math.log(c / size) for c in counts.values())
        return h >= math.log(criterion.l) - 1e-9
    if isinstance(criterion, RecursiveCLDiversity):
        r = sorted(counts.values(), reverse=True)
        return r[0] < criterion.c * sum(r[criterion.l - 1 :])
    order = _order(list(overall))
    p = [counts.get(v, 0) / size for v in order]
    q = [overall[v] / n for v in order]
    if isinstance(criterion, HierarchicalTCloseness):
        return transport_emd(p, q, hierarchical_ground(criterion.hierarchy, order)) <= criterion.t + 1e-9
    if isinstance(criterion, EqualTCloseness):
        return 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True)) <= criterion.t + 1e-9
    if isinstance(criterion, OrderedTCloseness):
        m = len(order)
        if m == 1:
            return True
        acc, run = 0.0, 0.0
        for a, b in zip(p[:-1], q[:-1], strict=True):
            run += a - b
            acc += abs(run)
        return acc / (m - 1) <= criterion.t + 1e-9
    raise AssertionError(criterion)


def evaluate_all(
    rows: list[tuple[str, ...]],
    sens: list[str] | None,
    hierarchies: Sequence[Hierarchy],
    criteria: Sequence[object],
    max_suppressed: float,
    min_levels: Sequence[int],
    max_levels: Sequence[int],
) -> list[OracleNode]:
    n = len(rows)
    max_out = math.floor(max_suppressed * n + 1e-9)
    overall = Counter(sens) if sens is not None else Counter()
    q = len(hierarchies)
    leaf_freq = [Counter(r[j] for r in rows) for j in range(q)]
    out = []
    for levels in itertools.product(*(range(a, b + 1) for a, b in zip(min_levels, max_levels, strict=True))):
        gen = [tuple(h.generalize(r[j], levels[j]) for j, h in enumerate(hierarchies)) for r in rows]
        classes: dict[tuple[str, ...], list[int]] = {}
        for i, g in enumerate(gen):
            classes.setdefault(g, []).append(i)
        failing = set()
        for key, members in classes.items():
            values = [sens[i] for i in members] if sens is not None else []
            if not all(class_passes(c, len(members), values, overall, n) for c in criteria):
                failing.add(key)
        suppressed_rows = [i for i, g in enumerate(gen) if g in failing]
        s = len(suppressed_rows)
        sat = s <= max_out
        metrics: dict[str, float] = {}
        if sat:
            supp = set(suppressed_rows)
            gen_freq = [Counter(g[j] for g in gen) for j in range(q)]
            # Loss
            vals = []
            for j, h in enumerate(hierarchies):
                d = len(h.rows)
                under = Counter(row[levels[j]] for row in h.rows)
                total = sum(1.0 if i in supp else under[gen[i][j]] / d for i in range(n))
                lo, hi = n / d, n
                vals.append(max(0.0, (total - lo) / (hi - lo)) if hi > lo else 0.0)
            prod = 1.0
            for v in vals:
                prod *= (1 + v) ** (1 / q)
            metrics["loss"] = prod - 1
            # Non-uniform entropy
            ent = 0.0
            for j in range(q):
                for i in range(n):
                    f_leaf = leaf_freq[j][rows[i][j]]
                    f_gen = n if i in supp else gen_freq[j][gen[i][j]]
                    ent += math.log2(f_gen / f_leaf)
            metrics["entropy"] = ent
            kept = [len(m) for key, m in classes.items() if key not in failing]
            metrics["discernibility"] = float(sum(c * c for c in kept) + s * n)
            metrics["aecs"] = n / (len(kept) + (1 if s else 0))
            prec = 0.0
            for j, h in enumerate(hierarchies):
                share = levels[j] / (h.height - 1) if h.height > 1 else 0.0
                prec += sum(1.0 if i in supp else share for i in range(n)) / n
            metrics["precision"] = prec / q
        out.append(OracleNode(tuple(levels), sat, s, metrics))
    return out


def hierarchical_ground(h: Hierarchy, values: Sequence[str]) -> list[list[float]]:
    """level(lowest common ancestor) / H between values (a root above a top level with several values)."""
    top = h.height - 1
    height = top if len({h.generalize(v, top) for v in h.leaves}) == 1 else top + 1
    out = []
    for a in values:
        row = []
        for b in values:
            common = next(
                (lv for lv in range(h.height) if h.generalize(a, lv) == h.generalize(b, lv)), height
            )
            row.append(common / height)
        out.append(row)
    return out


def transport_emd(p: Sequence[float], q: Sequence[float], ground: Sequence[Sequence[float]]) -> float:
    """The earth mover's distance as its transportation problem, solved by linear programming."""
    from scipy.optimize import linprog

    m = len(p)
    a_eq, b_eq = [], []
    for i in range(m):
        a_eq.append([1.0 if r == i else 0.0 for r in range(m) for _ in range(m)])
        b_eq.append(p[i])
    for j in range(m):
        a_eq.append([1.0 if c == j else 0.0 for _ in range(m) for c in range(m)])
        b_eq.append(q[j])
    cost = [ground[i][j] for i in range(m) for j in range(m)]
    result = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None))
    assert result.success
    return float(result.fun)
