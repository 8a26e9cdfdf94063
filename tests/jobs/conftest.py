"""Fixtures of the job tests: a case service on SQLite and on PostgreSQL (a fresh schema each, dropped
at the end of the session), and a data folder with the small hand-made registers."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[1] / "linkage"))

from iplos.cases import CaseService
from iplos.config import Settings

SESSION = secrets.token_hex(3)
_SCHEMAS: list[str] = []


@pytest.fixture(scope="session")
def job_pg_schemas(postgres_url: str) -> Iterator[list[str]]:
    yield _SCHEMAS
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for name in _SCHEMAS:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


def pg_schema(request: pytest.FixtureRequest) -> tuple[str, str]:
    """A new schema name on the test server, and the server's URL."""
    url: str = request.getfixturevalue("postgres_url")
    schemas = request.getfixturevalue("job_pg_schemas")
    name = f"iplos_jobs_{SESSION}_{len(schemas)}"
    schemas.append(name)
    return url, name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, CaseService, str]]:
    """(settings, case service, the case store's URL as a separate process would name it)."""
    home = tmp_path / "iplos-data"
    if request.param == "sqlite":
        settings = Settings(home=home)
        service = CaseService.from_settings(settings)
        url = settings.case_db_url
    else:
        server, schema = pg_schema(request)
        settings = Settings(home=home, case_db=server)
        service = CaseService.from_settings(settings, schema=schema)
        url = f"{server}?options=-csearch_path%3D{schema}"
    yield settings, service, url
    service.close()
