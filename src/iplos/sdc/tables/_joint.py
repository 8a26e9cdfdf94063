"""The joint model of linked tables: one system of sums over every table of the same data.

The common finest cross-classification follows from the dimensions themselves: the input values
of a column fall into classes by the finest category they count in, in every table with that
column (values sharing their category everywhere are one class). Its cells, one per class of
every column, are the unknowns z; every leaf cell of every table is the sum of the z it covers,
and each table's own sums link its margins to its leaves. A z that is the only one in some
table's leaf cell is that cell (no new unknown); the rest are never published ("hidden").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from iplos.errors import IplosError
from iplos.sdc.tables._build import CountUnit, build_table
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._release import Release
from iplos.sdc.tables._table import FloatArray, IntArray, additivity_matrix

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class JointModel:
    """The joint constraint system of linked tables: variables are every table's cells (in order,
    at `offsets`) followed by the hidden finest cells; `matrix @ x == 0` holds for the truth."""

    releases: tuple[Release, ...]
    offsets: IntArray
    n_hidden: int
    matrix: sp.csr_matrix
    hidden_cells: tuple[tuple[str, ...], ...] = field(repr=False)  # class labels per hidden z
    names: tuple[str, ...] = ()
    classes: dict[str, list[list[str]]] = field(default_factory=dict, repr=False)
    z_of_hidden: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    @property
    def n_vars(self) -> int:
        return int(self.offsets[-1]) + self.n_hidden

    def span(self, t: int) -> slice:
        return slice(int(self.offsets[t]), int(self.offsets[t + 1]))

    def suppressed(self, patterns: Sequence[BoolArray] | None = None) -> BoolArray:
        """Unknown variables: each table's suppressed cells and every hidden finest cell."""
        out = np.ones(self.n_vars, dtype=bool)
        for t, r in enumerate(self.releases):
            out[self.span(t)] = r.suppressed if patterns is None else patterns[t]
        return out

    def primary(self) -> BoolArray:
        out = np.zeros(self.n_vars, dtype=bool)
        for t, r in enumerate(self.releases):
            out[self.span(t)] = r.primary
        return out

    def published_values(self) -> FloatArray:
        """Published cells' values, 0 where unknown (the attacker's view)."""
        out = np.zeros(self.n_vars)
        for t, r in enumerate(self.releases):
            out[self.span(t)] = np.where(r.suppressed, 0.0, r.published)
        return out

    def locate(self, var: int) -> tuple[int, int]:
        """(table, cell) of a table variable."""
        t = int(np.searchsorted(self.offsets, var, side="right") - 1)
        return t, var - int(self.offsets[t])


def _classes(releases: Sequence[Release]) -> tuple[list[str], dict[str, list[list[str]]], dict[str, Any]]:
    """Per column: the classes of input values (values in the same finest category everywhere)."""
    names: list[str] = []
    for r in releases:
        for d in r.dimensions:
            if d.name not in names:
                names.append(d.name)
    classes: dict[str, list[list[str]]] = {}
    leaf_maps: dict[str, Any] = {}
    for name in names:
        dims = [(t, d) for t, r in enumerate(releases) for d in r.dimensions if d.name == name]
        values = sorted({v for _, d in dims for v in d.leaf_of})
        if not values:
            raise IplosError(
                f"dimension {name!r} does not say which input values its categories hold, so tables "
                "with it cannot be linked (read it from the release log, or build it from the data)"
            )
        sig_of: dict[tuple[int, ...], list[str]] = {}
        for v in values:
            sig = tuple(d.leaf_of.get(v, -1) for _, d in dims)
            sig_of.setdefault(sig, []).append(v)
        sigs = list(sig_of)
        classes[name] = [sig_of[s] for s in sigs]
        # per table with this column: class -> its leaf node (-1: not in the table)
        leaf_maps[name] = {t: np.array([s[i] for s in sigs], dtype=np.int64) for i, (t, _) in enumerate(dims)}
    return names, classes, leaf_maps


