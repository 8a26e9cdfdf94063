"""A linked table: one cell per combination of dimension nodes, and the sums that link them.

Cells are numbered in C order over the dimensions' node counts, so a cell's coordinate in
dimension d is `np.unravel_index(cell, table.shape)[d]`. The additivity constraints are one row
per inner node of a dimension and combination of the other dimensions' nodes:
`x[.., parent, ..] - sum(x[.., child, ..]) = 0`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iplos.errors import IplosError
from iplos.sdc.tables._dimension import Dimension

Kind = Literal["frequency", "magnitude"]
Statistic = Literal["count", "sum", "mean"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Table:
    """Cell values over linked dimensions, with what the disclosure rules need per cell.

    `values` is the additive quantity that suppression protects: the count for a frequency table,
    the sum for a magnitude table (a mean table publishes `values / counts`). `contributors` is
    the number of distinct units (persons, or records without a person column) in each cell;
    `top` holds each cell's largest unit contributions in descending order (magnitude tables);
    `key_sums` the sum of the record keys of the cell key method (when built with a seed).
    """

    dimensions: tuple[Dimension, ...]
    values: FloatArray
    contributors: IntArray
    kind: Kind = "frequency"
    statistic: Statistic = "count"
    unit: str = "persons"
    value_name: str | None = None
    top: FloatArray | None = None
    counts: FloatArray | None = None
    key_sums: FloatArray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = int(np.prod(self.shape))
        for name in ("values", "contributors", "top", "counts", "key_sums"):
            arr = getattr(self, name)
            if arr is not None and arr.shape[0] != n:
                raise IplosError(f"table {name} has {arr.shape[0]} cells, the dimensions give {n}")
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise IplosError(f"table dimensions must have distinct names, not {names}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    @property
    def n_cells(self) -> int:
        return int(self.values.shape[0])

    @cached_property
    def coordinates(self) -> IntArray:
        """(n_cells, n_dimensions) node index of every cell."""
        return np.stack(np.unravel_index(np.arange(self.n_cells), self.shape), axis=1).astype(np.int64)

    def cell(self, *nodes: int) -> int:
        """Flat index of the cell at the given node of each dimension."""
        return int(np.ravel_multi_index(nodes, self.shape))

    def cell_at(self, **labels: str) -> int:
        """Flat index of the cell labelled so (unnamed dimensions at their total); first match wins."""
        nodes = []
        for d in self.dimensions:
            label = labels.pop(d.name, d.labels[0])
            try:
                nodes.append(d.labels.index(label))
            except ValueError:
                raise IplosError(f"dimension {d.name!r} has no category {label!r}") from None
        if labels:
            raise IplosError(f"no dimension named {', '.join(labels)}")
        return self.cell(*nodes)

    def labels_of(self, cell: int) -> dict[str, str]:
        return {
            d.name: d.labels[int(i)] for d, i in zip(self.dimensions, self.coordinates[cell], strict=True)
        }

    @cached_property
    def constraints(self) -> sp.csr_matrix:
        """The additivity constraints as a sparse matrix A with A @ values == 0."""
        return additivity_matrix(self.dimensions)

    @property
    def published_values(self) -> FloatArray:
        """What a cell shows when published: the value, or the mean for a mean table."""
        if self.statistic == "mean":
            assert self.counts is not None
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(self.counts > 0, self.values / np.maximum(self.counts, 1), np.nan)
        return self.values


def additivity_matrix(dimensions: tuple[Dimension, ...]) -> sp.csr_matrix:
    """One row `parent - sum(children) = 0` per inner node and combination of the other axes."""
    shape = tuple(d.size for d in dimensions)
    n = int(np.prod(shape))
    strides = np.array([int(np.prod(shape[i + 1 :])) for i in range(len(shape))], dtype=np.int64)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    data: list[FloatArray] = []
    next_row = 0
    for d, dim in enumerate(dimensions):
        other_shape = tuple(s for i, s in enumerate(shape) if i != d)
        other_strides = np.array([strides[i] for i in range(len(shape)) if i != d], dtype=np.int64)
        if other_shape:
            grid = np.indices(other_shape).reshape(len(other_shape), -1)
            offsets = (grid * other_strides[:, None]).sum(axis=0)
        else:
            offsets = np.zeros(1, dtype=np.int64)
        m = offsets.shape[0]
        for parent in dim.inner:
            row_ids = next_row + np.arange(m, dtype=np.int64)
            rows.append(row_ids)
            cols.append(offsets + parent * strides[d])
            data.append(np.ones(m))
            for child in dim.children(parent):
                rows.append(row_ids)
                cols.append(offsets + child * strides[d])
                data.append(-np.ones(m))
            next_row += m
    if not rows:
        return sp.csr_matrix((0, n))
    return sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(next_row, n)
    )
