"""Reading forms: årganger, the application form and command forms, with located problems."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from iplos.cases import Application, RateCard, from_json
from iplos.cases.commands import MakeOffer, ProposeAnonymisation, RecordHours
from iplos.cases.examples import example_application
from iplos.cases.population import (
    AgeRange,
    Population,
    RegionCriterion,
    RegisterCondition,
    ServiceCriterion,
)
from iplos.errors import Problem
from iplos.web import _forms, _population_form
from iplos.web._commands import command_from_form, fields_of


@given(st.sets(st.integers(2007, 2024), min_size=1, max_size=12))
def test_years_round_trip(years: set[int]) -> None:
    problems: list[Problem] = []
    text = _forms.years_text(tuple(years))
    assert sorted(_forms.parse_years(text, problems)) == sorted(years) and not problems


def test_years_that_are_no_years() -> None:
    problems: list[Problem] = []
    assert _forms.parse_years("2012-2014, 2016 – 2017", problems) == [2012, 2013, 2014, 2016, 2017]
    assert not problems
    _forms.parse_years("twelve, 2016-2012, 1900-2000", problems)
    assert [p.value for p in problems] == ["twelve", "2016-2012", "1900-2000"]
    assert all(p.column == "aarganger" and p.rule == "years" for p in problems)


def test_the_application_form_reads_back_what_it_shows() -> None:
    content = example_application(date(2026, 3, 2), members=("ola",))
    form = {
        "project.title": content.project.title,
        "project.summary": content.project.summary,
        "project.institution": content.project.institution,
        "project.leader": content.project.leader,
        "project.members": "ola",
        "project.start": content.project.start.isoformat() if content.project.start else "",
        "project.end": content.project.end.isoformat() if content.project.end else "",
        "project.funding": content.project.funding,
        "legal_basis.research": "on",
        "legal_basis.rek_reference": content.legal_basis.rek_reference,
        "legal_basis.dpia": content.legal_basis.dpia,
        "legal_basis.gdpr_article6": content.legal_basis.gdpr_article6,
        "legal_basis.gdpr_article9": content.legal_basis.gdpr_article9,
        "aarganger": "2012-2016",
        "population.age.min_age": "80",
        "population.services[0].codes": "",
        "population.services[0].groups": ["hjemmetjenester"],
        "population.services[1].codes": "",
        "population.home_dwelling": "on",
        "population.registers[0].variable": "",
        "population.description": content.population.description,
        "output": "microdata",
        "recipients": "\n".join(content.recipients),
        "storage_security": content.storage_security,
        "deletion_date": content.deletion_date.isoformat() if content.deletion_date else "",
    }
    for i, v in enumerate(content.variables):
        form[f"variables[{i}].justification"] = v.justification
        form[f"variables[{i}].purpose"] = "forskning"
    read, problems = _forms.read_application(content, form, ["forskning"])
    assert not problems and read == content
    assert _forms.read_application(
        content, {**form, **_population_form.population_fields(content.population)}, ["forskning"]
    ) == (content, [])
    bad, problems = _forms.read_application(content, {**form, "project.end": "1.1.2030", "output": "x"}, [])
    assert bad is None and [(p.column, p.rule) for p in problems] == [("project.end", "date")]


def test_the_population_builder_reads_every_criterion() -> None:
    form = {
        "population.age.min_age": "67",
        "population.age.max_age": "90",
        "population.age.at": "2016-12-31",
        "population.sex": ["2"],
        "population.services[0].codes": "15, 16",
        "population.services[0].min_hours": "2,5",
        "population.husstand": ["1"],
        "population.region.level": "fylke",
        "population.region.codes": "03, 46",
        "population.region.year": "2024",
        "population.functional_assessment": "on",
        "population.registers[0].variable": "npr.hoveddiagnose",
        "population.registers[0].codes": "I60-I69",
        "population.registers[0].within": "aargang",
    }
    problems: list[Problem] = []
    data = _population_form.read_population(form, problems)
    assert not problems
    pop = from_json(Population, data)
    assert pop == Population(
        age=AgeRange(67, 90, date(2016, 12, 31)),
        sex=(2,),
        services=(ServiceCriterion(codes=(15, 16), min_hours=2.5),),
        husstand=(1,),
        region=RegionCriterion("fylke", ("03", "46"), 2024),
        functional_assessment=True,
        registers=(RegisterCondition("npr", "hoveddiagnose", ("I60-I69",), "aargang"),),
    )
    assert (
        from_json(
            Population, _population_form.read_population(_population_form.population_fields(pop), problems)
        )
        == pop
        and not problems
    )
    _population_form.read_population(
        {
            "population.age.min_age": "old",
            "population.services[0].codes": "15, home",
            "population.region.codes": "0301",
            "population.registers[0].variable": "",
            "population.registers[0].codes": "I63",
        },
        problems,
    )
    assert [(p.column, p.rule) for p in problems] == [
        ("population.age.min_age", "number"),
        ("population.services[0].codes[1]", "number"),
        ("population.region.level", "required"),
        ("population.region.year", "required"),
        ("population.registers[0].variable", "required"),
    ]


def test_cart_helpers_keep_one_of_each() -> None:
    content = Application()
    once = _forms.with_variable(content, "iplos", "kommune")
    assert _forms.with_variable(once, "iplos", "kommune") == once
    assert _forms.without_item(once, "variables", 0) == content
    assert _forms.without_item(once, "variables", 5) == once
    two = _forms.with_linkage(_forms.with_linkage(content))
    assert [link.register for link in two.linkages] == ["dar", "npr"]


def fields(**values: str | list[str]) -> dict[str, list[str]]:
    return fields_of((k, x) for k, v in values.items() for x in ([v] if isinstance(v, str) else v))


def test_command_forms() -> None:
    card = RateCard.default()
    offer, problems = command_from_form(
        "make_offer",
        fields(**{"hours.radgiver": "20", "hours.statistiker": "6,5", "expected_delivery": "2026-05-01"}),
        card,
    )
    assert not problems and isinstance(offer, MakeOffer)
    assert [(line.staff_group, line.hours) for line in offer.lines] == [
        ("radgiver", 20.0),
        ("statistiker", 6.5),
    ]
    plan, _ = command_from_form(
        "propose_anonymisation",
        fields(
            qi=["fodselsaar", "kjonn"],
            **{"level.fodselsaar": "5 years", "level.kjonn": "0", "k": "5", "max_suppression": "0.05"},
        ),
        card,
    )
    assert isinstance(plan, ProposeAnonymisation)
    assert plan.plan["levels"] == {"fodselsaar": "5 years", "kjonn": 0} and plan.plan["k"] == 5
    none, problems = command_from_form(
        "record_hours", fields(staff_group="radgiver", hours="many", work_date="2026-03-02"), card
    )
    assert none is None and problems[0].column == "hours" and problems[0].rule == "number"
    hours, _ = command_from_form(
        "record_hours", fields(staff_group="radgiver", hours="1 234,5", work_date="2026-03-02"), card
    )
    assert isinstance(hours, RecordHours) and hours.hours == 1234.5
    missing, problems = command_from_form("record_hours", fields(staff_group="radgiver", hours="2"), card)
    assert missing is None and "work_date" in problems[0].message
    bad_json, problems = command_from_form("record_linkage_done", fields(summary="{not json"), card)
    assert bad_json is None and problems[0].column == "summary"
