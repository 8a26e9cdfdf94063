"""An independent attacker of several published tables from the same data (for the tests only).

It knows nothing of iplos's audit: from the published cells of every table (labels, values,
flags) and the category definitions it is given, it writes one linear program over the counts
of the finest cross-classification of all tables (kommune x every age group boundary x sex),
with one equation per published cell, every margin included, and non-negativity; then for each
primary cell it minimises and maximises that cell's count with scipy's linprog (HiGHS).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from iplos.sdc.tables import ProtectedTable

# a category label of one dimension -> the finest values it covers
Covers = Mapping[str, Callable[[str], frozenset[str]]]


@dataclass(frozen=True)
class Breach:
    """A primary cell the attacker narrows below its required protection."""

    table: int
    labels: dict[str, str]
    value: float
    lower: float
    upper: float
    need_lower: float
    need_upper: float

    @property
    def exact(self) -> bool:
        return self.upper - self.lower < 1e-6


class Attacker:
    """The attacker's linear program over the published cells of some tables."""

    def __init__(
        self, published: Sequence[ProtectedTable], finest: Mapping[str, Sequence[str]], covers: Covers
    ) -> None:
        self.finest = finest
        self.covers = covers
        self.names = list(finest)
        combos = itertools.product(*(finest[n] for n in self.names))
        self.index = {combo: i for i, combo in enumerate(combos)}
        rows: list[int] = []
        cols: list[int] = []
        rhs: list[float] = []
        for pt in published:
            for cell in range(pt.table.n_cells):
                if int(pt.flags[cell]) == 0:  # published
                    members = self.columns(pt.table.labels_of(cell))
                    cols.extend(members)
                    rows.extend([len(rhs)] * len(members))
                    rhs.append(float(pt.published[cell]))
        self.a_eq = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(rhs), len(self.index)))
        self.b_eq = np.array(rhs)

    def columns(self, labels: dict[str, str]) -> list[int]:
        """The finest cells a cell covers (a table without a dimension covers all of it)."""
        sets = [self.covers[n](labels[n]) if n in labels else frozenset(self.finest[n]) for n in self.names]
        return [self.index[c] for c in itertools.product(*(sorted(s) for s in sets))]

    def interval(self, labels: dict[str, str]) -> tuple[float, float]:
        """Smallest and largest count of the cell over every table consistent with the publication."""
        c = np.zeros(len(self.index))
        c[self.columns(labels)] = 1.0
        if self.a_eq.shape[0] == 0:
            return 0.0, np.inf
        lo = linprog(c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=(0, None), method="highs")
        assert lo.status == 0, lo.message
        return float(lo.fun), np.inf if hi.status == 3 else -float(hi.fun)


def required(value: float, percent: float = 30.0, minimum: float = 3.0) -> tuple[float, float]:
    """(lower, upper) protection of a cell: a share of its value, at least `minimum` persons."""
    return min(value, max(percent / 100 * value, minimum)), max(percent / 100 * value, minimum)


def attack(
    published: Sequence[ProtectedTable],
    finest: Mapping[str, Sequence[str]],
    covers: Covers,
    truth: Callable[[dict[str, str]], float],
    percent: float = 30.0,
    minimum: float = 3.0,
) -> list[Breach]:
    """Every primary cell of `published` whose attacker interval misses [v - lower, v + upper].

    `finest` lists the finest values per dimension name; `covers[dim](label)` the finest values
    a label stands for; `truth(labels)` the true count of a cell, from the records, to judge the
    intervals against.
    """
    attacker = Attacker(published, finest, covers)
    breaches = []
    for t, pt in enumerate(published):
        for cell in np.flatnonzero(pt.flags == 1):  # primary
            labels = pt.table.labels_of(int(cell))
            lower, upper = attacker.interval(labels)
            value = truth(labels)
            need_lo, need_up = required(value, percent, minimum)
            if lower > value - need_lo + 1e-6 or upper < value + need_up - 1e-6:
                breaches.append(Breach(t, labels, value, lower, upper, need_lo, need_up))
    return breaches
