"""Builders of small tables for the table tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from iplos.catalog.hierarchy import Hierarchy
from iplos.sdc.tables import Dimension, Table, build_table


def records(counts: Mapping[Any, int], columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per person: `counts[(v1, v2, ..)]` persons with those values."""
    rows = []
    pid = 0
    for key, n in counts.items():
        for _ in range(n):
            rows.append({**dict(zip(columns, key, strict=True)), "pseudonym": f"p{pid:05d}"})
            pid += 1
    return pd.DataFrame(rows, columns=[*columns, "pseudonym"])


def two_by_three(small: int = 3) -> Table:
    """Rows a, b x columns x, y, z with totals; cell (a, y) holds `small` persons."""
    counts = {("a", "x"): 10, ("a", "y"): small, ("a", "z"): 12, ("b", "x"): 8, ("b", "y"): 9, ("b", "z"): 7}
    df = records(counts, ("r", "c"))
    return build_table(df, [Dimension.flat("r", ["a", "b"]), Dimension.flat("c", ["x", "y", "z"])])


def region_hierarchy() -> Hierarchy:
    """Four kommuner in two fylker under the country."""
    return Hierarchy.from_rows(
        "region",
        [["0101", "01", "*"], ["0102", "01", "*"], ["0201", "02", "*"], ["0202", "02", "*"]],
        level_names=["kommune", "fylke", "land"],
    )
