"""Read a table in the CSV layout of `_output` (from iplos or anyone) and audit it.

The tree of each dimension comes from its level columns: a row's node is its non-total levels,
its parent the same with the finest one set to the total marker. Every combination of nodes must
have exactly one row, so the additivity constraints follow from the file alone. Values are
numbers; a cell is suppressed when its value is empty (or one of the usual symbols ×, x, :, .., -)
or its flag says `primary`, `secondary` or `suppressed`; it is sensitive when flagged `primary`
(when no cell is flagged so, every suppressed cell is checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from iplos.errors import IplosError, Problem
from iplos.sdc.tables._audit import INTERVAL_NOTES, AuditResult, IntervalMode, audit
from iplos.sdc.tables._dimension import TOTAL, Dimension
from iplos.sdc.tables._table import FloatArray, additivity_matrix

SUPPRESSED_SYMBOLS = {"", "x", "×", ":", "..", "-", "nan"}
SUPPRESSED_FLAGS = {"primary", "secondary", "suppressed"}
RESERVED = {"value", "flag"}


@dataclass(frozen=True, eq=False)
class TableFile:
    """A table read from a file: dimensions, values (NaN where suppressed), flags."""

    source: str
    dimensions: tuple[Dimension, ...]
    values: FloatArray
    suppressed: npt.NDArray[np.bool_]
    sensitive: npt.NDArray[np.bool_]

    def labels_of(self, cell: int) -> dict[str, str]:
        shape = tuple(d.size for d in self.dimensions)
        nodes = np.unravel_index(cell, shape)
        return {d.name: d.labels[int(i)] for d, i in zip(self.dimensions, nodes, strict=True)}


def read_table_csv(path: str | Path, total_marker: str = TOTAL) -> TableFile:
    """Read and check a table CSV; errors name the file, row and column."""
    p = Path(path)
    source = str(p)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise IplosError(f"cannot read table file {source}: {exc}") from None
    if "value" not in frame.columns:
        raise IplosError(
            f"table file {source} has no 'value' column", [Problem("missing", file=source, column="value")]
        )
    groups: dict[str, list[str]] = {}
    for col in frame.columns:
        if col in RESERVED:
            continue
        groups.setdefault(col.split(":", 1)[0], []).append(col)
    if not groups:
        raise IplosError(f"table file {source} has no dimension columns")
    dims: list[Dimension] = []
    node_ids: list[npt.NDArray[np.int64]] = []
    for name, cols in groups.items():
        dim, ids = _dimension(frame, name, cols, total_marker, source)
        dims.append(dim)
        node_ids.append(ids)
    shape = tuple(d.size for d in dims)
    cell = np.ravel_multi_index(tuple(node_ids), shape)
    n = int(np.prod(shape))
    seen = np.bincount(cell, minlength=n)
    if (seen > 1).any():
        dup = int(np.flatnonzero(seen[cell] > 1)[1])
        raise IplosError(
            f"table file {source} has a cell twice", [Problem("duplicate cell", file=source, row=dup + 2)]
        )
    if (seen == 0).any():
        missing = np.flatnonzero(seen == 0)[:5]
        names = [
            ", ".join(
                f"{d.name}={d.labels[int(i)]}" for d, i in zip(dims, np.unravel_index(m, shape), strict=True)
            )
            for m in missing
        ]
        raise IplosError(
            f"table file {source} lacks {int((seen == 0).sum())} cells of its dimensions' combinations",
            [Problem(f"missing cell {x}", file=source) for x in names],
        )
    raw = frame["value"].str.strip()
    flags = frame["flag"].str.strip().str.lower() if "flag" in frame.columns else pd.Series([""] * len(frame))
    suppressed_rows = (
        raw.str.lower().isin(SUPPRESSED_SYMBOLS).to_numpy() | flags.isin(SUPPRESSED_FLAGS).to_numpy()
    )
    numbers = pd.to_numeric(
        raw.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False), errors="coerce"
    )
    bad = ~suppressed_rows & numbers.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise IplosError(
            f"table file {source} has values that are not numbers",
            [Problem("not a number", file=source, row=i + 2, column="value", value=str(raw.iloc[i]))],
        )
    values = np.full(n, np.nan)
    values[cell] = np.where(suppressed_rows, np.nan, numbers.to_numpy(dtype=np.float64))
    suppressed = np.zeros(n, dtype=bool)
    suppressed[cell] = suppressed_rows
    sensitive = np.zeros(n, dtype=bool)
    sensitive[cell] = flags.eq("primary").to_numpy()
    if not sensitive.any():
        sensitive = suppressed.copy()
    return TableFile(source, tuple(dims), values, suppressed, sensitive)


def _dimension(
    frame: pd.DataFrame, name: str, cols: list[str], total: str, source: str
) -> tuple[Dimension, npt.NDArray[np.int64]]:
    level_values = frame[cols].apply(lambda s: s.str.strip()).to_numpy(dtype=object)
    is_total = level_values == total
    # once a level is the total, every finer one must be too
    wrong = (is_total[:, :-1] & ~is_total[:, 1:]).any(axis=1) if len(cols) > 1 else np.zeros(len(frame), bool)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise IplosError(
            f"table file {source}: dimension {name!r} has a category below a total",
            [
                Problem(
                    "a finer level is set where a coarser one is the total",
                    file=source,
                    row=i + 2,
                    column=cols[0],
                )
            ],
        )
    depth = (~is_total).sum(axis=1)
    paths = [tuple(row[:d]) for row, d in zip(level_values, depth, strict=True)]
    known = set(paths)
    # pre-order: sort by the first-seen position of each ancestor prefix
    first_seen: dict[tuple[Any, ...], int] = {}
    for i, pth in enumerate(paths):
        first_seen.setdefault(pth, i)
    order = sorted(known, key=lambda pth: tuple(first_seen.get(pth[:k], -1) for k in range(1, len(pth) + 1)))
    if () not in known:
        raise IplosError(
            f"table file {source}: dimension {name!r} has no total row ({total!r} in every level)"
        )
    node_of: dict[tuple[Any, ...], int] = {(): 0}
    labels, parents, depths = [total], [-1], [0]
    for pth in order:
        if pth == ():
            continue
        parent = pth[:-1]
        if parent not in node_of:
            row = first_seen[pth]
            raise IplosError(
                f"table file {source}: dimension {name!r} has {pth[-1]!r} without its subtotal {parent[-1]!r}",
                [Problem("missing subtotal", file=source, row=row + 2, column=cols[len(pth) - 1])],
            )
        node_of[pth] = len(labels)
        labels.append(str(pth[-1]))
        parents.append(node_of[parent])
        depths.append(len(pth))
    levels = tuple(c.split(":", 1)[1] if ":" in c else c for c in cols)
    dim = Dimension(
        name=name,
        labels=tuple(labels),
        parents=tuple(parents),
        depths=tuple(depths),
        level_names=("total", *levels),
        leaf_of={},
    )
    ids = np.array([node_of[pth] for pth in paths], dtype=np.int64)
    return dim, ids


def audit_file(
    path: str | Path,
    min_width: float = 0.0,
    total_marker: str = TOTAL,
    intervals: IntervalMode = "exact",
) -> tuple[TableFile, AuditResult]:
    """Audit a table file: each suppressed cell's attacker interval; fails on exact (or narrow) ones.
    `intervals='witnessed'` gives the same verdict faster (see `AuditResult`)."""
    tf = read_table_csv(path, total_marker=total_marker)
    matrix = additivity_matrix(tf.dimensions)
    values = np.where(tf.suppressed, 0.0, tf.values)
    result = audit(
        matrix, values, tf.suppressed, sensitive=tf.sensitive, min_width=min_width, intervals=intervals
    )
    return tf, result


def file_audit_report(tf: TableFile, result: AuditResult, min_width: float) -> dict[str, Any]:
    """JSON-ready audit of a table file."""

    def num(x: float) -> float | None:
        return None if not np.isfinite(x) else round(float(x), 6)

    return {
        "file": tf.source,
        "dimensions": [
            {"name": d.name, "levels": list(d.level_names), "categories": d.size} for d in tf.dimensions
        ],
        "cells": int(tf.values.shape[0]),
        "suppressed": int(tf.suppressed.sum()),
        "checked": int(result.checked.sum()),
        "min_width": min_width,
        "passed": result.passed,
        "failing": int(result.failing.size),
        "exactly_derivable": int(result.exact.size),
        "intervals": result.intervals,
        "intervals_note": INTERVAL_NOTES[result.intervals],
        "linear_programs": result.linear_programs,
        "components": result.components,
        "seconds": round(result.seconds, 3),
        "cells_audited": [
            {
                **tf.labels_of(int(c)),
                "sensitive": bool(tf.sensitive[c]),
                "lower": num(result.lower[c]),
                "upper": num(result.upper[c]),
                "protected": bool(result.ok[c]) if result.checked[c] else None,
                "exact": bool(result.exact_cells[c]) if result.exact_cells is not None else True,
            }
            for c in np.flatnonzero(tf.suppressed)
        ],
    }
