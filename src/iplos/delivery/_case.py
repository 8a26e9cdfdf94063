"""Read what an approved case asks for: the linkage request, the quasi-identifiers and their bounds.

The case records the variables (minus those the reviewer denied), the årganger, the population
as criteria on catalogue variables (turned here into the linkage's filter), the registers with their approvals, and the reviewer's required coarsening
(`coarsened` with a level name such as '5 years' or 'fylke'). Those levels become lower bounds for
the search on the extract column the variable turned into (`fodselsaar` becomes `alder`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iplos.cases import Case, default_catalogue, grant
from iplos.cases.population import Population as CasePopulation
from iplos.cases.population import (
    RegionCriterion,
    RegisterCondition,
    ServiceCriterion,
    codes_in_range,
    in_words,
)
from iplos.catalog import Hierarchy, catalog, deliverable, regions
from iplos.delivery._hierarchies import build_hierarchy, catalog_variable, institution_services
from iplos.delivery._plan import QuasiIdentifier
from iplos.errors import IplosError
from iplos.linkage import LinkageRequest, OutputColumn, Population, RecordFilter, ServiceFilter, VariableRef

AARGANG = "aargang"


def _service_codes(criterion: ServiceCriterion) -> frozenset[int]:
    codes = catalog().codelist("tjenestetype").codes
    wanted = {str(c) for c in criterion.codes}
    return frozenset(int(c.code) for c in codes if c.code in wanted or c.group in criterion.groups)


def _kommuner(region: RegionCriterion, years: Sequence[int]) -> dict[int, frozenset[str]]:
    """Per årgang, the kommuner (that årgang's classification) lying mostly in the named regions.

    A kommune of another year counts when at least half of its residents (as `regions.harmonise`
    estimates across merges and splits) were in one of the regions in the region's year.
    """
    out: dict[int, frozenset[str]] = {}
    wanted = set(region.codes)
    for year in sorted(set(years)):
        keep: set[str] = set()
        for m in regions.municipalities(year):
            if year == region.year:
                target: list[tuple[str, float | None]] = [(m.code, 1.0)]
            else:
                target = [(c.code, c.share) for c in regions.harmonise(m.code, year, region.year)]
            inside = 0.0
            for code, share in target:
                where = code if region.level == "kommune" else regions.county_of(code, region.year).code
                if where in wanted:
                    inside += share if share is not None else 1.0 / len(target)
            if inside >= 0.5:
                keep.add(m.code)
        out[year] = frozenset(keep)
    return out


def _record(condition: RegisterCondition) -> RecordFilter:
    ranges = []
    for text in condition.codes:
        span = codes_in_range(text)
        if span is None:
            raise IplosError(f"population condition on {condition.register}: {text!r} is not an ICD-10 code")
        ranges.append(span)
    return RecordFilter(condition.register, condition.variable, tuple(ranges), condition.within)


def population_filter(pop: CasePopulation, years: Sequence[int]) -> Population:
    """The linkage's filter for a case's structured population (groups and regions resolved).

    A population with no criteria (older cases gave it in words only) is refused unless it says
    `everyone`: nothing is guessed from the words.
    """
    if not pop.has_criteria:
        raise IplosError(
            f"the case's population {pop.description[:80]!r} has no criteria: a case states its "
            "population as criteria (age, sex, services, ...) or 'everyone'"
        )
    age = pop.age
    return Population(
        min_age=age.min_age if age else None,
        max_age=age.max_age if age else None,
        age_year=age.at.year if age and age.at else None,
        birth_first=pop.birth_years.first if pop.birth_years else None,
        birth_last=pop.birth_years.last if pop.birth_years else None,
        sex=frozenset(pop.sex),
        husstand=frozenset(pop.husstand),
        home_dwelling=pop.home_dwelling,
        institution_services=institution_services() if pop.home_dwelling else frozenset(),
        kommuner=_kommuner(pop.region, years) if pop.region is not None else None,
        functional_assessment=pop.functional_assessment,
        services=tuple(ServiceFilter(_service_codes(s), s.min_hours) for s in pop.services),
        records=tuple(_record(c) for c in pop.registers),
        description=in_words(pop, "en"),
    )


def _reference(register: str, name: str) -> VariableRef:
    if register == "kpr" and catalog().variable(name, register="kpr").table == "kontakt":
        return VariableRef("kpr", "kontakt", name)  # KPR's own table, not its IPLOS part
    reg = "iplos" if register in ("iplos", "kpr") else register
    variable = catalog().variable(name, register="iplos" if reg == "iplos" else reg)
    return VariableRef(reg, variable.table, variable.name)


def granted_variables(case: Case) -> list[tuple[str, str]]:
    """(register, name) of every variable the case grants: not denied, and its register approved."""
    return [(d.register, d.name) for d in grant(case, default_catalogue()).variables]


def given_registers(case: Case) -> frozenset[str]:
    """The registers with a recorded approval."""
    return frozenset(case.approved_registers())


def granted_years(case: Case) -> tuple[int, ...]:
    """The årganger the case grants: those whose register (IPLOS to 2017, KPR after) is approved."""
    return grant(case, default_catalogue()).years


def linkage_request(case: Case) -> LinkageRequest:
    """The linkage an approved case asks for."""
    if case.outcome not in ("approved", "partly_approved"):
        raise IplosError(f"case {case.case_id} is not approved (status {case.status})")
    given = grant(case, default_catalogue())
    if not given.years:
        raise IplosError(
            f"case {case.case_id} grants no årgang: the registers holding "
            f"{', '.join(str(y) for y, _ in given.withheld_years)} are not approved"
        )
    variables = [_reference(d.register, d.name) for d in given.variables]
    # A case for tables links what its tables need: every dimension and measure (once each).
    for t in case.content.tables:
        wanted = [(d.register, d.variable) for d in t.dimensions]
        wanted += [(t.measure_register, t.measure)] if t.measure else []
        for register, name in wanted:
            ref = _reference(register, name)
            if ref not in variables and (register in ("iplos", "kpr") or register in given_registers(case)):
                variables.append(ref)
    return LinkageRequest(
        case_id=case.case_id,
        years=given.years,
        variables=tuple(variables),
        population=population_filter(case.content.population, given.years),
        approvals=frozenset(case.approved_registers()),
    )


def population_words(case: Case) -> dict[str, list[str]]:
    """The case's population in words, per language (nb, en), as the vedtak states it."""
    pop = case.content.population
    view = default_catalogue()
    return {"nb": [in_words(pop, "nb", view)], "en": [in_words(pop, "en", view)]}


def required_levels(case: Case) -> dict[str, str]:
    """Variable name -> the level name the reviewer required (coarsened variables only)."""
    return {
        d.name: d.level
        for d in case.variable_decisions.values()
        if d.outcome == "coarsened" and d.level is not None
    }


@dataclass(frozen=True)
class Anonymisation:
    """The quasi-identifiers of an extract with their hierarchies, and the sensitive columns."""

    quasi_identifiers: tuple[QuasiIdentifier, ...]
    hierarchies: Mapping[str, Hierarchy]
    sensitive: tuple[str, ...]


def _aargang_hierarchy(years: Sequence[int]) -> Hierarchy:
    # The årgang stays as it is: with it in every class a person counts once per class.
    return Hierarchy.from_rows(
        AARGANG, [[str(y), "*"] for y in sorted(set(years))], level_names=["aargang", "all"]
    )


def _level_number(h: Hierarchy, level: str, column: str) -> int:
    try:
        return h.level(level)
    except IplosError:
        raise IplosError(
            f"the required level {level!r} of {column} is not a level of hierarchy {h.name!r} "
            f"({', '.join(h.level_names)})"
        ) from None


def anonymisation_setup(
    columns: Sequence[OutputColumn], years: Sequence[int], required: Mapping[str, str]
) -> Anonymisation:
    """Quasi-identifiers (catalogue role, plus `aargang`) with hierarchies and reviewer lower bounds."""
    qis = [QuasiIdentifier(AARGANG, "aargang", 0, 0)]
    hierarchies: dict[str, Hierarchy] = {AARGANG: _aargang_hierarchy(years)}
    sensitive: list[str] = []
    for out in columns:
        variable = catalog_variable(str(out.source), out.name)
        role = variable.role if variable is not None else "other"
        if out.name in ("antall_tjenester", "npr_episoder"):
            role = "sensitive"
        if role == "sensitive":
            sensitive.append(out.name)
            continue
        if role != "quasi_identifier":
            continue
        # The catalogue's deliverable hierarchy: the one whose levels the decision and letter name.
        hierarchy = deliverable(out.source.column, out.source.register).hierarchy
        if hierarchy is None:
            raise IplosError(f"no hierarchy for the quasi-identifier {out.name!r}")
        q = QuasiIdentifier(out.name, hierarchy)
        h = build_hierarchy(q, years)
        level = required.get(out.source.column)
        min_level = _level_number(h, level, out.name) if level is not None else 0
        q = QuasiIdentifier(out.name, hierarchy, min_level)
        qis.append(q)
        hierarchies[out.name] = h
    return Anonymisation(tuple(qis), hierarchies, tuple(sensitive))
