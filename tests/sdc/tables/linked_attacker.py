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


def attack(
    published: Sequence[ProtectedTable],
    finest: Mapping[str, Sequence[str]],
    covers: Covers,
    truth: Callable[[dict[str, str]], float],
    percent: float = 30.0,
    minimum: float = 1.0,
) -> list[Breach]:
    """Every primary cell of `published` whose attacker interval misses [v - lower, v + upper].

    `finest` lists the finest values per dimension name; `covers[dim](label)` the finest values
    a label stands for (a table without a dimension covers all of it); `truth(labels)` the true
    count of a cell, from the records, to judge the intervals against.
    """
    names = list(finest)
    index = {combo: i for i, combo in enumerate(itertools.product(*(finest[n] for n in names)))}
    n_z = len(index)

    def columns(labels: dict[str, str]) -> list[int]:
        sets = [covers[n](labels[n]) if n in labels else frozenset(finest[n]) for n in names]
        return [index[c] for c in itertools.product(*(sorted(s) for s in sets))]

    rows: list[int] = []
    cols: list[int] = []
    rhs: list[float] = []
    targets: list[tuple[int, dict[str, str], list[int]]] = []
    for t, pt in enumerate(published):
        for cell in range(pt.table.n_cells):
            labels = pt.table.labels_of(cell)
            members = columns(labels)
            flag = int(pt.flags[cell])
            if flag == 0:  # published
                cols.extend(members)
                rows.extend([len(rhs)] * len(members))
                rhs.append(float(pt.published[cell]))
            elif flag == 1:  # primary
                targets.append((t, labels, members))
    a_eq = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(rhs), n_z))
    b_eq = np.array(rhs)
    breaches = []
    for t, labels, members in targets:
        c = np.zeros(n_z)
        c[members] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert lo.status == 0, lo.message
        lower = float(lo.fun)
        upper = np.inf if hi.status == 3 else -float(hi.fun)
        value = truth(labels)
        need_up = max(percent / 100 * value, minimum)
        need_lo = min(value, max(percent / 100 * value, minimum))
        if lower > value - need_lo + 1e-6 or upper < value + need_up - 1e-6:
            breaches.append(Breach(t, labels, value, lower, upper, need_lo, need_up))
    return breaches
