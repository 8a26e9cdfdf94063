"""The release gate's independent check: re-measure a released table with plain pandas counting.

Written to be obviously right rather than fast, and sharing no code with the search (DESIGN.md,
"The release gate is independent of the search"): it reads the criteria's parameters only and
applies each definition directly with `groupby`. Rows whose quasi-identifiers are all '*' are
suppressed records and are not judged as a class; any other value, '*' included, is a value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from iplos.errors import IplosError
from iplos.sdc._criteria import (
    Criterion,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    HierarchicalTCloseness,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
)

if TYPE_CHECKING:
    import pandas as pd

SLACK = 1e-9


@dataclass(frozen=True)
class CheckReport:
    """Whether the release meets every criterion, with the measured values and any failures."""

    passed: bool
    records: int
    suppressed_records: int
    classes: int
    smallest_class: int
    measured: dict[str, float] = field(default_factory=dict)
    failures: tuple[str, ...] = ()


def _order(values: Sequence[str]) -> list[str]:
    distinct = sorted(set(values))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct


def check_release(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    criteria: Sequence[Criterion],
    suppressed_marker: str = "*",
) -> CheckReport:
    """Check a released table against the criteria (see module doc)."""
    missing = [c for c in (*quasi_identifiers, *sensitive) if c not in df.columns]
    if missing:
        raise IplosError(f"released table lacks column(s) {', '.join(map(repr, missing))}")
    data = df[list(quasi_identifiers) + list(sensitive)].astype(str)
    suppressed = (data[list(quasi_identifiers)] == suppressed_marker).all(axis=1)
    released = data[~suppressed]
    groups = released.groupby(list(quasi_identifiers), sort=False, dropna=False)
    sizes = groups.size()
    measured: dict[str, float] = {}
    failures: list[str] = []
    for criterion in criteria:
        if isinstance(criterion, KAnonymity):
            k = int(sizes.min()) if len(sizes) else 0
            measured["k"] = k
            if len(sizes) and k < criterion.k:
                failures.append(f"a class has {k} records, fewer than k = {criterion.k}")
            continue
        attrs = list(sensitive) if criterion.attributes is None else list(criterion.attributes or ())
        for attr in attrs:
            if attr not in sensitive:
                raise IplosError(f"{criterion.describe()}: {attr!r} is not a sensitive attribute")
            worst = _worst(criterion, released, groups, attr, data[attr])
            label = f"{type(criterion).__name__}[{attr}]"
            measured[label] = worst[0]
            if not worst[1]:
                failures.append(f"{criterion.describe()} fails on {attr!r} (worst class: {worst[0]:.6g})")
    return CheckReport(
        passed=not failures,
        records=len(df),
        suppressed_records=int(suppressed.sum()),
        classes=len(sizes),
        smallest_class=int(sizes.min()) if len(sizes) else 0,
        measured=measured,
        failures=tuple(failures),
    )


def _worst(
    criterion: Criterion,
    released: pd.DataFrame,
    groups: Any,
    attr: str,
    everything: Any,
) -> tuple[float, bool]:
    """Worst value of the criterion's measure over the classes, and whether all classes pass."""
    overall = everything.value_counts(normalize=True)
    order = _order(list(overall.index))
    worst_value: float | None = None
    ok = True
    for _, group in groups:
        counts = group[attr].value_counts()
        total = int(counts.sum())
        if isinstance(criterion, DistinctLDiversity):
            value = float(len(counts))
            passes = value >= criterion.l
            worse = worst_value is None or value < worst_value
        elif isinstance(criterion, EntropyLDiversity):
            entropy = -sum((c / total) * math.log(c / total) for c in counts)
            value = math.exp(entropy)
            threshold = math.log(criterion.l)
            passes = entropy >= threshold - SLACK * max(1.0, threshold)
            worse = worst_value is None or value < worst_value
        elif isinstance(criterion, RecursiveCLDiversity):
            r = sorted((int(c) for c in counts), reverse=True)
            tail = sum(r[criterion.l - 1 :])
            value = r[0] / tail if tail else math.inf
            passes = r[0] < criterion.c * tail
            worse = worst_value is None or value > worst_value
        elif isinstance(criterion, HierarchicalTCloseness):
            p = {v: counts.get(v, 0) / total for v in order}
            value = _hierarchical_emd(criterion, p, {v: float(overall[v]) for v in order}, attr)
            passes = value <= criterion.t + SLACK
            worse = worst_value is None or value > worst_value
        elif isinstance(criterion, EqualTCloseness | OrderedTCloseness):
            p = {v: counts.get(v, 0) / total for v in order}
            if isinstance(criterion, EqualTCloseness):
                value = 0.5 * sum(abs(p[v] - float(overall[v])) for v in order)
            else:
                running, acc = 0.0, 0.0
                for v in order[:-1]:
                    running += p[v] - float(overall[v])
                    acc += abs(running)
                value = acc / (len(order) - 1) if len(order) > 1 else 0.0
            passes = value <= criterion.t + SLACK
            worse = worst_value is None or value > worst_value
        else:
            raise IplosError(f"the release check does not know criterion {type(criterion).__name__}")
        ok = ok and passes
        if worse:
            worst_value = value
    return (worst_value if worst_value is not None else 0.0), ok


def _hierarchical_emd(
    criterion: HierarchicalTCloseness, p: dict[str, float], q: dict[str, float], attr: str
) -> float:
    """Li et al.'s hierarchical EMD, node by node: sum of level/H * min(positive, negative extra).

    The extra of a leaf is p - q, of an inner node the sum over its leaves; pos and neg sum the
    children's positive and negative extras. A top level with several values gets a root above it.
    """
    h = criterion.hierarchy
    missing = [v for v in p if v not in h]
    if missing:
        raise IplosError(
            f"hierarchical t-closeness on {attr!r}: value {missing[0]!r} not in hierarchy {h.name!r}"
        )
    leaves = list(h.leaves)
    extra_leaf = {leaf: p.get(leaf, 0.0) - q.get(leaf, 0.0) for leaf in leaves}
    top = h.height - 1
    tops = {h.generalize(leaf, top) for leaf in leaves}
    height = top if len(tops) == 1 else top + 1

    def node(leaf: str, level: int) -> str:
        return "(root)" if level > top else f"{level}:{h.generalize(leaf, level)}"

    cost = 0.0
    for level in range(1, height + 1):
        children: dict[str, dict[str, float]] = {}
        for leaf in leaves:
            child = children.setdefault(node(leaf, level), {})
            key = node(leaf, level - 1)
            child[key] = child.get(key, 0.0) + extra_leaf[leaf]
        for kids in children.values():
            pos = sum(e for e in kids.values() if e > 0)
            neg = -sum(e for e in kids.values() if e < 0)
            cost += level / height * min(pos, neg)
    return cost
