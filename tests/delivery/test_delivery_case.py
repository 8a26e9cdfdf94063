"""Reading an approved case: population, variables, approvals and the reviewer's coarsening."""

from __future__ import annotations

import pytest

from iplos.cases import (
    AgeRange,
    CaseService,
    Population,
    RegionCriterion,
    RegisterCondition,
    ServiceCriterion,
)
from iplos.cases.examples import drive
from iplos.catalog import deliverables
from iplos.config import Settings
from iplos.delivery._case import anonymisation_setup, linkage_request, population_filter, required_levels
from iplos.errors import IplosError
from iplos.linkage import LinkageRequest, OutputColumn, RecordFilter, ServiceFilter, VariableRef
from iplos.linkage._query import output_columns


def test_structured_population_keeps_every_criterion() -> None:
    """'Persons 67+ who received tjeneste 15 (home nursing)' keeps the service condition."""
    pop = Population(
        age=AgeRange(min_age=67),
        services=(ServiceCriterion(codes=(15,)),),
        description="Personer 67 år og eldre som mottok helsetjenester i hjemmet (tjeneste 15)",
    )
    f = population_filter(pop, [2015, 2016])
    assert (f.min_age, f.max_age, f.home_dwelling) == (67, None, False)
    assert f.services == (ServiceFilter(frozenset({15})),)


def test_groups_regions_and_diagnoses_are_resolved() -> None:
    pop = Population(
        services=(ServiceCriterion(groups=("hjemmetjenester",), min_hours=2),),
        region=RegionCriterion("fylke", ("46",), 2020),
        registers=(RegisterCondition("npr", "hoveddiagnose", ("I60-I69",)),),
        home_dwelling=True,
    )
    f = population_filter(pop, [2019, 2020])
    assert f.services[0].codes == {1, 2, 3, 15} and f.services[0].min_hours == 2
    assert f.kommuner is not None and "4601" in f.kommuner[2020] and "1201" in f.kommuner[2019]
    assert "0301" not in f.kommuner[2019]
    assert f.records == (RecordFilter("npr", "hoveddiagnose", (("I60", "I69"),)),)
    assert f.institution_services and 21 in f.institution_services


def test_population_in_words_only_is_refused() -> None:
    with pytest.raises(IplosError, match="has no criteria"):
        population_filter(Population.from_text("people we find interesting"), [2015])


def test_request_from_an_approved_case(settings: Settings) -> None:
    service = CaseService.from_settings(settings)
    case = drive(service, "partly_approved")  # the example denies 'hukommelse'
    request = linkage_request(case)
    names = [str(v) for v in request.variables]
    assert "iplos.funksjon.hukommelse" not in names
    assert "iplos.person.fodselsaar" in names and "dar.dodsfall.underliggende_dodsarsak" in names
    assert request.approvals >= {"iplos", "dar"}
    assert required_levels(case) == {"fodselsaar": "5 years", "kommune": "fylke"}
    service.close()


def test_required_levels_become_lower_bounds() -> None:
    columns = [
        OutputColumn("alder", VariableRef("iplos", "person", "fodselsaar"), "age"),
        OutputColumn("kommune", VariableRef("iplos", "person", "kommune"), ""),
        OutputColumn("kjonn", VariableRef("iplos", "person", "kjonn"), ""),
        OutputColumn("timer_per_uke", VariableRef("iplos", "tjeneste", "timer_per_uke"), ""),
    ]
    setup = anonymisation_setup(columns, (2014,), {"fodselsaar": "5 years", "kommune": "fylke"})
    bounds = {q.column: (q.min_level, q.max_level) for q in setup.quasi_identifiers}
    assert bounds == {"aargang": (0, 0), "alder": (1, None), "kommune": (1, None), "kjonn": (0, None)}
    assert setup.sensitive == ("timer_per_uke",)
    with pytest.raises(IplosError, match="not a level"):
        anonymisation_setup(columns, (2014,), {"kommune": "bydel"})


def test_every_deliverable_variable_is_carried_at_its_catalogue_levels() -> None:
    """The catalogue's deliverable levels are the levels linkage and delivery build, variable by variable."""
    for d in deliverables():
        if d.register == "kpr":
            continue  # the same tables as iplos, read under 'iplos'
        if d.table in ("diagnose", "episode", "dodsfall") or (
            d.table == "tjeneste" and d.name not in ("tjeneste", "timer_per_uke")
        ):
            continue  # delivered in their own tables (tests/delivery/test_delivery_tables.py)
        ref = VariableRef("iplos" if d.register == "iplos" else d.register, d.table, d.name)
        request = LinkageRequest.build("C-all", [2015], [ref], approvals=["iplos", d.register])
        columns = output_columns(request)
        assert [c.name for c in columns] == [d.column], d
        setup = anonymisation_setup(columns, [2015], {})
        if d.levels:
            assert setup.hierarchies[d.column].level_names[: len(d.levels)] == d.levels, d
            for level in d.coarser_levels:
                bound = anonymisation_setup(columns, [2015], {d.name: level})
                q = next(q for q in bound.quasi_identifiers if q.column == d.column)
                assert bound.hierarchies[d.column].level_names[q.min_level] == level
        else:
            assert d.column not in setup.hierarchies
