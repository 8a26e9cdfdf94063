"""Reading an approved case: population, variables, approvals and the reviewer's coarsening."""

from __future__ import annotations

import pytest

from iplos.cases import CaseService
from iplos.cases.examples import drive
from iplos.config import Settings
from iplos.delivery._case import anonymisation_setup, linkage_request, population_from_text, required_levels
from iplos.errors import IplosError
from iplos.linkage import OutputColumn, VariableRef


@pytest.mark.parametrize(
    ("text", "low", "high", "home"),
    [
        ("Home-dwelling recipients aged 80+ at the end of the årgang", 80, None, True),
        ("Hjemmeboende brukere 67 år og eldre", 67, None, True),
        ("All recipients aged 67-79", 67, 79, False),
        ("Recipients of home-based services (hjemmetjenester) aged 80+", 80, None, True),
        ("All recipients", None, None, False),
    ],
)
def test_population_from_words(text: str, low: int | None, high: int | None, home: bool) -> None:
    pop = population_from_text(text)
    assert (pop.min_age, pop.max_age, pop.home_dwelling) == (low, high, home)
    assert bool(pop.institution_services) == home


def test_unclear_population_is_refused() -> None:
    with pytest.raises(IplosError, match="not understood"):
        population_from_text("people we find interesting")


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
