"""Hostile input gets a clear 4xx, never a 500: surrogates, NUL, control characters, oversized
bodies, huge drafts; security headers and login throttling."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import PASSWORD, USERS, Api  # type: ignore[import-not-found]

from iplos.cases import CaseService
from iplos.web import create_app
from iplos.web.security import LoginThrottle

# Raw JSON text with escapes, since a lone surrogate cannot be encoded by the client itself.
SURROGATE = '"\\ud800"'
NUL = '"a\\u0000b"'
CONTROL = '"a\\u0007b"'


def _raw(api: Api, user: str, path: str, text: str) -> Any:
    headers = {"Authorization": f"Bearer {api.tokens[user]}", "Content-Type": "application/json"}
    return api.client.post(path, content=text.encode("utf-8"), headers=headers)


@pytest.mark.parametrize("bad", [SURROGATE, NUL, CONTROL], ids=["surrogate", "nul", "control"])
@pytest.mark.parametrize(
    "path,template",
    [
        ("/api/cases", '{"kind": "new", "content": {"project": {"title": %s}}}'),
        ("/api/cases", '{"kind": %s}'),
        ("/api/cases", "{%s: 1}"),
        (
            "/api/users",
            '{"username": "eve", "password": "long enough password", "role": "applicant", "display_name": %s}',
        ),
    ],
)
def test_unstorable_text_is_400_naming_the_field(api: Api, bad: str, path: str, template: str) -> None:
    user = "ada" if path == "/api/users" else "kari"
    response = _raw(api, user, path, template % bad)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "surrogate" in detail or "control character" in detail


def test_every_command_refuses_a_surrogate(api: Api) -> None:
    cid = api.post("kari", "/api/cases", {"kind": "new"}).json()["case_id"]
    for name in ("edit_draft", "return_to_applicant", "withdraw", "record_hours"):
        response = _raw(
            api,
            "kari",
            f"/api/cases/{cid}/{name}",
            f'{{"reason": {SURROGATE}, "comments": [{SURROGATE}]}}',
        )
        assert response.status_code == 400, (name, response.text)


def test_nul_in_login_and_case_id(api: Api) -> None:
    response = api.client.post("/api/auth/token", data={"username": "kari\x00", "password": "x"})
    assert response.status_code == 400 and "control character" in response.json()["detail"]
    response = api.get("kari", "/api/cases/2026-%00abc")
    assert response.status_code == 400
    response = api.get("kari", "/api/cases/2026-\x01abc".replace("\x01", "%01"))
    assert response.status_code == 400


def test_not_utf8_body_is_400(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.tokens['kari']}", "Content-Type": "application/json"}
    response = api.client.post("/api/cases", content=b'{"kind": "\xff"}', headers=headers)
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]


def test_oversized_body_is_413(api: Api) -> None:
    body = json.dumps({"kind": "new", "content": {"summary": "x" * 2_000_000}})
    response = _raw(api, "kari", "/api/cases", body)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


def test_draft_with_50000_variables_is_refused(api: Api) -> None:
    variables = [{"name": f"v{i}"} for i in range(50_000)]
    response = api.post("kari", "/api/cases", {"kind": "new", "content": {"variables": variables}})
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["column"] == "content.variables" and "50,000 items" in problem["message"]
    justified = [{"name": f"v{i}", "justification": "needed for the analysis"} for i in range(50_000)]
    response = api.post("kari", "/api/cases", {"kind": "new", "content": {"variables": justified}})
    assert response.status_code == 413
    # the same limit holds for Python callers of the service
    service = api.service
    from iplos.cases import Actor, Application, CommandRefused, VariableRequest

    many = tuple(VariableRequest(f"v{i}") for i in range(5_000))
    with pytest.raises(CommandRefused) as info:
        service.create_draft(Actor("kari", "applicant"), content=Application(variables=many))
    assert any("content.variables" in str(p) for p in info.value.problems)


def test_security_headers(api: Api) -> None:
    response = api.get("kari", "/api/me")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "server" not in response.headers
    assert "strict-transport-security" not in response.headers
    token = api.client.post("/api/auth/token", data={"username": "kari", "password": PASSWORD})
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"


def test_hsts_over_https(api: Api) -> None:
    response = api.client.get(
        "https://testserver/api/me", headers={"Authorization": f"Bearer {api.tokens['kari']}"}
    )
    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[tuple[Any, LoginThrottle]]:
    from fastapi.testclient import TestClient

    service = CaseService(f"sqlite:///{tmp_path / 'cases.db'}")
    for name in ("kari", "rita"):
        service.users.create(name, PASSWORD, USERS[name])
    now = [0.0]
    throttle = LoginThrottle(per_account=5, per_client=8, window=60, clock=lambda: now[0])
    client = TestClient(create_app(service, throttle=throttle))
    yield client, throttle
    now[0] += 0
    client.close()
    service.close()


def test_login_throttle_per_account_then_per_client(throttled: tuple[Any, LoginThrottle]) -> None:
    client, _ = throttled
    codes = [
        client.post("/api/auth/token", data={"username": "kari", "password": "wrong"}).status_code
        for _ in range(7)
    ]
    assert codes == [401] * 5 + [429] * 2
    right = client.post("/api/auth/token", data={"username": "kari", "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    # the same client spraying other accounts is stopped by the per-client limit
    codes = [
        client.post("/api/auth/token", data={"username": f"x{i}", "password": "w"}).status_code
        for i in range(4)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    assert client.post("/api/auth/token", data={"username": "rita", "password": PASSWORD}).status_code == 429


def test_login_throttle_window_passes() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_account=2, per_client=100, window=60, clock=lambda: now[0])
    throttle.failed("kari", "1.2.3.4")
    throttle.failed("kari", "1.2.3.4")
    assert throttle.retry_after("kari", "5.6.7.8") == 60
    now[0] = 61
    assert throttle.retry_after("kari", "5.6.7.8") == 0
