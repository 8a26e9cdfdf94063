"""The API over PostgreSQL: NUL bytes and control characters give 400/404 (PostgreSQL text cannot
hold NUL), and a concurrency conflict gives 409 with a plain message, no database text."""

from __future__ import annotations

import secrets
import threading
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive
from iplos.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def pg_api(postgres_url: str) -> Iterator[tuple[TestClient, CaseService, dict[str, str]]]:
    schema = f"iplos_web_{secrets.token_hex(4)}"
    service = CaseService(postgres_url, schema=schema, audit_key=secrets.token_bytes(32))
    users = {"kari": "applicant", "rita": "reviewer", "ada": "administrator"}
    tokens = {}
    for name, role in users.items():
        service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
        tokens[name] = service.users.issue_token(name, lifetime=timedelta(days=30))
    client = TestClient(create_app(service))
    yield client, service, tokens
    client.close()
    service.close()
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _auth(tokens: dict[str, str], user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


def test_nul_never_reaches_postgres(pg_api: Any) -> None:
    client, _, tokens = pg_api
    assert client.post("/api/auth/token", data={"username": "ka\x00ri", "password": "x"}).status_code == 400
    assert client.get("/api/cases/2026-%00", headers=_auth(tokens, "kari")).status_code == 400
    body = '{"kind": "new", "content": {"project": {"title": "a\\u0000b"}}}'
    headers = {**_auth(tokens, "kari"), "Content-Type": "application/json"}
    response = client.post("/api/cases", content=body.encode(), headers=headers)
    assert response.status_code == 400 and "U+0000" in response.json()["detail"]
    body = '{"username": "eve", "password": "long enough password", "role": "applicant", "display_name": "\\u0000"}'
    headers = {**_auth(tokens, "ada"), "Content-Type": "application/json"}
    assert client.post("/api/users", content=body.encode(), headers=headers).status_code == 400


def test_concurrency_conflict_is_a_plain_409(pg_api: Any) -> None:
    client, service, tokens = pg_api
    case = drive(service, "under_review", Cast())
    names = [v.name for v in case.content.variables if v.register == "iplos"][:6]
    barrier = threading.Barrier(len(names))
    answers: list[Any] = []

    def decide(name: str) -> None:
        barrier.wait()
        response = client.post(
            f"/api/cases/{case.case_id}/decide_variable",
            json={"name": name, "outcome": "granted"},
            headers=_auth(tokens, "rita"),
        )
        answers.append(response)

    threads = [threading.Thread(target=decide, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {200, 409} and 200 in codes
    for response in answers:
        if response.status_code == 409:
            detail = response.json()["detail"]
            assert "changed by another command" in detail
            for raw in ("duplicate key", "uq_case_events", "violates", "DETAIL", "psycopg"):
                assert raw not in detail
    after = service.get(case.case_id)
    assert after.version == case.version + codes.count(200)
    assert service.verify(case.case_id)[0].ok
