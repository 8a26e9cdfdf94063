"""The structured population: validated against the catalogue field by field, rendered in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from iplos.cases import (
    AgeRange,
    BirthYears,
    CaseService,
    Population,
    RegionCriterion,
    RegisterCondition,
    ServiceCriterion,
    from_json,
    to_json,
)
from iplos.cases._catalogue import default_catalogue
from iplos.cases.examples import Cast, drive, example_application
from iplos.cases.population import describe, in_words, validate_population

CAT = default_catalogue()
YEARS = (2010, 2011)


def _problems(pop: Population, linked: tuple[str, ...] = ()) -> dict[str, str]:
    return {p.column or "": p.message for p in validate_population(pop, CAT, YEARS, linked)}


def test_home_nursing_67_plus_keeps_the_service_condition() -> None:
    pop = Population(age=AgeRange(min_age=67), services=(ServiceCriterion(codes=(15,)),))
    assert _problems(pop) == {}
    assert describe(pop, "en", CAT) == [
        "aged 67 or older at the end of the årgang",
        "received service 15 (Health care at home) in the årgang",
    ]
    nb = describe(pop, "nb", CAT)
    assert nb[0] == "67 år eller eldre ved utgangen av årgangen"
    assert nb[1] == "mottok tjeneste 15 (Helsetjenester i hjemmet) i årgangen"


def test_every_problem_at_once_by_field() -> None:
    pop = Population(
        age=AgeRange(min_age=90, max_age=80),
        birth_years=BirthYears(first=1800),
        sex=(3,),
        services=(ServiceCriterion(codes=(99,), groups=("nope",)), ServiceCriterion(codes=(6,), min_hours=2)),
        husstand=(7,),
        region=RegionCriterion("kommune", ("1504", "9999"), 2024),
        registers=(
            RegisterCondition("npr", "hoveddiagnose", ("I69-I60", "XYZ")),
            RegisterCondition("npr", "helseforetak", ("1",)),
        ),
    )
    got = _problems(pop)
    assert set(got) == {
        "population.age.max_age",
        "population.birth_years.first",
        "population.sex[0]",
        "population.services[0].codes[0]",
        "population.services[0].groups[0]",
        "population.services[1].min_hours",
        "population.husstand[0]",
        "population.region.codes[0]",
        "population.region.codes[1]",
        "population.registers[0].register",
        "population.registers[0].codes[0]",
        "population.registers[0].codes[1]",
        "population.registers[1].variable",
    }
    assert "never hold" in got["population.services[1].min_hours"]
    assert "needs a linkage request for npr" in got["population.registers[0].register"]


def test_words_only_or_nothing_is_a_problem() -> None:
    assert "in words only" in _problems(Population.from_text("alle over 67"))["population"]
    assert "missing" in _problems(Population())["population"]
    assert _problems(Population(everyone=True)) == {}


def test_stroke_cohort_from_npr_is_valid_with_its_linkage() -> None:
    pop = Population(registers=(RegisterCondition("npr", "hoveddiagnose", ("I60-I69",)),))
    assert _problems(pop, ("npr",)) == {}
    assert in_words(pop, "en", CAT) == "an NPR episode with hoveddiagnose in I60-I69 in the period"


def test_population_survives_the_json_round_trip_and_old_text() -> None:
    pop = Population(
        age=AgeRange(67, None, date(2016, 12, 31)),
        region=RegionCriterion("fylke", ("46",), 2020),
        registers=(RegisterCondition("npr", "hoveddiagnose", ("I63",), "aargang"),),
    )
    assert from_json(Population, to_json(pop)) == pop
    assert from_json(Population, "Alle over 67") == Population(description="Alle over 67")


def test_letter_states_the_population_in_words(memory_service: CaseService, cast: Cast) -> None:
    app = example_application(memory_service.now().date(), members=("ola",))
    content = replace(
        app,
        population=Population(age=AgeRange(min_age=67), services=(ServiceCriterion(codes=(15,)),)),
    )
    case = drive(memory_service, "approved", cast, application=content)
    letter = memory_service.letter(case.case_id)
    assert "  - mottok tjeneste 15 (Helsetjenester i hjemmet) i årgangen" in letter.markdown
    assert letter.data["population"]["en"][0] == "aged 67 or older at the end of the årgang"


def test_everyone_is_said_in_words() -> None:
    assert describe(Population(everyone=True), "nb") == ["alle personer i årgangene"]
    assert "combined" in _problems(Population(everyone=True, sex=(1,)))["population.everyone"]
