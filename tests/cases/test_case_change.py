"""A change application re-decides only what changed; a resubmission shows what the applicant changed."""

from __future__ import annotations

from dataclasses import replace

from iplos.cases import CaseService, VariableRequest
from iplos.cases.examples import Cast, drive


def test_change_application_keeps_unchanged_decisions(memory_service: CaseService, cast: Cast) -> None:
    s = memory_service
    base = drive(s, "approved", cast)
    change = s.create_draft(cast.applicant, kind="change", base_case_id=base.case_id)
    new = VariableRequest(
        "individuell_plan", "needed to see whether a care plan changes survival", "iplos", "forskning"
    )
    content = replace(
        change.content,
        variables=(
            *(v for v in change.content.variables if v.name != "kjonn"),
            replace(
                next(v for v in change.content.variables if v.name == "kjonn"),
                justification="needed now for sex-specific survival curves in the new substudy",
            ),
            new,
        ),
    )
    s.edit_draft(change.case_id, cast.applicant, content=content)
    s.submit(change.case_id, cast.applicant)
    s.start_review(change.case_id, cast.reviewer)
    case = s.get(change.case_id)
    carried = {k for k, d in case.variable_decisions.items() if "carried over" in d.reason}
    asked = {f"{v.register}.{v.name}" for v in case.content.variables}
    assert carried == asked - {"iplos.kjonn", "iplos.individuell_plan"}
    assert case.variable_decisions["iplos.kommune"].level == "fylke"  # the base's coarsening kept
    assert set(case.register_approvals) == {"iplos", "dar"}  # years, basis and population unchanged
    # Only the changed and the new variable are left to decide.
    s.decide_variable(change.case_id, cast.reviewer, "kjonn", "granted")
    s.decide_variable(change.case_id, cast.reviewer, "individuell_plan", "granted")
    s.decide_case(change.case_id, cast.reviewer, "approved", ["The change is justified."])
    assert s.get(change.case_id).status == "approved"


def test_new_years_need_new_register_approvals(memory_service: CaseService, cast: Cast) -> None:
    s = memory_service
    base = drive(s, "approved", cast)
    change = s.create_draft(cast.applicant, kind="new_period", base_case_id=base.case_id)
    s.edit_draft(change.case_id, cast.applicant, content=replace(change.content, aarganger=(2017, 2018)))
    s.submit(change.case_id, cast.applicant)
    s.start_review(change.case_id, cast.reviewer)
    case = s.get(change.case_id)
    assert case.register_approvals == {}
    assert len(case.variable_decisions) == len(case.content.variables)  # the variables are unchanged


def test_reviewer_sees_what_the_resubmission_changed(memory_service: CaseService, cast: Cast) -> None:
    s = memory_service
    case = drive(s, "returned", cast)
    assert s.resubmission_diff(case.case_id) == []
    variables = tuple(
        replace(v, justification="hours per week measure the volume of home care for the purpose")
        if v.name == "timer_per_uke"
        else v
        for v in case.content.variables
    )
    s.edit_draft(case.case_id, cast.applicant, content=replace(case.content, variables=variables))
    s.resubmit(case.case_id, cast.applicant, "Justified hours per week.")
    changes = s.resubmission_diff(case.case_id, cast.reviewer)
    assert [(c.path, c.kind) for c in changes] == [("variables.iplos.timer_per_uke.justification", "changed")]
