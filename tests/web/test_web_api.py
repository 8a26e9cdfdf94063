"""Whole cases through the JSON API: every workflow, every refused transition, login and errors."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from web_helpers import Api, body_for  # type: ignore[import-not-found]

from iplos.cases import COMMAND_TYPES, PERMISSIONS, ROLES, STATUSES, to_json
from iplos.cases.examples import drive, example_application, example_plan
from iplos.cases.permissions import commands_of

REVIEW = {"fodselsaar": ("coarsened", "5 years"), "kommune": ("coarsened", "fylke")}


def new_case(api: Api, user: str = "kari", **changes: Any) -> str:
    content = to_json(example_application(api.clock().date(), members=("ola",)))
    content.update(changes)
    response = api.post(user, "/api/cases", {"kind": "new", "content": content})
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def review(api: Api, case_id: str, deny: tuple[str, ...] = (), outcome: str = "approved") -> dict[str, Any]:
    case = api.get("rita", f"/api/cases/{case_id}").json()
    for v in case["content"]["variables"]:
        result, level = REVIEW.get(v["name"], ("granted", None))
        body = {"name": v["name"], "register": v["register"], "outcome": result, "level": level}
        if v["name"] in deny:
            body = {
                "name": v["name"],
                "register": v["register"],
                "outcome": "denied",
                "reason": "not necessary",
            }
        api.command("rita", case_id, "decide_variable", body)
    for reg in ("iplos", "dar"):
        api.command(
            "rita",
            case_id,
            "decide_register",
            {"register": reg, "outcome": "granted", "reference": f"{reg}-1"},
        )
    return api.command(
        "rita", case_id, "decide_case", {"outcome": outcome, "reasons": ["helseregisterloven § 19"]}
    )


def test_login(api: Api) -> None:
    assert (
        api.client.post("/api/auth/token", data={"username": "kari", "password": "wrong"}).status_code == 401
    )
    assert api.client.post("/api/auth/token", data={"username": "nobody", "password": "x"}).status_code == 401
    assert api.get(None, "/api/cases").status_code == 401
    assert api.client.get("/api/cases", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert api.get("kari", "/api/me").json()["role"] == "applicant"
    token = api.client.post(
        "/api/auth/token", data={"username": "per", "password": "correct horse battery staple"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.client.post("/api/auth/logout", headers=headers).status_code == 200
    assert api.client.get("/api/me", headers=headers).status_code == 401


def test_openapi_lists_every_command(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for name in COMMAND_TYPES:
        if name not in ("create_draft", "add_attachment"):
            assert f"/api/cases/{{case_id}}/{name}" in paths
    assert "/api/cases/{case_id}/attachments" in paths  # add_attachment: a multipart upload
    assert "/api/cases" in paths and "/api/cases/{case_id}/letter" in paths


def test_happy_path(api: Api) -> None:
    cid = new_case(api)
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    assert review(api, cid)["status"] == "approved"
    letter = api.get("kari", f"/api/cases/{cid}/letter", format="markdown")
    assert (
        letter.headers["content-type"].startswith("text/markdown")
        and "| iplos | kommune | forskning | fylke |" in letter.text
    )
    due = (api.clock() + timedelta(days=45)).date().isoformat()
    offer = api.command(
        "sven",
        cid,
        "make_offer",
        {
            "lines": [
                {"staff_group": "radgiver", "hours": 20, "description": "linkage"},
                {"staff_group": "statistiker", "hours": 6},
            ],
            "expected_delivery": due,
        },
    )
    assert offer["offers"][0]["total"] == 20 * 1350 + 6 * 1650
    api.command("ola", cid, "accept_offer")  # a project member may accept
    assert api.get("kari", f"/api/cases/{cid}/clock").json()["expected_delivery"] == due
    api.command("sven", cid, "record_linkage_done", {"summary": {"dar": {"matched": 812, "unmatched": 3}}})
    api.command("sven", cid, "propose_anonymisation", {"plan": example_plan(), "comment": "k=5"})
    finer = {**example_plan(k=3), "levels": {**example_plan()["levels"], "kommune": 0}}
    refused = api.post("kari", f"/api/cases/{cid}/counter_anonymisation", {"plan": finer})
    assert refused.status_code == 422 and refused.json()["problems"][0]["column"] == "plan.levels.kommune"
    # A plan the release could not enforce on the granted extract is refused when filed, not at answer.
    unenforceable = {**example_plan(k=3), "sensitive": ["kjonn"], "t": 0.5, "attacker": ["timer_per_uke"]}
    refused = api.post("kari", f"/api/cases/{cid}/counter_anonymisation", {"plan": unenforceable})
    assert refused.status_code == 422
    assert sorted(p["column"] for p in refused.json()["problems"]) == ["plan.attacker", "plan.sensitive"]
    counter = {**example_plan(k=3), "levels": {**example_plan()["levels"], "fodselsaar": "10 years"}}
    api.command("kari", cid, "counter_anonymisation", {"plan": counter, "comment": "k=3, coarser age"})
    api.command("sven", cid, "propose_anonymisation", {"plan": {**counter, "k": 5}})
    agreed = api.command("kari", cid, "agree_anonymisation", {"round": 3})
    assert agreed["agreed_round"] == 3 and len(agreed["anonymisation_rounds"]) == 3
    api.command("sven", cid, "record_delivery", {"delivery_id": "d-1", "manifest_sha256": "ab" * 32})
    api.command(
        "sven",
        cid,
        "record_hours",
        {"staff_group": "radgiver", "hours": 22.5, "work_date": api.clock().date().isoformat()},
    )
    api.command(
        "sven",
        cid,
        "record_hours",
        {"staff_group": "statistiker", "hours": 4, "work_date": api.clock().date().isoformat()},
    )
    draft = api.get("kari", f"/api/cases/{cid}/invoice").json()
    assert draft["number"] == "draft" and draft["total"] == 22.5 * 1350 + 4 * 1650
    invoiced = api.command("sven", cid, "issue_invoice")
    assert invoiced["invoices"][0]["total"] == draft["total"]
    api.command("kari", cid, "confirm_deletion", {"deleted_on": api.clock().date().isoformat()})
    assert api.command("ada", cid, "close", {"reason": "done"})["status"] == "closed"
    events = api.get("kari", f"/api/cases/{cid}/events").json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))
    assert api.get("rita", f"/api/cases/{cid}/verify").json()["ok"] is True
    assert api.get("rita", "/api/statistics").json()["per_status"]["closed"] >= 1


def test_return_and_resubmit_with_the_clock_stopped(api: Api) -> None:
    cid = new_case(api)
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    api.clock.advance(days=6)
    api.command(
        "rita", cid, "return_to_applicant", {"comments": ["Justify hukommelse.", "Shorten the period."]}
    )
    api.clock.advance(days=40)
    clock = api.get("kari", f"/api/cases/{cid}/clock").json()
    assert (clock["days_used"], clock["running"], clock["overdue"]) == (6, False, False)
    case = api.get("kari", f"/api/cases/{cid}").json()
    assert case["returns"] == [["Justify hukommelse.", "Shorten the period."]]
    content = case["content"]
    content["aarganger"] = [2014, 2015, 2016]
    api.command("kari", cid, "edit_draft", {"content": content})
    api.command("kari", cid, "resubmit", {"response": "Done."})
    api.clock.advance(days=4)
    clock = api.get("kari", f"/api/cases/{cid}/clock").json()
    assert (clock["days_used"], clock["days_left"], clock["running"]) == (10, 20, True)
    assert clock["deadline"] == (api.clock() + timedelta(days=20)).date().isoformat()
    assert review(api, cid)["status"] == "approved"
    assert api.get("kari", f"/api/cases/{cid}/clock").json()["decided_within_limit"] is True


def test_submit_lists_every_problem(api: Api) -> None:
    cid = new_case(api, population={}, recipients=[], deletion_date=None)
    response = api.post("kari", f"/api/cases/{cid}/submit")
    assert response.status_code == 422
    assert {p["column"] for p in response.json()["problems"]} == {"population", "recipients", "deletion_date"}
    assert api.get("kari", f"/api/cases/{cid}/letter").status_code == 409  # no vedtak yet
    assert api.get("kari", f"/api/cases/{cid}/diff").status_code == 409  # a new application has no base


def test_partial_approval(api: Api) -> None:
    cid = new_case(api)
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    refused = api.post("rita", f"/api/cases/{cid}/decide_case", {"outcome": "approved", "reasons": ["x"]})
    assert refused.status_code == 422 and len(refused.json()["problems"]) == 12
    assert review(api, cid, deny=("hukommelse",), outcome="partly_approved")["status"] == "partly_approved"
    letter = api.get("kari", f"/api/cases/{cid}/letter").json()
    assert [v["name"] for v in letter["data"]["denied_variables"]] == ["hukommelse"]


def test_appeal(api: Api) -> None:
    cid = new_case(api)
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    review(api, cid, deny=("hukommelse", "husstand"), outcome="partly_approved")
    api.command("kari", cid, "lodge_appeal", {"grounds": "hukommelse is the exposure of the study"})
    assert (
        api.post(
            "sven", f"/api/cases/{cid}/make_offer", {"lines": [], "expected_delivery": "2027-01-01"}
        ).status_code
        == 409
    )
    api.command(
        "rita", cid, "decide_appeal", {"outcome": "reopened", "reason": "The appeal shows necessity."}
    )
    assert review(api, cid)["status"] == "approved"
    appeals = api.get("kari", f"/api/cases/{cid}/letter").json()["data"]["appeals"]
    assert appeals[0]["outcome"] == "reopened"
    api.clock.advance(days=22)
    late = api.post("kari", f"/api/cases/{cid}/lodge_appeal", {"grounds": "late"})
    assert late.status_code == 409 and "deadline" in late.json()["detail"]


def test_change_application_with_diff(api: Api) -> None:
    base = drive(api.service, "approved")
    response = api.post("kari", "/api/cases", {"kind": "change", "base_case_id": base.case_id})
    assert response.status_code == 201
    change = response.json()
    content = change["content"]
    content["aarganger"] = [*content["aarganger"], 2011]
    content["variables"] = [v for v in content["variables"] if v["name"] != "hukommelse"]
    api.command("kari", change["case_id"], "edit_draft", {"content": content})
    diff = api.get("ola", f"/api/cases/{change['case_id']}/diff").json()
    assert {(d["path"], d["kind"]) for d in diff} == {
        ("aarganger", "added"),
        ("variables.iplos.hukommelse", "removed"),
    }
    assert api.post("per", "/api/cases", {"kind": "change", "base_case_id": base.case_id}).status_code == 404
    assert api.get("kari", f"/api/cases/{base.case_id}/diff").status_code == 409


def test_new_period(api: Api) -> None:
    base = drive(api.service, "approved")
    body = {"kind": "new_period", "base_case_id": base.case_id, "content": {"aarganger": [2017]}}
    case = api.post("kari", "/api/cases", body).json()
    assert case["kind"] == "new_period" and case["content"]["variables"] == to_json(base.content.variables)
    api.command("kari", case["case_id"], "submit")
    api.command("rita", case["case_id"], "start_review")
    for reg in ("kpr", "iplos"):
        api.command("rita", case["case_id"], "decide_register", {"register": reg, "outcome": "granted"})
    assert api.get("rita", f"/api/cases/{case['case_id']}/diff").json() == [
        {"path": "aarganger", "kind": "removed", "before": y, "after": None}
        for y in (2012, 2013, 2014, 2015, 2016)
    ] + [{"path": "aarganger", "kind": "added", "before": None, "after": 2017}]


def test_offer_declined(api: Api) -> None:
    case = drive(api.service, "offered")
    declined = api.command("kari", case.case_id, "decline_offer", {"reason": "too expensive"})
    assert declined["status"] == "offer_declined" and declined["offers"][0]["status"] == "declined"
    assert api.post("kari", f"/api/cases/{case.case_id}/accept_offer").status_code == 409
    assert api.command("kari", case.case_id, "withdraw", {"reason": "no funding"})["status"] == "withdrawn"


def test_concurrency_header(api: Api) -> None:
    case = drive(api.service, "under_review")
    body = {"name": "kjonn", "outcome": "granted"}
    ok = api.post(
        "rita", f"/api/cases/{case.case_id}/decide_variable", body, headers={"If-Match": str(case.version)}
    )
    assert ok.status_code == 200
    stale = api.post(
        "rita", f"/api/cases/{case.case_id}/decide_variable", body, headers={"If-Match": str(case.version)}
    )
    assert stale.status_code == 409 and stale.json()["error"] == "ConcurrencyError"
    assert (
        api.post(
            "rita", f"/api/cases/{case.case_id}/decide_variable", body, headers={"If-Match": "x"}
        ).status_code
        == 400
    )


# every refused transition: each status x each command its role may give elsewhere -> 409 with the reason
ACTING = {"applicant": "kari", "reviewer": "rita", "processor": "sven", "administrator": "ada"}


@pytest.fixture(scope="module")
def case_per_status(api: Api) -> dict[str, str]:
    return {status: drive(api.service, status).case_id for status in STATUSES}


@pytest.mark.parametrize("status", STATUSES)
def test_every_refused_transition(api: Api, case_per_status: dict[str, str], status: str) -> None:
    cid = case_per_status[status]
    case = api.service.get(cid)
    checked = 0
    for role in ROLES:
        # add_attachment is a multipart upload (tests/web/test_web_attachments.py checks its refusals)
        for name in sorted(
            commands_of(role) - PERMISSIONS[role][status] - {"create_draft", "add_attachment"}
        ):
            response = api.post(ACTING[role], f"/api/cases/{cid}/{name}", body_for(name, case, api.clock()))
            assert response.status_code == 409, (
                f"{role} {name} in {status}: {response.status_code} {response.text}"
            )
            assert f"while the case is {status}" in response.json()["detail"]
            checked += 1
    assert api.service.get(cid).version == case.version  # nothing was written
    assert checked > 0