def joint_model(releases: Sequence[Release]) -> JointModel:
    """The joint constraint system of tables of one quantity from the same data."""
    rels = tuple(releases)
    if not rels:
        raise IplosError("no tables to link")
    if len({r.quantity for r in rels}) > 1:
        raise IplosError(
            "only tables of the same quantity (counts of the same unit, or sums of the same value) link"
        )
    names, classes, leaf_maps = _classes(rels)
    class_counts = [len(classes[n]) for n in names]
    n_z = int(np.prod(class_counts))
    z_coords = np.stack(np.unravel_index(np.arange(n_z), class_counts), axis=1) if n_z else np.zeros((0, 0))
    offsets = np.cumsum([0, *(r.n_cells for r in rels)]).astype(np.int64)
    # each z's leaf cell in every table (-1: the table does not count it)
    z_leaf: list[IntArray] = []
    for t, r in enumerate(rels):
        cell = np.zeros(n_z, dtype=np.int64)
        outside = np.zeros(n_z, dtype=bool)
        stride = 1
        for d in reversed(r.dimensions):
            node = leaf_maps[d.name][t][z_coords[:, names.index(d.name)]]
            outside |= node < 0
            cell += np.maximum(node, 0) * stride
            stride *= d.size
        z_leaf.append(np.where(outside, -1, cell))
    # a z alone in some table's leaf cell is that cell
    var_of_z = np.full(n_z, -1, dtype=np.int64)
    for t, r in enumerate(rels):
        leaf = z_leaf[t]
        inside = leaf >= 0
        counts = np.bincount(leaf[inside], minlength=r.n_cells)
        alone = inside & (counts[np.maximum(leaf, 0)] == 1) & (var_of_z < 0)
        var_of_z[alone] = offsets[t] + leaf[alone]
    hidden = np.flatnonzero(var_of_z < 0)
    var_of_z[hidden] = offsets[-1] + np.arange(hidden.size)
    n_vars = int(offsets[-1]) + hidden.size
    blocks: list[sp.csr_matrix] = []
    for t, r in enumerate(rels):
        a = additivity_matrix(r.dimensions).tocoo()
        blocks.append(sp.csr_matrix((a.data, (a.row, a.col + offsets[t])), shape=(a.shape[0], n_vars)))
        # link rows: leaf - sum of its z = 0 (skipped where the leaf is its own only z)
        leaf = z_leaf[t]
        members = np.flatnonzero(leaf >= 0)
        leaves = _leaf_cells(r.dimensions)
        row_of_leaf = np.full(r.n_cells, -1, dtype=np.int64)
        row_of_leaf[leaves] = np.arange(leaves.size)
        rows = np.concatenate([np.arange(leaves.size), row_of_leaf[leaf[members]]])
        cols = np.concatenate([offsets[t] + leaves, var_of_z[members]])
        data = np.concatenate([np.ones(leaves.size), -np.ones(members.size)])
        link = sp.csr_matrix((data, (rows, cols)), shape=(leaves.size, n_vars))
        link.sum_duplicates()
        link.eliminate_zeros()
        keep = np.flatnonzero(np.diff(link.indptr) > 0)
        blocks.append(link[keep])
    matrix = sp.vstack(blocks).tocsr() if blocks else sp.csr_matrix((0, n_vars))
    hidden_labels = tuple(
        tuple(classes[n][int(z_coords[z, i])][0] for i, n in enumerate(names)) for z in hidden
    )
    return JointModel(rels, offsets, int(hidden.size), matrix, hidden_labels, tuple(names), classes, hidden)


def _leaf_cells(dims: tuple[Dimension, ...]) -> IntArray:
    """Flat indices of a table's leaf cells (a leaf in every dimension), in C order."""
    grids = np.meshgrid(*(np.array(d.leaves, dtype=np.int64) for d in dims), indexing="ij")
    flat = np.ravel_multi_index(tuple(g.reshape(-1) for g in grids), tuple(d.size for d in dims))
    return np.asarray(flat, dtype=np.int64)


def hidden_truth(
    model: JointModel, data: pd.DataFrame, count: CountUnit, value: str | None, person_column: str | None
) -> FloatArray:
    """The true values of the hidden finest cells, tabulated from the records."""
    if model.n_hidden == 0:
        return np.zeros(0)
    frame = pd.DataFrame(index=data.index)
    dims = []
    for name in model.names:
        class_of = {v: str(i) for i, members in enumerate(model.classes[name]) for v in members}
        frame[name] = data[name].astype(str).map(class_of).fillna("-1")
        dims.append(Dimension.flat(name, [str(i) for i in range(len(model.classes[name]))] + ["-1"]))
    if person_column is not None and person_column in data.columns:
        frame[person_column] = data[person_column].to_numpy()
    if value is not None:
        frame[value] = data[value].to_numpy()
    finest = build_table(frame, dims, count=count, value=value, person_column=person_column)
    counts = [len(model.classes[n]) for n in model.names]
    coords = np.stack(np.unravel_index(model.z_of_hidden, counts), axis=1)
    return np.asarray(
        finest.values[[finest.cell(*(int(c) + 1 for c in row)) for row in coords]], dtype=np.float64
    )


def joint_truth(model: JointModel, truths: Sequence[FloatArray], hidden: FloatArray) -> FloatArray:
    x = np.concatenate([*truths, hidden])
    residual = model.matrix @ x
    bad = np.flatnonzero(np.abs(residual) > 1e-6 * max(1.0, float(np.abs(x).max(initial=0.0))))
    if bad.size:
        raise IplosError(
            f"the tables do not add up across each other ({bad.size} sums break): a person counted in "
            "several categories of one dimension, or earlier releases from other data; linked protection "
            "needs one category per person and dimension"
        )
    return x
