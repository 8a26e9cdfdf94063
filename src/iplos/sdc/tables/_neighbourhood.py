"""Neighbourhoods by structure for the deviation programs of linked tables.

A failing cell's cheapest deviation in the joint model is small (50-250 cells) but lies 4-7 sums
away in every direction (a leaf, its link row, the hidden finest cells, another table's sums), so
rings grown over the sums reach 5,000-30,000 cells before a program over them has a solution.
Grouped by one column shared by every table (the region, say), it stays within the cell's own
category, a few sibling categories under the same parent and the margins above them: every
variable of every table and every hidden cell is keyed by the finest class of that column it lies
in (-1 for margins and categories that span several classes), so such a neighbourhood is a mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.sdc.tables._joint import JointModel
from iplos.sdc.tables._table import IntArray

BoolArray = npt.NDArray[np.bool_]
SIBLINGS = (0, 2, 6)  # sibling categories added, one program each, before the rings


@dataclass(frozen=True)
class ColumnKey:
    """Per joint variable, its class of one shared column (-1: a margin); per class, its parent
    category (classes with the same parent are siblings)."""

    key: IntArray
    parent: IntArray

    def masks(self, var: int, free: BoolArray) -> list[BoolArray]:
        """The neighbourhoods of `var` to try in turn: its class and the margins, then with more
        and more siblings (those with the most free cells first). Empty for a margin variable."""
        own = int(self.key[var])
        if own < 0:
            return []
        margins = self.key < 0
        counts = np.bincount(self.key[free & ~margins], minlength=self.parent.size)
        siblings = np.flatnonzero((self.parent == self.parent[own]) & (np.arange(self.parent.size) != own))
        siblings = siblings[np.argsort(-counts[siblings], kind="stable")]
        out = []
        last = -1
        for extra in SIBLINGS:
            take = min(extra, siblings.size)
            if take == last:
                continue
            last = take
            chosen = np.concatenate([[own], siblings[:take]])
            out.append(free & (margins | np.isin(self.key, chosen)))
        return out


def column_key(model: JointModel) -> ColumnKey | None:
    """The key of the shared column with the most classes (None when no column is in every table)."""
    shared = [n for n in model.names if all(n in [d.name for d in r.dimensions] for r in model.releases)]
    if not shared:
        return None
    name = max(shared, key=lambda n: len(model.classes[n]))
    classes = model.classes[name]
    class_of = {v: i for i, members in enumerate(classes) for v in members}
    key = np.full(model.n_vars, -1, dtype=np.int64)
    parent = np.full(len(classes), -1, dtype=np.int64)
    for t, r in enumerate(model.releases):
        position = [d.name for d in r.dimensions].index(name)
        dim = r.dimensions[position]
        node_key = np.full(dim.size, -2, dtype=np.int64)  # -2: no class yet
        for value, leaf in dim.leaf_of.items():
            k = class_of[value]
            node_key[leaf] = k if node_key[leaf] in (-2, k) else -1
            if t == 0:
                parent[k] = dim.parents[leaf]
        node_key[node_key == -2] = -1
        nodes = np.unravel_index(np.arange(r.n_cells), tuple(d.size for d in r.dimensions))[position]
        key[model.span(t)] = node_key[nodes]
    column = model.names.index(name)
    key[int(model.offsets[-1]) :] = [class_of[labels[column]] for labels in model.hidden_cells]
    return ColumnKey(key, parent)
