"""Build a linked table from unit records: values at the leaves, every margin by summation.

A frequency table counts persons (distinct values of the person column) or records; a magnitude
table sums (or averages) a numeric column. Leaf cells are counted from the records and every
subtotal is the sum of its children, so the table is exactly additive. A person who falls in two
categories of one dimension (two services) is counted in each, and a subtotal over that dimension
counts person-category pairs; `contributors`, used by the disclosure rules, always counts the
distinct persons of the cell itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from iplos.errors import IplosError, Problem
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._table import FloatArray, IntArray, Statistic, Table

CountUnit = Literal["persons", "records"]


def build_table(
    data: pd.DataFrame,
    dimensions: Sequence[Dimension],
    *,
    count: CountUnit = "persons",
    value: str | None = None,
    statistic: Statistic = "sum",
    person_column: str | None = "pseudonym",
    top_n: int = 2,
    record_keys: Callable[[Sequence[str]], FloatArray] | None = None,
) -> Table:
    """Tabulate `data` over `dimensions` (each named after its input column).

    Without `value` it is a frequency table of `count` units; with `value` a magnitude table of
    its `statistic` ('sum' or 'mean'; rows with no value are left out, negative values are an
    error). `top_n` largest contributions per cell are kept for the dominance rules. With
    `record_keys` (the key holder's function from person to record key in [0, 1), such as
    `iplos.ident.RecordKeys.keys`), each cell gets the sum of its persons' keys, for the cell key
    method; the keys themselves are not kept.
    """
    dims = tuple(dimensions)
    if not dims:
        raise IplosError("a table needs at least one dimension")
    unbalanced = [d.name for d in dims if not d.balanced]
    if unbalanced:
        raise IplosError(f"dimensions {', '.join(unbalanced)} have leaves at different depths")
    missing = [d.name for d in dims if d.name not in data.columns]
    if value is not None and value not in data.columns:
        missing.append(value)
    if person_column is not None and person_column not in data.columns:
        if count == "persons" and value is None:
            missing.append(person_column)
        person_column = None
    if missing:
        raise IplosError(
            f"input has no column {', '.join(map(repr, missing))}; columns: {', '.join(map(str, data.columns))}"
        )
    if value is None and statistic != "sum":
        raise IplosError("a statistic needs a value column")
    frame = data
    weights: FloatArray | None = None
    if value is not None:
        numeric = pd.to_numeric(frame[value], errors="coerce")
        bad = frame[value].notna() & numeric.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IplosError(
                "value column is not numeric",
                [Problem("not a number", row=i + 1, column=value, value=str(frame[value].iloc[i]))],
            )
        neg = numeric < 0
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            raise IplosError(
                "magnitude tables need non-negative values",
                [Problem("negative", row=i + 1, column=value, value=str(numeric.iloc[i]))],
            )
        keep = numeric.notna().to_numpy()
        frame = frame.loc[keep]
        weights = numeric.to_numpy(dtype=np.float64)[keep]

    shape = tuple(d.size for d in dims)
    n_cells = int(np.prod(shape))
    strides = np.array([int(np.prod(shape[i + 1 :])) for i in range(len(shape))], dtype=np.int64)
    leaf_nodes = [d.encode(frame[d.name].to_numpy(), column=d.name) for d in dims]
    n_rows = len(frame)
    if person_column is not None:
        units, _ = pd.factorize(frame[person_column].astype(str), use_na_sentinel=False)
        units = units.astype(np.int64)
    else:
        units = np.arange(n_rows, dtype=np.int64)
    n_units = int(units.max()) + 1 if n_rows else 1

    leaf_cell = np.zeros(n_rows, dtype=np.int64)
    for nodes, stride in zip(leaf_nodes, strides, strict=True):
        leaf_cell += nodes * stride

    # leaf values, then every margin as the sum of its children
    counts: FloatArray | None = None
    if weights is None:
        if count == "persons":
            pairs = np.unique(leaf_cell * n_units + units)
            leaf_values = np.bincount(pairs // n_units, minlength=n_cells).astype(np.float64)
        else:
            leaf_values = np.bincount(leaf_cell, minlength=n_cells).astype(np.float64)
        kind = "frequency"
        stat: Statistic = "count"
    else:
        leaf_values = np.bincount(leaf_cell, weights=weights, minlength=n_cells).astype(np.float64)
        kind = "magnitude"
        stat = statistic
        if statistic == "mean":
            counts = _roll_up(np.bincount(leaf_cell, minlength=n_cells).astype(np.float64), dims)
    values = _roll_up(leaf_values, dims)

    key_sums: FloatArray | None = None
    if record_keys is not None:
        if person_column is None:
            raise IplosError("the cell key method needs a person column (record keys are per person)")
        ids, unit_of_row = np.unique(frame[person_column].astype(str).to_numpy(), return_inverse=True)
        unit_keys = np.asarray(record_keys(list(ids)), dtype=np.float64)
        if unit_keys.shape != ids.shape or not ((unit_keys >= 0) & (unit_keys < 1)).all():
            raise IplosError("record keys must be one number in [0, 1) per person")
        keys = unit_keys[unit_of_row]
        # a person's key counts once per cell, however many records they have in it
        pairs, first = np.unique(leaf_cell * n_units + units, return_index=True)
        leaf_keys = np.bincount(pairs // n_units, weights=keys[first], minlength=n_cells).astype(np.float64)
        key_sums = _roll_up(leaf_keys, dims)

    contributors, top = _per_cell_units(dims, leaf_nodes, strides, units, n_units, weights, top_n, n_cells)
    return Table(
        dimensions=dims,
        values=values,
        contributors=contributors,
        kind=kind,  # type: ignore[arg-type]
        statistic=stat,
        unit=count if weights is None else ("persons" if person_column else "records"),
        value_name=value,
        top=top,
        counts=counts,
        key_sums=key_sums,
    )


def _roll_up(leaf_values: FloatArray, dims: tuple[Dimension, ...]) -> FloatArray:
    """Fill every subtotal with the sum of its children, one dimension at a time, deepest first."""
    x = leaf_values.reshape(tuple(d.size for d in dims)).copy()
    for axis, dim in enumerate(dims):
        for node in sorted(dim.inner, key=lambda i: -dim.depths[i]):
            total = np.take(x, list(dim.children(node)), axis=axis).sum(axis=axis)
            index: list[slice | int] = [slice(None)] * x.ndim
            index[axis] = node
            x[tuple(index)] = total
    return x.reshape(-1)


def _per_cell_units(
    dims: tuple[Dimension, ...],
    leaf_nodes: list[IntArray],
    strides: IntArray,
    units: IntArray,
    n_units: int,
    weights: FloatArray | None,
    top_n: int,
    n_cells: int,
) -> tuple[IntArray, FloatArray | None]:
    """Distinct units and (with weights) the largest unit contributions of every cell.

    Each cell sits at one combination of depths, so one pass per combination (a GROUP BY of the
    records at those levels) covers every cell once.
    """
    contributors = np.zeros(n_cells, dtype=np.int64)
    top = np.zeros((n_cells, top_n), dtype=np.float64) if weights is not None else None
    ancestors = [[d.ancestor_at(depth) for depth in range(d.height + 1)] for d in dims]
    for depths in itertools.product(*(range(d.height + 1) for d in dims)):
        cell = np.zeros(units.shape[0], dtype=np.int64)
        for d, depth in enumerate(depths):
            cell += ancestors[d][depth][leaf_nodes[d]] * strides[d]
        pair_key = cell * n_units + units
        pairs, inverse = np.unique(pair_key, return_inverse=True)
        pair_cell = pairs // n_units
        contributors += np.bincount(pair_cell, minlength=n_cells)
        if top is not None and weights is not None and pairs.size:
            amount = np.bincount(inverse.reshape(-1), weights=weights, minlength=pairs.size)
            order = np.lexsort((-amount, pair_cell))
            sorted_cell = pair_cell[order]
            starts = np.searchsorted(sorted_cell, sorted_cell, side="left")
            rank = np.arange(order.size) - starts
            keep = rank < top_n
            top[sorted_cell[keep], rank[keep]] = amount[order][keep]
    return contributors, top
