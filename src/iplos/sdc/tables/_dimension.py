"""A table dimension: a tree of categories whose root is the total.

Every node of the tree is a row or column of the published table: the leaves are the finest
categories and each inner node is the subtotal of its children (kommune within fylke within the
country; 1-year ages within age groups). Nodes are numbered in pre-order, so node 0 is the total
and each subtotal comes before its children, which is also the order of the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError, Problem

TOTAL = "Total"


@dataclass(frozen=True)
class Dimension:
    """A strictly nesting tree of categories over one input column.

    `labels[i]` is node i's label, `parents[i]` its parent (-1 for the total, node 0) and
    `depths[i]` its depth (0 for the total); `level_names[d]` names depth d. `leaf_of` maps each
    input value (as text) to the leaf node it counts in. All leaves have the same depth.

    >>> d = Dimension.flat("kjonn", ["1", "2"])
    >>> d.labels, d.parents
    (('Total', '1', '2'), (-1, 0, 0))
    """

    name: str
    labels: tuple[str, ...]
    parents: tuple[int, ...]
    depths: tuple[int, ...]
    level_names: tuple[str, ...]
    leaf_of: dict[str, int] = field(repr=False, compare=False)
    _children: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if n == 0 or len(self.parents) != n or len(self.depths) != n:
            raise IplosError(f"dimension {self.name!r}: labels, parents and depths differ in length")
        if self.parents[0] != -1 or any(p < 0 or p >= i for i, p in enumerate(self.parents) if i > 0):
            raise IplosError(f"dimension {self.name!r}: nodes must be in pre-order with the total first")
        children: list[list[int]] = [[] for _ in range(n)]
        for i, p in enumerate(self.parents):
            if p >= 0:
                children[p].append(i)
        if any(self.depths[i] != self.depths[p] + 1 for i, p in enumerate(self.parents) if p >= 0):
            raise IplosError(f"dimension {self.name!r}: a node's depth must be its parent's plus one")
        object.__setattr__(self, "_children", tuple(tuple(c) for c in children))

    # construction -----------------------------------------------------------------------------------
    @classmethod
    def flat(cls, name: str, values: Iterable[object], total_label: str = TOTAL) -> Dimension:
        """A total over the given categories (in the given order, duplicates dropped)."""
        cats = list(dict.fromkeys(str(v) for v in values))
        if not cats:
            raise IplosError(f"dimension {name!r} has no categories")
        return cls(
            name=name,
            labels=(total_label, *cats),
            parents=(-1, *([0] * len(cats))),
            depths=(0, *([1] * len(cats))),
            level_names=("total", name),
            leaf_of={c: i + 1 for i, c in enumerate(cats)},
        )

    @classmethod
    def from_hierarchy(
        cls,
        hierarchy: Hierarchy,
        level: int | str = 0,
        name: str | None = None,
        total_label: str = TOTAL,
        values: Iterable[object] | None = None,
        subtotals: Sequence[int | str] | None = None,
    ) -> Dimension:
        """Use `hierarchy` from `level` (the finest shown) up as nested subtotals.

        Every coarser level is a subtotal unless `subtotals` names the ones to keep. A top level
        with a single value (such as '*' or the country) becomes the total. With `values`, only
        the leaves of the hierarchy that occur in them are kept.
        """
        lvl = hierarchy.level(level)
        h = hierarchy.restrict(values) if values is not None else hierarchy
        if subtotals is None:
            wanted = set(range(lvl, h.height))
        else:
            wanted = {lvl, *(h.level(s) for s in subtotals)}
            below = sorted(w for w in wanted if w < lvl)
            if below:
                raise IplosError(
                    f"hierarchy {h.name!r}: subtotal level {h.level_names[below[0]]!r} is finer than "
                    f"the shown level {h.level_names[lvl]!r}"
                )
        used = sorted((u for u in wanted if not (u > lvl and len(h.values(u)) == 1)), reverse=True)
        labels: list[str] = [total_label]
        parents: list[int] = [-1]
        depths: list[int] = [0]
        # pre-order: walk the distinct paths (coarse to fine) in first-seen order
        tree: dict[tuple[str, ...], dict[str, object]] = {}
        paths = [tuple(row[u] for u in used) for row in h.rows]
        for path in dict.fromkeys(paths):
            node: dict[str, object] = tree.setdefault((), {})
            for value in path:
                node = node.setdefault(value, {})  # type: ignore[assignment]
        node_of: dict[tuple[str, ...], int] = {}

        def walk(prefix: tuple[str, ...], sub: dict[str, object], parent: int) -> None:
            for value, child in sub.items():
                key = (*prefix, value)
                node_of[key] = len(labels)
                labels.append(value)
                parents.append(parent)
                depths.append(len(key))
                walk(key, child, node_of[key])  # type: ignore[arg-type]

        walk((), tree.get((), {}), 0)
        leaf_of = {row[0]: node_of[path] for row, path in zip(h.rows, paths, strict=True)}
        return cls(
            name=name or hierarchy.name,
            labels=tuple(labels),
            parents=tuple(parents),
            depths=tuple(depths),
            level_names=("total", *(h.level_names[u] for u in used)),
            leaf_of=leaf_of,
        )

    # queries ----------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of nodes, the total included."""
        return len(self.labels)

    @property
    def height(self) -> int:
        """Depth of the leaves (1 for a flat dimension)."""
        return max(self.depths)

    def children(self, node: int) -> tuple[int, ...]:
        return self._children[node]

    @property
    def leaves(self) -> tuple[int, ...]:
        return tuple(i for i in range(self.size) if not self._children[i])

    @property
    def inner(self) -> tuple[int, ...]:
        """Nodes with children (each gives one additivity constraint per cell of the other axes)."""
        return tuple(i for i in range(self.size) if self._children[i])

    @property
    def balanced(self) -> bool:
        """Whether every leaf is at the same depth (as in every dimension built from a hierarchy)."""
        return len({self.depths[i] for i in self.leaves}) == 1

    def ancestor_at(self, depth: int) -> npt.NDArray[np.int64]:
        """For every node, its ancestor at `depth` (itself when not deeper); -1 above it."""
        out = np.full(self.size, -1, dtype=np.int64)
        for i in range(self.size):
            node = i
            while node >= 0 and self.depths[node] > depth:
                node = self.parents[node]
            if node >= 0 and self.depths[node] == depth:
                out[i] = node
        return out

    def path(self, node: int) -> tuple[int, ...]:
        """Nodes from the total down to `node`, both included."""
        out = []
        while node >= 0:
            out.append(node)
            node = self.parents[node]
        return tuple(reversed(out))

    def encode(
        self, values: Sequence[object] | npt.NDArray[Any], column: str | None = None
    ) -> npt.NDArray[np.int64]:
        """Leaf node of each input value; unknown values are an error naming the first ones and rows."""
        codes, uniques = pd.factorize(
            pd.Series(list(values), dtype="object").astype(str), use_na_sentinel=False
        )
        lookup = np.array([self.leaf_of.get(str(u), -1) for u in uniques], dtype=np.int64)
        out = lookup[codes]
        bad = np.flatnonzero(out < 0)
        if bad.size:
            problems = [
                Problem(
                    "value is not a category of this dimension",
                    row=int(i) + 1,
                    column=column or self.name,
                    value=str(uniques[codes[i]]),
                )
                for i in bad[:10]
            ]
            raise IplosError(
                f"dimension {self.name!r}: {bad.size} input values outside its categories", problems
            )
        return out
