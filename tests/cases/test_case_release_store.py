"""The release log in the case store, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from iplos.cases.release_store import ReleaseLog
from iplos.errors import IplosError

SESSION = secrets.token_hex(3)
DIMS = [
    {
        "name": "kjonn",
        "labels": ["Total", "1", "2"],
        "parents": [-1, 0, 0],
        "levels": ["total", "kjonn"],
        "leaf_of": {"1": 1, "2": 2},
    }
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReleaseLog]:
    if request.param == "sqlite":
        store = ReleaseLog(f"sqlite:///{tmp_path / 'cases.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        schemas = request.getfixturevalue("pg_schemas")
        name = f"iplos_test_{SESSION}_rl{len(schemas)}"
        schemas.append(name)
        store = ReleaseLog(url, schema=name)
    yield store
    store.close()


def test_tables_are_logged_per_source_and_version_in_order(log: ReleaseLog) -> None:
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    cells = {"values": [10, None, 7], "flags": ["published", "primary", "published"]}
    first = log.record(
        source="iplos-2015",
        data_version="v1",
        name="a",
        kind="frequency",
        statistic="count",
        dimensions=DIMS,
        cells=cells,
        at=at,
    )
    log.record(
        source="iplos-2015",
        data_version="v1",
        name="b",
        kind="frequency",
        statistic="count",
        dimensions=DIMS,
        cells={"values": [10, 3, 7], "flags": ["published"] * 3},
    )
    log.record(
        source="iplos-2015",
        data_version="v2",
        name="c",
        kind="frequency",
        statistic="count",
        dimensions=DIMS,
        cells={"values": [11, 4, 7], "flags": ["published"] * 3},
    )
    got = log.releases("iplos-2015", "v1")
    assert [r.name for r in got] == ["a", "b"]
    assert got[0].id == first.id and got[0].released_at == at
    assert got[0].cells == cells and got[0].dimensions == DIMS and got[0].n_cells == 3
    assert [r.name for r in log.releases("iplos-2015")] == ["a", "b", "c"]
    assert log.releases("other") == []
    assert log.sources() == [("iplos-2015", "v1", 2), ("iplos-2015", "v2", 1)]


def test_a_changed_row_is_detected_on_reading(log: ReleaseLog) -> None:
    log.record(
        source="s",
        data_version="v",
        name="a",
        kind="frequency",
        statistic="count",
        dimensions=DIMS,
        cells={"values": [10, None, 7], "flags": ["published", "primary", "published"]},
    )
    with log.engine.begin() as conn:
        conn.execute(sa.text("UPDATE table_releases SET cells = replace(cells, 'null', '3')"))
    with pytest.raises(IplosError, match="changed after it was written"):
        log.releases("s")


def test_malformed_records_are_refused_with_a_reason(log: ReleaseLog) -> None:
    with pytest.raises(IplosError, match="cells, its dimensions give 3"):
        log.record(
            source="s",
            data_version="v",
            name="a",
            kind="frequency",
            statistic="count",
            dimensions=DIMS,
            cells={"values": [1, 2], "flags": ["published", "published"]},
        )
    with pytest.raises(IplosError, match="lacks leaf_of"):
        log.record(
            source="s",
            data_version="v",
            name="a",
            kind="frequency",
            statistic="count",
            dimensions=[{k: v for k, v in DIMS[0].items() if k != "leaf_of"}],
            cells={"values": [1, 1, 0], "flags": ["published"] * 3},
        )
    assert log.releases() == []
