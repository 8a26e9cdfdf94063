"""A table as released: what an attacker holds of it, as a plain record for the release log.

`Release` keeps the dimensions (with the input values each finest category holds, so that tables
with other groupings of the same column can be related to it), the published values (NaN where
suppressed) and the flags; never a suppressed cell's true value. `as_record` / `from_record`
turn it into the JSON-ready dicts the case store's release log keeps.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._files import TableFile
from iplos.sdc.tables._protect import FLAG_NAMES, PRIMARY, SECONDARY, ProtectedTable
from iplos.sdc.tables._table import FloatArray


@dataclass(frozen=True, eq=False)
class Release:
    """A published table: dimensions, published values (NaN where suppressed) and flags."""

    name: str
    dimensions: tuple[Dimension, ...]
    published: FloatArray
    flags: npt.NDArray[np.int8]
    kind: str = "frequency"
    statistic: str = "count"
    unit: str = "persons"
    value_name: str | None = None

    def __post_init__(self) -> None:
        n = int(np.prod([d.size for d in self.dimensions]))
        if self.published.shape[0] != n or self.flags.shape[0] != n:
            raise IplosError(
                f"release {self.name!r}: {self.published.shape[0]} cells, its dimensions give {n}"
            )

    @property
    def n_cells(self) -> int:
        return int(self.published.shape[0])

    @property
    def suppressed(self) -> npt.NDArray[np.bool_]:
        return np.asarray((self.flags == PRIMARY) | (self.flags == SECONDARY), dtype=bool)

    @property
    def primary(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.flags == PRIMARY, dtype=bool)

    @property
    def quantity(self) -> tuple[str, str, str, str | None]:
        """What the cells measure; only tables of the same quantity are linked by sums."""
        return (self.kind, "sum" if self.statistic == "mean" else self.statistic, self.unit, self.value_name)

    @classmethod
    def of(cls, name: str, pt: ProtectedTable) -> Release:
        t = pt.table
        return cls(
            name,
            t.dimensions,
            pt.published.copy(),
            pt.flags.copy(),
            t.kind,
            t.statistic,
            t.unit,
            t.value_name,
        )

    def as_record(self) -> dict[str, Any]:
        """The release log's record: kind, statistic, dimensions and cells (JSON-ready)."""
        kind = f"{self.kind}:{self.unit}:{self.value_name or ''}"
        return {
            "name": self.name,
            "kind": kind,
            "statistic": self.statistic,
            "dimensions": [
                {
                    "name": d.name,
                    "labels": list(d.labels),
                    "parents": list(d.parents),
                    "levels": list(d.level_names),
                    "leaf_of": dict(d.leaf_of),
                }
                for d in self.dimensions
            ],
            "cells": {
                "values": [None if not np.isfinite(v) else float(v) for v in self.published],
                "flags": [FLAG_NAMES[int(f)] for f in self.flags],
            },
        }

    @classmethod
    def from_record(
        cls,
        name: str,
        kind: str,
        statistic: str,
        dimensions: list[dict[str, Any]],
        cells: dict[str, list[Any]],
    ) -> Release:
        """A release from the log's record (as `as_record` wrote it)."""
        dims = tuple(dimension_from_record(d) for d in dimensions)
        unknown = sorted(set(cells["flags"]) - set(FLAG_NAMES))
        if unknown:
            raise IplosError(f"logged table {name!r} has unknown flags {', '.join(unknown)}")
        flags = np.array([FLAG_NAMES.index(f) for f in cells["flags"]], dtype=np.int8)
        published = np.array([np.nan if v is None else float(v) for v in cells["values"]])
        parts = kind.split(":")
        if len(parts) == 3:
            return cls(name, dims, published, flags, parts[0], statistic, parts[1], parts[2] or None)
        unit = "persons" if kind == "frequency" else "records"
        return cls(name, dims, published, flags, kind, statistic, unit, None)


def release_of_file(
    tf: TableFile, logged: Sequence[Release] = (), hierarchies: Mapping[str, Hierarchy] | None = None
) -> Release:
    """A table file as a release: the logged release it is (same categories and published cells),
    which knows the input values of its categories; else a dimension's leaves hold the values of
    the given hierarchy of its column at the level they are categories of, or their own label."""
    flags = np.where(tf.sensitive & tf.suppressed, PRIMARY, np.where(tf.suppressed, SECONDARY, 0)).astype(
        np.int8
    )
    for r in logged:
        same_dims = len(r.dimensions) == len(tf.dimensions) and all(
            a.name == b.name and a.labels == b.labels and a.parents == b.parents
            for a, b in zip(r.dimensions, tf.dimensions, strict=True)
        )
        if (
            same_dims
            and np.array_equal(r.suppressed, tf.suppressed)
            and np.allclose(np.nan_to_num(r.published, nan=-1.0), np.nan_to_num(tf.values, nan=-1.0))
        ):
            return r
    dims = tuple(
        d if d.leaf_of else dataclasses.replace(d, leaf_of=_leaf_values(d, (hierarchies or {}).get(d.name)))
        for d in tf.dimensions
    )
    return Release(Path(tf.source).stem, dims, tf.values.copy(), flags)


def _leaf_values(dim: Dimension, hierarchy: Hierarchy | None) -> dict[str, int]:
    """Input value -> leaf node: through the hierarchy level whose values the leaves are."""
    node_of = {dim.labels[i]: i for i in dim.leaves}
    if hierarchy is not None:
        for level in range(hierarchy.height):
            if set(node_of) <= set(hierarchy.values(level)):
                return {row[0]: node_of[row[level]] for row in hierarchy.rows if row[level] in node_of}
        raise IplosError(
            f"dimension {dim.name!r}: its categories are not the values of any level of hierarchy "
            f"{hierarchy.name!r}"
        )
    return node_of


def dimension_from_record(d: dict[str, Any]) -> Dimension:
    """A dimension from its logged form (depths follow from the parents)."""
    parents = [int(p) for p in d["parents"]]
    depths: list[int] = []
    for p in parents:
        depths.append(0 if p < 0 else depths[p] + 1)
    return Dimension(
        name=str(d["name"]),
        labels=tuple(str(x) for x in d["labels"]),
        parents=tuple(parents),
        depths=tuple(depths),
        level_names=tuple(str(x) for x in d["levels"]),
        leaf_of={str(k): int(v) for k, v in d["leaf_of"].items()},
    )


def data_version(path: str | Path) -> str:
    """The version of an input's data: SHA-256 of its bytes (of every file, in order, for a folder)."""
    p = Path(path)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    digest = hashlib.sha256()
    for f in files:
        if p.is_dir():  # a folder's layout is part of its data; a single file's name is not
            digest.update(str(f.relative_to(p)).encode())
        with f.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
