"""Fixtures of the case tests: a settable clock, the cast of users, and the case service on
SQLite and on PostgreSQL (one fresh schema per test, all dropped at the end of the session)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from iplos.cases import Actor, CaseService
from iplos.cases.examples import Cast, ManualClock

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SESSION = secrets.token_hex(3)
AUDIT_KEY = secrets.token_bytes(32)  # the key that signs case heads, kept outside the database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def cast() -> Cast:
    return Cast()


@pytest.fixture
def member() -> Actor:
    """A project member of the example application (not its owner)."""
    return Actor("ola", "applicant")


@pytest.fixture
def stranger() -> Actor:
    """An applicant with nothing to do with the example case."""
    return Actor("per", "applicant")


@pytest.fixture(scope="session")
def pg_schemas(postgres_url: str) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


def make_service(
    kind: str, request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path
) -> CaseService:
    if kind == "sqlite":
        return CaseService(f"sqlite:///{tmp_path / 'cases.db'}", now=clock, audit_key=AUDIT_KEY)
    url = request.getfixturevalue("postgres_url")
    schemas = request.getfixturevalue("pg_schemas")
    name = f"iplos_test_{SESSION}_{len(schemas)}"
    schemas.append(name)
    return CaseService(url, schema=name, now=clock, audit_key=AUDIT_KEY)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[CaseService]:
    """The case service on each store."""
    svc = make_service(request.param, request, clock, tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def memory_service(clock: ManualClock) -> Iterator[CaseService]:
    """An in-memory SQLite service for tests that are not about storage."""
    svc = CaseService("sqlite://", now=clock)
    yield svc
    svc.close()
