"""Granted = delivered: submission, decisions, plans and the letter speak the catalogue's levels."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from iplos.cases import CaseService, CommandRefused, VariableRequest, grant
from iplos.cases._catalogue import default_catalogue
from iplos.cases.examples import Cast, drive, example_application, example_plan
from iplos.cases.model import LinkageRequest, VariableDecision
from iplos.cases.validation import level_options, plan_below_required, validate_application

CAT = default_catalogue()
WHY = "needed to follow the services over time for the purpose"


def _problems(
    variables: tuple[VariableRequest, ...], linkages: tuple[LinkageRequest, ...] = ()
) -> dict[str, str]:
    app = example_application(date(2026, 3, 2))
    app = replace(app, variables=variables, linkages=(*app.linkages, *linkages))
    return {
        f"{p.column}:{p.value}": p.message
        for p in validate_application(app, "new", CAT, date(2026, 3, 2))
        if p.rule == "deliverable"
    }


def test_submission_refuses_what_cannot_be_delivered() -> None:
    got = _problems(
        (
            VariableRequest("leverandor_orgnr", WHY),
            VariableRequest("bydel", WHY),
            VariableRequest("innskrivningsdato", WHY, "npr"),
            VariableRequest("hoveddiagnose", WHY, "npr"),
            VariableRequest("startdato", WHY),
            VariableRequest("kjonn", WHY),
        ),
        (LinkageRequest("npr", "NPR 25/1", "stroke"),),
    )
    # Service dates and NPR episodes are delivered in their own tables; these two are not at all.
    assert set(got) == {"variables[0].name:leverandor_orgnr", "variables[1].name:bydel"}
    assert "organisation number" in got["variables[0].name:leverandor_orgnr"]


def test_decide_variable_offers_and_accepts_only_deliverable_levels(
    memory_service: CaseService, cast: Cast
) -> None:
    case = drive(memory_service, "under_review", cast)
    options = level_options(case.content, CAT)
    assert options["iplos.kommune"] == ("fylke", "landsdel", "all")
    assert options["iplos.fodselsaar"] == ("5 years", "10 years", "20 years", "all")
    assert options["iplos.hukommelse"] == ()
    with pytest.raises(CommandRefused, match="cannot be delivered at level 'sentralitetsklasse'"):
        memory_service.decide_variable(
            case.case_id, cast.reviewer, "kommune", "coarsened", level="sentralitetsklasse"
        )
    with pytest.raises(CommandRefused, match="delivered as it is"):
        memory_service.decide_variable(case.case_id, cast.reviewer, "hukommelse", "coarsened", level="all")
    memory_service.decide_variable(case.case_id, cast.reviewer, "kommune", "coarsened", level="fylke")


def test_plan_names_only_deliverable_levels() -> None:
    decisions = [
        VariableDecision("iplos", "fodselsaar", "coarsened", "5 years"),
        VariableDecision("iplos", "kommune", "coarsened", "fylke"),
        VariableDecision("iplos", "hukommelse", "granted"),
    ]
    assert plan_below_required(example_plan(), decisions, CAT) == []
    plan = {**example_plan(), "levels": {"fodselsaar": "alder", "kommune": "kommune", "hukommelse": 1}}
    got = {p.column: p.rule for p in plan_below_required(plan, decisions, CAT)}
    assert got == {
        "plan.levels.fodselsaar": "deliverable_level",
        "plan.levels.kommune": "required_coarsening",
        "plan.levels.hukommelse": "deliverable_level",
    }


def test_kpr_denied_narrows_years_and_letter(memory_service: CaseService, cast: Cast) -> None:
    today = memory_service.now().date()
    content = replace(example_application(today, members=("ola",)), aarganger=(2016, 2017, 2018))
    case = drive(memory_service, "under_review", cast, application=content)
    cid = case.case_id
    for v in case.content.variables:
        memory_service.decide_variable(cid, cast.reviewer, v.name, "granted", register=v.register)
    memory_service.decide_register(cid, cast.reviewer, "iplos", "granted", reference="IPLOS-1")
    memory_service.decide_register(cid, cast.reviewer, "kpr", "denied", reason="KPR not approved for 2018")
    memory_service.decide_register(cid, cast.reviewer, "dar", "granted", reference="DAR-1")
    memory_service.decide_case(cid, cast.reviewer, "partly_approved", ["KPR is not approved."])
    case = memory_service.get(cid)
    given = grant(case, CAT)
    assert given.years == (2016, 2017) and given.withheld_years == ((2018, "kpr"),)
    letter = memory_service.letter(cid)
    assert letter.data["aarganger"] == [2016, 2017]
    assert "Årgang 2018: kpr er ikke godkjent." in letter.markdown
    assert "Årganger: 2016, 2017." in letter.markdown
