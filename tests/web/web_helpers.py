"""Helpers of the web tests: the users, a client that sends requests as one of them, command bodies."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from iplos.cases import Case, CaseService, to_json
from iplos.cases.examples import ManualClock, example_plan
from iplos.web import create_app

with warnings.catch_warnings():
    # starlette 1.x warns once, at import, that it would rather use httpx2; the client works with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
USERS = {
    "kari": "applicant",  # owner of the example cases
    "ola": "applicant",  # project member of the example cases
    "per": "applicant",  # a stranger to them
    "rita": "reviewer",
    "sven": "processor",
    "ada": "administrator",
}
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Api:
    """A test client that sends requests as one of the users."""

    def __init__(
        self, client: TestClient, tokens: dict[str, str], service: CaseService, clock: ManualClock
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.service = service
        self.clock = clock

    def _headers(self, user: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return {**headers, **(extra or {})}

    def get(self, user: str | None, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, headers=self._headers(user), params=params)

    def post(
        self, user: str | None, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.client.post(path, json=body, headers=self._headers(user, headers))

    def command(
        self, user: str, case_id: str, name: str, body: Any = None, status: int = 200
    ) -> dict[str, Any]:
        """POST a command and check its status code; returns the JSON answer."""
        response = self.post(user, f"/api/cases/{case_id}/{name}", body)
        assert response.status_code == status, f"{name} as {user}: {response.status_code} {response.text}"
        data: dict[str, Any] = response.json()
        return data


def make_api(path: Path) -> Iterator[Api]:
    clock = ManualClock(T0)
    service = CaseService(f"sqlite:///{path / 'cases.db'}", now=clock)
    for name, role in USERS.items():
        service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
    client = TestClient(create_app(service))
    # Tokens for ten years: the tests move the clock by weeks (login itself is tested on its own).
    tokens = {name: service.users.issue_token(name, lifetime=timedelta(days=3650)) for name in USERS}
    yield Api(client, tokens, service, clock)
    client.close()
    service.close()


def body_for(name: str, case: Case, now: datetime) -> dict[str, Any] | None:
    """A well-formed body for each command (valid for the example case where the command is allowed)."""
    today = now.date().isoformat()
    content = to_json(case.content)
    content["population"]["description"] += " (edited)"
    bodies: dict[str, dict[str, Any] | None] = {
        "edit_draft": {"content": content},
        "submit": None,
        "start_review": None,
        "return_to_applicant": {"comments": ["please clarify"]},
        "resubmit": {"response": "clarified"},
        "decide_variable": {"name": "kjonn", "outcome": "granted"},
        "decide_register": {"register": "iplos", "outcome": "granted", "reference": "H-1"},
        "decide_case": {"outcome": "approved", "reasons": ["ok"]},
        "lodge_appeal": {"grounds": "necessary"},
        "decide_appeal": {"outcome": "upheld", "reason": "stands"},
        "make_offer": {
            "lines": [{"staff_group": "radgiver", "hours": 3}],
            "expected_delivery": (now + timedelta(days=60)).date().isoformat(),
        },
        "accept_offer": None,
        "decline_offer": {"reason": "price"},
        "record_linkage_done": {"summary": {}},
        "propose_anonymisation": {"plan": example_plan()},
        "counter_anonymisation": {"plan": example_plan(k=3)},
        "agree_anonymisation": {"round": len(case.anonymisation_rounds)},
        "start_delivery": {"delivery_id": "d-1"},
        "record_delivery": {"delivery_id": "d-1", "manifest_sha256": "cd" * 32},
        "record_hours": {"staff_group": "radgiver", "hours": 2, "work_date": today},
        "issue_invoice": None,
        "confirm_deletion": {"deleted_on": today},
        "close": {"reason": "done"},
        "withdraw": {"reason": "no longer needed"},
    }
    return bodies[name]
