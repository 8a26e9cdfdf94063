"""Schemathesis over the OpenAPI document: no request it generates gets a 5xx or a status code the
document does not declare. Bounded to a few examples per operation (about half a minute)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error, status_code_conformance  # noqa: E402

from iplos.cases import CaseService  # noqa: E402
from iplos.cases.examples import ManualClock  # noqa: E402
from iplos.web import create_app  # noqa: E402
from iplos.web.security import LoginThrottle  # noqa: E402

PASSWORD = "correct horse battery staple"
USERS = {"kari": "applicant", "rita": "reviewer", "sven": "processor", "ada": "administrator"}
TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from datetime import UTC, datetime, timedelta

    path: Path = tmp_path_factory.mktemp("schema")
    service = CaseService(f"sqlite:///{path / 'cases.db'}", now=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)))
    for name, role in USERS.items():
        service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
        TOKENS[name] = service.users.issue_token(name, lifetime=timedelta(days=3650))
    app = create_app(service, throttle=LoginThrottle(per_account=3, per_client=10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    service.close()


def _user(path: str) -> str:
    if path.startswith("/api/users"):
        return "ada"
    if path == "/api/cases" or path.endswith("/edit_draft") or path.endswith("/submit"):
        return "kari"
    return "rita"


def test_no_server_error_and_no_undeclared_status(web_schema: Any) -> None:
    # schemathesis's pytest plugin does not run under pytest 9, so each operation gets its own
    # Hypothesis test here; failures are collected over all operations.
    failures: list[str] = []
    operations = [result.ok() for result in web_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            headers = {"Authorization": f"Bearer {TOKENS[_user(case.path)]}"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call_and_validate(headers=headers, checks=[not_a_server_error, status_code_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
