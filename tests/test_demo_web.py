"""`iplos demo --keep-for-web`: accounts that can log in and cases at several steps are left behind."""

from __future__ import annotations

from pathlib import Path

from iplos.cases import CaseService
from iplos.cases.examples import drive
from iplos.cli._demo_web import ACCOUNTS, keep_for_web


def test_keep_for_web_leaves_accounts_and_cases(tmp_path: Path) -> None:
    service = CaseService(f"sqlite:///{tmp_path / 'cases.db'}")
    demo_case = drive(service, "invoiced").case_id
    web = keep_for_web(service, tmp_path, demo_case)
    assert [u for u, _, _ in web.accounts] == [u for u, _, _ in ACCOUNTS]
    for username, role, password in web.accounts:
        user = service.users.check_password(username, password)
        assert user is not None and user.role == role
    assert len({p for _, _, p in web.accounts}) == len(web.accounts)  # a fresh password each
    assert web.cases[demo_case] == "invoiced"
    assert sorted(web.cases.values()) == sorted(["invoiced", "under_review", "returned", "approved", "draft"])
    assert {service.get(c).status for c in web.cases} == set(web.cases.values())
    assert web.serve_command == f"IPLOS_HOME={tmp_path} iplos serve"
    service.close()
