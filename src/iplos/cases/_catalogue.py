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
    table: str = ""


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

    def deliverable_levels(self, name: str, register: str) -> tuple[str, ...]:
        """Level names (level 0 first) the variable can be delivered at; empty when it is delivered as
        it is. Raises `IplosError` saying why when the variable cannot be delivered at all."""
        ...

    def code_labels(self, name: str, register: str) -> dict[str, tuple[str, str]]:
        """Code -> (bokmål, English) label of the variable's code list; empty when it has none."""
        ...

    def service_groups(self) -> dict[str, tuple[str, str]]:
        """SSB's service groups (hjemmetjenester, ...) -> (bokmål, English) label."""
        ...

    def service_group_of(self) -> dict[str, str]:
        """Service code (Volven 9151) -> its SSB group."""
        ...

    def hour_based_services(self) -> frozenset[str]:
        """Service codes that record hours per week."""
        ...

    def region_codes(self, level: str, year: int) -> frozenset[str]:
        """Kommune or fylke numbers valid on 1 January `year`; empty when the year is not covered."""
        ...

    def is_icd10(self, code: str) -> bool:
        """Whether `code` (no dot) is an ICD-10 code, block or chapter start of the classification."""
        ...

    def value_range(self, name: str, register: str) -> tuple[float, float] | None:
        """The variable's (min, max) when the catalogue gives one."""
        ...


class _CatalogAdapter:
    """`CatalogueView` over `iplos.catalog`."""

    def __init__(self) -> None:
        from iplos.catalog import catalog

        self._cat = catalog()
        self._levels: dict[str, tuple[tuple[str, ...], ...]] = {}

    def variable(self, name: str, register: str) -> VariableInfo:
        var = self._cat.variable(name, register=register)
        return VariableInfo(var.name, register, var.role, var.aargang_from, var.aargang_to, var.table)

    def register_years(self) -> dict[str, tuple[int, int]]:
        return {r.name: (r.first_year, r.last_year) for r in self._cat.registers}

    def deliverable_levels(self, name: str, register: str) -> tuple[str, ...]:
        from iplos.catalog import deliverable

        return deliverable(name, register).levels

    def code_labels(self, name: str, register: str) -> dict[str, tuple[str, str]]:
        var = self._cat.variable(name, register=register)
        return {c.code: (c.label_nb, c.label_en) for c in var.codes}

    def service_groups(self) -> dict[str, tuple[str, str]]:
        return {g.code: (g.label_nb, g.label_en) for g in self._cat.codelist("tjenestetype").groups}

    def service_group_of(self) -> dict[str, str]:
        return {c.code: c.group for c in self._cat.codelist("tjenestetype").codes if c.group is not None}

    def hour_based_services(self) -> frozenset[str]:
        return frozenset(c.code for c in self._cat.codelist("tjenestetype").codes if c.hour_based)

    def region_codes(self, level: str, year: int) -> frozenset[str]:
        from iplos.catalog import regions

        try:
            if level == "fylke":
                return frozenset(c.code for c in regions.counties(year))
            return frozenset(m.code for m in regions.municipalities(year))
        except IplosError:
            return frozenset()

    def is_icd10(self, code: str) -> bool:
        from iplos.catalog.hierarchies import diagnosis_title

        return diagnosis_title(code, "ICD-10", "nb") is not None

    def value_range(self, name: str, register: str) -> tuple[float, float] | None:
        var = self._cat.variable(name, register=register)
        if var.min_value is None or var.max_value is None:
            return None
        return (var.min_value, var.max_value)

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


def coarser_levels(catalogue: CatalogueView, name: str, register: str = "iplos") -> tuple[str, ...]:
    """The levels above level 0 the variable can be delivered at (empty: it cannot be coarsened)."""
    try:
        return catalogue.deliverable_levels(name, register)[1:]
    except IplosError:
        return ()


def registers_for_years(catalogue: CatalogueView, years: Iterable[int], names: Iterable[str]) -> list[str]:
    """Of the registers `names`, those holding any of `years`, in the given order."""
    spans = catalogue.register_years()
    wanted = set(years)
    return [n for n in names if n in spans and any(spans[n][0] <= y <= spans[n][1] for y in wanted)]
