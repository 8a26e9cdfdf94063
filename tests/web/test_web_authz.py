"""The authorisation matrix: each role x each command x own / other case, through the API.

The cells are generated from `PERMISSIONS`; the expected answers come from the table below,
written independently of it: an applicant never learns of another's case (404), a role that may
never give a command gets 403, and an allowed command in a status that permits it succeeds.
"""

from __future__ import annotations

import pytest
from web_helpers import Api, body_for  # type: ignore[import-not-found]

from iplos.cases import COMMAND_TYPES, PERMISSIONS, ROLES, STATUSES, Actor, Case, Role
from iplos.cases.examples import drive, example_plan
from iplos.cases.permissions import commands_of, statuses_allowing

EXPECTED: dict[str, set[str]] = {
    "applicant": {
        "create_draft",
        "edit_draft",
        "submit",
        "resubmit",
        "withdraw",
        "lodge_appeal",
        "accept_offer",
        "decline_offer",
        "counter_anonymisation",
        "agree_anonymisation",
        "confirm_deletion",
        "add_attachment",
    },
    "reviewer": {
        "start_review",
        "return_to_applicant",
        "decide_variable",
        "decide_register",
        "decide_case",
        "decide_appeal",
        "close",
    },
    "processor": {
        "make_offer",
        "record_linkage_done",
        "propose_anonymisation",
        "agree_anonymisation",
        "start_delivery",
        "record_delivery",
        "record_hours",
        "issue_invoice",
    },
    "administrator": {"close"},
}
USER = {"applicant": "kari", "reviewer": "rita", "processor": "sven", "administrator": "ada"}
USER_ACTOR: dict[str, Actor] = {
    "applicant": Actor("kari", "applicant"),
    "reviewer": Actor("rita", "reviewer"),
    "processor": Actor("sven", "processor"),
    "administrator": Actor("ada", "administrator"),
}
OTHER = {"applicant": "per", "reviewer": "rita", "processor": "sven", "administrator": "ada"}


def prepare(api: Api, name: str, role: str, case: Case) -> Case:
    """Bring a case where a permitted command also passes its own rules."""
    s, cid = api.service, case.case_id
    if name == "decide_case":
        drive_decisions(api, case)
    elif name == "agree_anonymisation" and role == "processor":
        s.counter_anonymisation(cid, USER_ACTOR["applicant"], example_plan(k=3))
    elif name == "issue_invoice":
        s.record_hours(cid, USER_ACTOR["processor"], "radgiver", 1.5)
    return s.get(cid)


def drive_decisions(api: Api, case: Case) -> None:
    for v in case.content.variables:
        api.service.decide_variable(
            case.case_id, USER_ACTOR["reviewer"], v.name, "granted", register=v.register
        )
    for reg in ("iplos", "dar"):
        api.service.decide_register(case.case_id, USER_ACTOR["reviewer"], reg, "granted")


def test_permissions_match_the_independent_table() -> None:
    for role in ROLES:
        assert commands_of(role) == EXPECTED[role], role


def test_drafts_are_opened_by_applicants_only(api: Api) -> None:
    for role, user in USER.items():
        response = api.post(user, "/api/cases", {"kind": "new"})
        assert response.status_code == (201 if role == "applicant" else 403), role


CELLS = [
    (role, name, own)
    for name in COMMAND_TYPES
    if name not in ("create_draft", "add_attachment")  # an upload: test_web_attachments.py
    for role in ROLES
    for own in ("own", "other")
]


@pytest.fixture(scope="module")
def pristine(api: Api) -> dict[str, str]:
    """One untouched example case per status, reused by the cells that must be refused."""
    return {}


def _status_for(role: Role, name: str) -> str:
    mine = statuses_allowing(role, name)
    if mine:
        return mine[0]
    return next(s for r in ROLES for s in statuses_allowing(r, name))


@pytest.mark.parametrize(("role", "name", "own"), CELLS)
def test_authorisation_matrix(api: Api, pristine: dict[str, str], role: Role, name: str, own: str) -> None:
    status = _status_for(role, name)
    allowed = name in EXPECTED[role]
    user = USER[role] if own == "own" else OTHER[role]
    expected = 404 if (role, own) == ("applicant", "other") else 200 if allowed else 403
    if expected == 200:
        case = prepare(api, name, role, drive(api.service, status))  # type: ignore[arg-type]
    else:
        if status not in pristine:
            pristine[status] = drive(api.service, status).case_id  # type: ignore[arg-type]
        case = api.service.get(pristine[status])
    response = api.post(user, f"/api/cases/{case.case_id}/{name}", body_for(name, case, api.clock()))
    assert response.status_code == expected, f"{user} ({role}) {name} in {status}: {response.text}"
    after = api.service.get(case.case_id)
    assert after.version == case.version + (1 if expected == 200 else 0)


QUERIES = ["", "/events", "/clock", "/letter", "/invoice"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("own", ["own", "other"])
def test_query_matrix(api: Api, pristine: dict[str, str], query: str, role: Role, own: str) -> None:
    if "approved" not in pristine:
        pristine["approved"] = drive(api.service, "approved").case_id
    user = USER[role] if own == "own" else OTHER[role]
    response = api.get(user, f"/api/cases/{pristine['approved']}{query}")
    assert response.status_code == (404 if (role, own) == ("applicant", "other") else 200), response.text


@pytest.mark.parametrize("role", ROLES)
def test_staff_queries(api: Api, pristine: dict[str, str], role: Role) -> None:
    if "approved" not in pristine:
        pristine["approved"] = drive(api.service, "approved").case_id
    staff = 403 if role == "applicant" else 200
    assert api.get(USER[role], "/api/statistics").status_code == staff
    assert api.get(USER[role], f"/api/cases/{pristine['approved']}/verify").status_code == staff
    admin = 200 if role == "administrator" else 403
    assert api.get(USER[role], "/api/users").status_code == admin
    new_user = {"username": f"new-{role}", "password": "a very long password", "role": "reviewer"}
    assert api.post(USER[role], "/api/users", new_user).status_code == (201 if admin == 200 else 403)


def test_applicant_listing_hides_other_cases(api: Api) -> None:
    mine = {c["case_id"] for c in api.get("kari", "/api/cases").json()}
    theirs = {c["case_id"] for c in api.get("per", "/api/cases").json()}
    everything = {c["case_id"] for c in api.get("rita", "/api/cases").json()}
    assert mine and not (mine & theirs) and mine <= everything
    assert {c["owner"] for c in api.get("ola", "/api/cases").json()} <= {"kari"}


def test_every_status_and_role_is_covered() -> None:
    assert {s for role in ROLES for s, cmds in PERMISSIONS[role].items() if cmds} | {
        "closed",
        "withdrawn",
    } == set(STATUSES)
