"""Submission validation against the catalogue, the rate card and the decision letter's content."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from iplos.cases import LinkageRequest, RateCard, VariableRequest, involved_registers, validate_application
from iplos.cases._catalogue import default_catalogue
from iplos.cases.examples import example_application

TODAY = date(2026, 3, 2)
APP = example_application(TODAY)
CAT = default_catalogue()


def problems(app: object, **kw: object) -> dict[str, str]:
    found = validate_application(app, "new", CAT, TODAY, **kw)  # type: ignore[arg-type]
    out: dict[str, str] = {}
    for p in found:
        out[p.column or ""] = f"{out[p.column or '']} | {p.message}" if p.column in out else p.message
    return out


def test_example_is_valid() -> None:
    assert problems(APP) == {}


def test_every_problem_at_once() -> None:
    bad = replace(
        APP,
        project=replace(APP.project, title="", end=date(2020, 1, 1)),
        legal_basis=replace(APP.legal_basis, rek_reference=""),
        purposes=("styring",),
        variables=(
            *APP.variables,
            VariableRequest("kommune", "again, to look at regional variation"),
            VariableRequest("komune", "a typo in the variable name here"),
            VariableRequest("pseudonym", "we want the key to link ourselves"),
            VariableRequest("sivilstand", "marital status of the recipients", "ssb"),
            VariableRequest("kjonn", "why"),
        ),
        aarganger=(2006, 2012),
        linkages=(*APP.linkages, LinkageRequest("kpr", "x")),
        deletion_date=date(2025, 1, 1),
    )
    found = problems(bad)
    assert "project.title" in found
    assert "project ends before it starts" in found["project.end"]
    assert "legal_basis.rek_reference" in found
    assert "forskning" in found["purposes"]
    assert "aarganger[0]" in found
    n = len(APP.variables)
    assert "variable requested twice" in found[f"variables[{n}].name"]
    assert "komune" in found[f"variables[{n + 1}].name"] and "kommune" in found[f"variables[{n + 1}].name"]
    assert "cannot be requested" in found[f"variables[{n + 2}].name"]
    assert "linkage request" in found[f"variables[{n + 3}].register"]
    assert f"variables[{n + 4}].justification" in found
    assert "cannot link" in found[f"linkages[{len(APP.linkages)}].register"]
    assert "future" in found["deletion_date"]


def test_variable_missing_in_a_year() -> None:
    found = problems(
        replace(
            APP,
            variables=(
                VariableRequest("vurderingsdato", "dates of the assessments made", purpose="forskning"),
            ),
        )
    )
    assert found == {} or all("årgang" in m for m in found.values())


def test_registers_follow_the_years() -> None:
    assert involved_registers(APP, CAT) == ("iplos", "dar")
    assert involved_registers(replace(APP, aarganger=(2016, 2017, 2018)), CAT) == ("iplos", "kpr", "dar")
    assert involved_registers(replace(APP, aarganger=(2019,)), CAT) == ("kpr", "dar")


def test_new_period_keeps_variables_and_asks_new_years() -> None:
    base = APP
    same_years = validate_application(base, "new_period", CAT, TODAY, base)
    assert any(p.rule == "new_period" for p in same_years)
    fewer = replace(base, variables=base.variables[:2], aarganger=(2017,))
    assert {p.column for p in validate_application(fewer, "new_period", CAT, TODAY, base)} == {"variables"}


def test_rate_card_default() -> None:
    card = RateCard.default()
    assert card.currency == "NOK" and {"radgiver", "statistiker"} <= set(card.rates)
    assert all(900 < r.rate < 2500 for r in card.rates.values())


def test_each_variable_names_its_purpose_and_a_short_reason_states_the_rule() -> None:
    found = problems(
        replace(
            APP,
            purposes=("forskning", "planlegging"),
            variables=(
                VariableRequest("kjonn", "why", purpose="planlegging"),
                VariableRequest("husstand", "living alone predicts need of home care"),
                VariableRequest("kommune", "regional variation in the services", purpose="styring"),
            ),
        )
    )
    assert "§ 1-3" in found["variables[0].justification"]
    assert "is needed for the purpose 'planlegging'" in found["variables[0].justification"]
    assert "at least 10 characters" in found["variables[0].justification"]
    assert "forskning, planlegging" in found["variables[1].purpose"]
    assert "'styring' is not one of the application's purposes" in found["variables[2].purpose"]
