"""The applicant's previews on a synthetic register: real linkage and release search, no real data."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest

from iplos.cases import Case
from iplos.cases.examples import example_application, example_plan
from iplos.cases.model import VariableRequest
from iplos.delivery import anonymisation_setup, linkage_request
from iplos.engine import connect
from iplos.ident import KeyStore
from iplos.linkage import link
from iplos.preview import Previews, SyntheticRegister, as_if_granted, counter_consequences, risk_preview
from iplos.release import evaluate_plan, from_case

TODAY = date(2026, 12, 1)


def draft(**changes: object) -> Case:
    return Case(case_id="c-preview", content=replace(example_application(TODAY), **changes))


def test_synthetic_register_must_be_small() -> None:
    with pytest.raises(Exception, match="must be small"):
        SyntheticRegister(0.5)


def test_risk_preview_measures_persons_and_finds_an_anonymous_coarsening(
    preview_register: SyntheticRegister,
) -> None:
    preview = risk_preview(draft(), preview_register)
    assert preview.basis == "synthetic" and not preview.problems
    risk = preview.as_requested
    assert risk is not None and risk.persons > 0
    assert {"aargang", "alder", "kjonn", "kommune", "husstand"} <= set(preview.quasi_identifiers)
    assert 0 <= risk.uniques <= risk.in_small_classes <= risk.persons
    assert risk.expected_reidentified == risk.classes  # one correct match per class
    assert preview.suppressed_as_requested == risk.in_small_classes  # k alone: the small classes go
    assert not preview.anonymous_as_requested  # a birth year, kommune and a death date single people out
    suggestion = preview.suggestion
    assert suggestion is not None and suggestion.acceptable
    assert suggestion.suppressed_persons <= 0.05 * risk.persons
    for alt in preview.alternatives:
        assert alt.suppressed_persons <= 0.05 * risk.persons


def test_the_suggestion_is_what_the_release_path_finds_on_the_same_extract(
    preview_register: SyntheticRegister,
) -> None:
    """Re-link and evaluate the suggested levels with iplos.release directly: the same suppression."""
    case = as_if_granted(draft())
    preview = risk_preview(case, preview_register)
    assert preview.suggestion is not None
    settings = preview_register.settings()
    request = linkage_request(case)
    engine = connect(settings, "duckdb")
    try:
        extract = link(engine, KeyStore.open(settings), request)
        setup = anonymisation_setup(extract.columns, request.years, {})
        plan = from_case(
            {**example_plan(), "sensitive": [], "levels": dict(preview.suggestion.levels)},
            setup.quasi_identifiers,
            setup.hierarchies,
            setup.sensitive,
        )
        outcome = evaluate_plan(engine, extract.table, plan, setup.hierarchies)
    finally:
        engine.close()
    assert outcome.acceptable
    assert outcome.suppressed_persons == preview.suggestion.suppressed_persons


def test_fewer_quasi_identifiers_are_less_identifying(preview_register: SyntheticRegister) -> None:
    full = risk_preview(draft(), preview_register)
    few = risk_preview(
        draft(variables=(VariableRequest("kjonn", "sex", "iplos", "forskning"),), linkages=()),
        preview_register,
    )
    assert full.as_requested is not None and few.as_requested is not None
    assert few.as_requested.small_share < full.as_requested.small_share
    assert few.quasi_identifiers == ("aargang", "kjonn")


def test_a_draft_that_cannot_be_linked_is_told_why(preview_register: SyntheticRegister) -> None:
    preview = risk_preview(draft(aarganger=()), preview_register)
    assert preview.problems and preview.as_requested is None
    assert preview.to_dict()["problems"][0]["message"]


def test_counter_consequences_on_the_synthetic_register(preview_register: SyntheticRegister) -> None:
    case = as_if_granted(draft())
    suggestion = risk_preview(case, preview_register).suggestion
    assert suggestion is not None
    plan = {"levels": dict(suggestion.levels), "k": 5, "max_suppression": 0.05}
    good = counter_consequences(case, plan, preview_register)
    assert good.basis == "synthetic" and not good.problems and good.coarsening is not None
    assert good.coarsening.acceptable and good.after is not None and good.before is not None
    assert good.after.in_small_classes == 0 and good.after.highest <= 1 / 5
    assert good.coarsening.suppressed_persons == suggestion.suppressed_persons
    assert good.after.persons == good.persons - good.coarsening.suppressed_persons
    finest = {"levels": {name: 0 for name in suggestion.levels}, "k": 5, "max_suppression": 0.05}
    bad = counter_consequences(case, finest, preview_register)
    assert bad.coarsening is not None and not bad.coarsening.acceptable
    assert bad.suppressed_share > 0.05 and bad.coarsening.loss is None


def test_a_counter_as_the_pages_write_it_is_put_on_the_extract(preview_register: SyntheticRegister) -> None:
    """Levels keyed by variable (fodselsaar, not the extract's alder); the rest at their finest."""
    case = as_if_granted(draft())
    plan = example_plan()
    plan["levels"] = {name: level for name, level in plan["levels"].items() if name != "husstand"}
    answer = counter_consequences(case, plan, preview_register)
    assert not answer.problems and answer.coarsening is not None
    assert answer.coarsening.levels["alder"] == "5 years" and answer.coarsening.levels["kommune"] == "fylke"
    assert "husstand" in answer.at_finest and "alder" not in answer.at_finest


def test_a_counter_that_does_not_fit_the_extract_names_the_field(preview_register: SyntheticRegister) -> None:
    case = as_if_granted(draft())
    answer = counter_consequences(case, {**example_plan(), "levels": {"kommune": "planet"}}, preview_register)
    assert answer.coarsening is None
    assert "plan.levels.kommune" in {p.column for p in answer.problems}


def test_a_linked_case_is_measured_on_its_extract(preview_register: SyntheticRegister) -> None:
    """With the register at hand and the linkage recorded, the basis is the case's own extract."""
    case = replace(as_if_granted(draft()), linkage_summary={"rows": 1})
    suggestion = risk_preview(case, preview_register).suggestion
    assert suggestion is not None
    plan = {"levels": dict(suggestion.levels), "k": 5, "max_suppression": 0.05}
    answer = counter_consequences(case, plan, preview_register, register=preview_register.settings())
    assert answer.basis == "extract" and answer.coarsening is not None and answer.coarsening.acceptable
    not_linked = counter_consequences(
        replace(case, linkage_summary=None), plan, preview_register, register=preview_register.settings()
    )
    assert not_linked.basis == "synthetic"


def test_previews_are_kept_per_case_version_and_hold_no_identifier(
    preview_register: SyntheticRegister,
) -> None:
    previews = Previews(preview_register)
    case = draft()
    first = previews.risk(case)
    assert previews.risk(case) is first
    assert previews.risk(replace(case, version=case.version + 1)) is not first
    text = json.dumps(first.to_dict())
    assert not re.search(r"\d{11}", text) and "lopenr" not in text and "pseudonym" not in text
