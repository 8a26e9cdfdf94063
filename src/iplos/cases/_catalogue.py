"""What `cases` needs from the register catalogue, as a narrow protocol with an adapter.

Submission validation asks whether a variable exists in a register and in which årganger, and
which registers hold given years (IPLOS to 2017, KPR from 2017); a coarsened grant names a level
of one of the variable's generalization hierarchies. The adapter reads `iplos.catalog` lazily, so
importing `cases` does not load the catalogue; tests may pass their own `CatalogueView`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from iplos.errors import IplosError


@dataclass(frozen=True)
class VariableInfo:
    """The catalogue facts validation uses about one variable."""

    name: str
    register: str
    role: str
    first_year: int
    last_year: int


class CatalogueView(Protocol):
    """The catalogue as `cases` sees it."""

    def variable(self, name: str, register: str) -> VariableInfo:
        """The variable; raises `IplosError` (saying what is wrong) when the register has none such."""
        ...

    def register_years(self) -> dict[str, tuple[int, int]]:
        """Register name -> (first årgang, last årgang), for registers an applicant may request."""
        ...

    def hierarchy_levels(self, name: str) -> tuple[tuple[str, ...], ...]:
        """Level names (level 0 first) of each generalization hierarchy of the variable; empty if none."""
        ...


class _CatalogAdapter:
    """`CatalogueView` over `iplos.catalog`."""

    def __init__(self) -> None:
        from iplos.catalog import catalog

        self._cat = catalog()
        self._levels: dict[str, tuple[tuple[str, ...], ...]] = {}

    def variable(self, name: str, register: str) -> VariableInfo:
        var = self._cat.variable(name, register=register)
        return VariableInfo(var.name, register, var.role, var.aargang_from, var.aargang_to)

    def register_years(self) -> dict[str, tuple[int, int]]:
        return {r.name: (r.first_year, r.last_year) for r in self._cat.registers}

    def hierarchy_levels(self, name: str) -> tuple[tuple[str, ...], ...]:
        if name not in self._levels:
            from iplos.catalog import hierarchies_for, hierarchy_for

            found: list[tuple[str, ...]] = []
            for h in hierarchies_for(name):
                try:
                    found.append(hierarchy_for(name, h).level_names)
                except IplosError:
                    continue
            self._levels[name] = tuple(found)
        return self._levels[name]


@cache
def default_catalogue() -> CatalogueView:
    """The packaged catalogue (loaded on first use)."""
    return _CatalogAdapter()


def coarser_levels(catalogue: CatalogueView, name: str) -> tuple[str, ...]:
    """Names of the levels above level 0 in any of the variable's hierarchies, without repeats."""
    found: list[str] = []
    for levels in catalogue.hierarchy_levels(name):
        found.extend(n for n in levels[1:] if n not in found)
    return tuple(found)


def registers_for_years(catalogue: CatalogueView, years: Iterable[int], names: Iterable[str]) -> list[str]:
    """Of the registers `names`, those holding any of `years`, in the given order."""
    spans = catalogue.register_years()
    wanted = set(years)
    return [n for n in names if n in spans and any(spans[n][0] <= y <= spans[n][1] for y in wanted)]
