"""What `iplos demo --keep-for-web` leaves behind: accounts and cases to click through in the pages.

The demo's own case stays as it ended (delivered and invoiced). Beside it three more cases are
walked along the standard path (`iplos.cases.examples.drive`): one waiting for the reviewer, one
returned to the applicant, and one approved and waiting for the processor's offer; and a draft.
Each role gets an account with a fresh random password, printed once (only argon2id hashes are
stored).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iplos.cases import Status

ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("kari", "applicant", "Kari Nordmann"),
    ("ola", "applicant", "Ola Nordmann"),
    ("rita", "reviewer", "Rita Saksbehandler"),
    ("sven", "processor", "Sven Statistiker"),
    ("ada", "administrator", "Ada Administrator"),
)
EXTRA_CASES: tuple[Status, ...] = ("under_review", "returned", "approved", "draft")


@dataclass(frozen=True)
class WebDemo:
    """The accounts (username, role, password) and the cases left for the pages."""

    home: Path
    accounts: tuple[tuple[str, str, str], ...]
    cases: dict[str, str]
    """Case id -> its status."""

    @property
    def serve_command(self) -> str:
        return f"IPLOS_HOME={self.home} iplos serve"


def keep_for_web(service: Any, home: Path, demo_case: str) -> WebDemo:
    """Create the accounts and the extra cases in the demo's case store."""
    from iplos.cases.examples import drive

    accounts = []
    for username, role, name in ACCOUNTS:
        password = secrets.token_urlsafe(12)
        if service.users.get(username) is None:
            service.users.create(username, password, role, name)
        else:  # pragma: no cover - a fresh demo home has no accounts
            continue
        accounts.append((username, role, password))
    cases = {demo_case: service.get(demo_case).status}
    for status in EXTRA_CASES:
        case = drive(service, status)
        cases[case.case_id] = case.status
    return WebDemo(home, tuple(accounts), cases)
