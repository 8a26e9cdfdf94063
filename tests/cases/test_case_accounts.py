"""Accounts and tokens, the store's migrations, and the public API of the packages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import iplos.cases
import iplos.web
from iplos.cases import CaseService
from iplos.cases.examples import ManualClock, drive
from iplos.errors import IplosError


def test_accounts_and_tokens(memory_service: CaseService, clock: ManualClock) -> None:
    users = memory_service.users
    users.create("kari", "a long enough password", "applicant", "Kari Nordmann")
    with pytest.raises(IplosError, match="exists"):
        users.create("kari", "a long enough password", "applicant")
    with pytest.raises(IplosError, match="at least"):
        users.create("ola", "short", "applicant")
    with pytest.raises(IplosError, match="role"):
        users.create("ola", "a long enough password", "king")  # type: ignore[arg-type]
    with pytest.raises(IplosError, match="username"):
        users.create("Bad Name", "a long enough password", "applicant")
    assert users.check_password("kari", "wrong password!!") is None
    assert users.check_password("nobody", "a long enough password") is None
    user = users.check_password("kari", "a long enough password")
    assert user is not None and user.actor.role == "applicant"
    token = users.issue_token("kari", lifetime=timedelta(hours=1))
    assert users.user_for_token(token) == user
    assert users.user_for_token(token + "x") is None
    clock.advance(hours=2)
    assert users.user_for_token(token) is None  # expired
    token = users.issue_token("kari")
    users.set_active("kari", False)
    assert (
        users.user_for_token(token) is None and users.check_password("kari", "a long enough password") is None
    )


def test_reopening_the_store_keeps_the_cases(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    first = CaseService(url, now=clock)
    case = drive(first, "submitted")
    first.close()
    second = CaseService(url, now=clock)  # migrations run again: nothing to do
    assert second.get(case.case_id) == case
    second.close()


def test_public_api_is_pinned() -> None:
    assert {
        "CaseService",
        "Actor",
        "Case",
        "decide",
        "evolve",
        "replay",
        "PERMISSIONS",
        "clock",
        "letter",
    } <= set(iplos.cases.__all__)
    assert set(iplos.web.__all__) == {"Authenticator", "BearerTokens", "create_app"}
    for name in iplos.cases.__all__:
        assert hasattr(iplos.cases, name), name


def test_readme_cannot_drift() -> None:
    from iplos.cases import COMMAND_TYPES, EVENT_TYPES
    from iplos.cases.permissions import permissions_markdown

    readme = (Path(iplos.cases.__file__).parent / "README.md").read_text(encoding="utf-8")
    assert permissions_markdown() in readme
    for name in [*COMMAND_TYPES, *EVENT_TYPES]:
        assert name in readme, name
