"""Primary suppression: the rules that make a cell sensitive on its own.

Each rule is a small frozen value object that marks the cells it finds sensitive, so the
protection code never asks which rule it holds (ARX's criteria work the same way).

- `MinCount(n)`: fewer than n contributing units (persons). Empty cells are not sensitive by
  default: an empty cell tells nothing about a person (set `zero_sensitive=True` where the
  absence of anyone is itself sensitive).
- `Dominance(n, k)`: the n largest contributions make more than k % of the cell total
  (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, §4.2.2).
- `PPercent(p)`: the total minus the two largest contributions is less than p % of the largest,
  so the second contributor could estimate the first within p % (ibid.).
- `GroupDisclosure()`: a non-empty cell equal to its margin along a dimension whose parent has
  several categories: every unit of the group falls in this category, which discloses the
  category of anyone known to be in the group (attribute disclosure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc.tables._table import FloatArray, Table

BoolArray = npt.NDArray[np.bool_]


class Rule(Protocol):
    """A primary suppression rule: which cells of a table are sensitive on their own."""

    @property
    def name(self) -> str: ...

    def sensitive(self, table: Table) -> BoolArray: ...


@dataclass(frozen=True)
class MinCount:
    """Cells with fewer than `n` contributing units are sensitive."""

    n: int = 5
    zero_sensitive: bool = False

    @property
    def name(self) -> str:
        return f"min-count({self.n})"

    def sensitive(self, table: Table) -> BoolArray:
        low = table.contributors < self.n
        if not self.zero_sensitive:
            low &= table.contributors > 0
        return np.asarray(low, dtype=bool)


@dataclass(frozen=True)
class Dominance:
    """(n, k) rule: the `n` largest contributions exceed `k` % of the cell total."""

    n: int = 1
    k: float = 85.0

    def __post_init__(self) -> None:
        if self.n < 1 or not 0 < self.k <= 100:
            raise IplosError(f"dominance rule needs n >= 1 and 0 < k <= 100, not ({self.n}, {self.k})")

    @property
    def name(self) -> str:
        return f"dominance({self.n},{self.k:g})"

    def sensitive(self, table: Table) -> BoolArray:
        top = _top(table, self.n)
        total = table.values
        return np.asarray((total > 0) & (top[:, : self.n].sum(axis=1) > self.k / 100.0 * total), dtype=bool)

    def protection(self, table: Table) -> FloatArray:
        """Required protection each way: how far the total must be able to grow before the n
        largest no longer exceed k % of it, (100/k) * (x1 + .. + xn) - T (Hundepool et al. §4.3)."""
        top = _top(table, self.n)[:, : self.n].sum(axis=1)
        return np.asarray(np.maximum(100.0 / self.k * top - table.values, 0.0), dtype=np.float64)


@dataclass(frozen=True)
class PPercent:
    """p % rule: total - x1 - x2 < p/100 * x1 (x1, x2 the two largest contributions)."""

    p: float = 10.0

    def __post_init__(self) -> None:
        if not self.p > 0:
            raise IplosError(f"p % rule needs p > 0, not {self.p}")

    @property
    def name(self) -> str:
        return f"p-percent({self.p:g})"

    def sensitive(self, table: Table) -> BoolArray:
        top = _top(table, 2)
        total = table.values
        rest = total - top[:, 0] - top[:, 1]
        return np.asarray((total > 0) & (rest < self.p / 100.0 * top[:, 0] - 1e-9), dtype=bool)

    def protection(self, table: Table) -> FloatArray:
        """Required protection each way: p/100 * x1 - (T - x1 - x2), so that the second largest
        contributor cannot estimate the largest within p % (Hundepool et al. §4.3)."""
        top = _top(table, 2)
        rest = table.values - top[:, 0] - top[:, 1]
        return np.asarray(np.maximum(self.p / 100.0 * top[:, 0] - rest, 0.0), dtype=np.float64)


@dataclass(frozen=True)
class GroupDisclosure:
    """A non-empty cell equal to its margin along one of `dimensions` (all when None)."""

    dimensions: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return "group-disclosure"

    def sensitive(self, table: Table) -> BoolArray:
        base = table.values if table.kind == "frequency" else table.contributors.astype(np.float64)
        out = np.zeros(table.n_cells, dtype=bool)
        coords = table.coordinates
        shape = table.shape
        for d, dim in enumerate(table.dimensions):
            if self.dimensions is not None and dim.name not in self.dimensions:
                continue
            parents = np.array(dim.parents, dtype=np.int64)
            n_children = np.array([len(dim.children(max(p, 0))) for p in dim.parents], dtype=np.int64)
            node = coords[:, d]
            eligible = (parents[node] >= 0) & (n_children[node] >= 2)
            stride = int(np.prod(shape[d + 1 :]))
            parent_cell = np.arange(table.n_cells) + (parents[node] - node) * stride
            parent_cell[~eligible] = 0
            out |= eligible & (base > 0) & np.isclose(base, base[parent_cell])
        return out


def _top(table: Table, n: int) -> npt.NDArray[np.float64]:
    if table.kind != "magnitude" or table.top is None:
        raise IplosError("dominance and p % rules need a magnitude table (a value column)")
    if table.top.shape[1] < n:
        raise IplosError(
            f"the table keeps {table.top.shape[1]} largest contributions per cell, the rule needs {n}"
        )
    return table.top


@dataclass(frozen=True)
class PrimaryResult:
    """Which cells are sensitive, and for each sensitive cell the rules that found it."""

    mask: BoolArray
    reasons: dict[int, tuple[str, ...]]

    @property
    def count(self) -> int:
        return int(self.mask.sum())


def rule_protection(table: Table, rules: Sequence[Rule]) -> FloatArray:
    """The largest protection any rule with its own levels (dominance, p %) asks of each cell
    it finds sensitive (0 elsewhere)."""
    out = np.zeros(table.n_cells)
    for rule in rules:
        level = getattr(rule, "protection", None)
        if level is not None:
            out = np.maximum(out, np.where(rule.sensitive(table), level(table), 0.0))
    return out


def primary_suppression(table: Table, rules: Sequence[Rule]) -> PrimaryResult:
    """Apply every rule; a cell is primary when any rule finds it sensitive."""
    mask = np.zeros(table.n_cells, dtype=bool)
    reasons: dict[int, list[str]] = {}
    for rule in rules:
        hit = rule.sensitive(table)
        for cell in np.flatnonzero(hit):
            reasons.setdefault(int(cell), []).append(rule.name)
        mask |= hit
    return PrimaryResult(mask=mask, reasons={c: tuple(r) for c, r in sorted(reasons.items())})
