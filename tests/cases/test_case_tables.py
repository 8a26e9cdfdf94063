"""Aggregated output as asked: the application names its tables; no DPIA for anonymous tables alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from iplos.cases import (
    AgeRange,
    CaseService,
    CommandRefused,
    LegalBasis,
    Population,
    RegionCriterion,
    TableDimension,
    TableRequest,
)
from iplos.cases._catalogue import default_catalogue
from iplos.cases.examples import Cast, drive, example_application
from iplos.cases.validation import validate_application

CAT = default_catalogue()
TODAY = date(2026, 3, 2)
BERGEN = Population(region=RegionCriterion("kommune", ("4601",), 2020), age=AgeRange(min_age=67))


def tables_application() -> object:
    app = example_application(TODAY, members=("ola",))
    return replace(
        app,
        output="tables",
        variables=(),
        linkages=(),
        purposes=("planlegging",),
        legal_basis=LegalBasis(research=False, gdpr_article6="6(1)(e)", gdpr_article9="9(2)(h)"),
        aarganger=(2020, 2021),
        population=BERGEN,
        tables=(
            TableRequest(
                "mottakere",
                (TableDimension("fodselsaar", level="10 years"), TableDimension("kjonn")),
                "persons",
            ),
            TableRequest(
                "timer",
                (TableDimension("tjeneste", level="SSB group"), TableDimension("kommune", level="kommune")),
                "sum",
                measure="timer_per_uke",
                aarganger=(2021,),
            ),
        ),
    )


def _problems(app: object, dpia: bool = False) -> dict[str, str]:
    return {p.column or "": p.message for p in validate_application(app, "new", CAT, TODAY, None, dpia)}  # type: ignore[arg-type]


def test_a_municipality_tables_application_is_valid_without_a_dpia() -> None:
    assert _problems(tables_application()) == {}
    assert "legal_basis.dpia" in _problems(tables_application(), dpia=True)


def test_tables_are_validated_against_the_catalogue_field_by_field() -> None:
    bad = replace(
        tables_application(),  # type: ignore[type-var]
        tables=(
            TableRequest(
                "x",
                (
                    TableDimension("kommune", level="sentralitetsklasse"),
                    TableDimension("komune"),
                    TableDimension("timer_per_uke"),
                    TableDimension("sivilstand", "ssb"),
                ),
                "sum",
                measure="kjonn",
                aarganger=(2019,),
                universe=Population(age=AgeRange(min_age=200)),
            ),
            TableRequest("x", (), "persons", measure="timer_per_uke"),
        ),
    )
    got = _problems(bad)
    assert set(got) == {
        "tables[0].dimensions[0].level",
        "tables[0].dimensions[1].variable",
        "tables[0].dimensions[2].variable",
        "tables[0].dimensions[3].register",
        "tables[0].measure",
        "tables[0].aarganger",
        "tables[0].universe.age.min_age",
        "tables[1].name",
        "tables[1].dimensions",
        "tables[1].measure",
    }
    assert "fylke" in got["tables[0].dimensions[0].level"]


def test_microdata_with_tables_or_tables_without_any_are_refused() -> None:
    app = tables_application()
    assert "output" in _problems(
        replace(app, output="microdata", variables=example_application(TODAY).variables)
    )  # type: ignore[type-var]
    assert "tables" in _problems(replace(app, tables=()))  # type: ignore[type-var]


def test_reviewer_may_ask_for_a_dpia(memory_service: CaseService, cast: Cast) -> None:
    s = memory_service
    case = drive(s, "under_review", cast, application=tables_application())  # type: ignore[arg-type]
    s.return_to_applicant(
        case.case_id, cast.reviewer, ["Kommune by age is fine-grained: add a DPIA."], require_dpia=True
    )
    with pytest.raises(CommandRefused) as refused:
        s.resubmit(case.case_id, cast.applicant, "no")
    assert "legal_basis.dpia" in {p.column for p in refused.value.problems}  # type: ignore[attr-defined]
    c = s.get(case.case_id)
    s.edit_draft(
        case.case_id, cast.applicant, legal_basis=replace(c.content.legal_basis, dpia="DPIA 2026-03")
    )
    s.resubmit(case.case_id, cast.applicant, "DPIA added")
    for reg in ("kpr",):
        s.decide_register(case.case_id, cast.reviewer, reg, "granted", reference="KPR-1")
    s.decide_case(case.case_id, cast.reviewer, "approved", ["Anonymous tables for planning."])
    letter = s.letter(case.case_id)
    assert (
        "  - Tabell timer: sum av timer_per_uke etter tjeneste (SSB group), kommune (kommune), årganger 2021"
        in letter.markdown
    )
