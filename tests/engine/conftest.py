"""Engine fixtures: one `engine` per backend (Spark shares the session-wide JVM) and small registers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pyarrow as pa
import pytest

from iplos.config import Settings
from iplos.engine import Engine, RegisterStore, connect

PERSON_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("fodselsaar", pa.int16()),
        ("kjonn", pa.int8()),
        ("kommune", pa.string()),
        ("dodsdato", pa.date32()),
    ]
)


def person_rows(aargang: int) -> pa.Table:
    """A handful of person rows; kommune codes keep their leading zero, one death, one null kommune."""
    base = aargang - 2000
    return pa.table(
        {
            "pseudonym": [f"{i:064x}" for i in range(base, base + 5)],
            "fodselsaar": pa.array([1930, 1930, 1945, 1990, 1930], pa.int16()),
            "kjonn": pa.array([2, 2, 1, 1, 2], pa.int8()),
            "kommune": ["0301", "0301", "5001", None, "0301"],
            "dodsdato": pa.array([None, dt.date(aargang, 3, 1), None, None, None], pa.date32()),
        },
        schema=PERSON_SCHEMA,
    )


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Engine]:
    """The data plane on each backend, over the test's own empty data folder."""
    if request.param == "spark":
        session = request.getfixturevalue("spark_session")
        eng = connect(settings, "spark", spark_session=session)
    else:
        eng = connect(settings, "duckdb")
    yield eng
    eng.close()


@pytest.fixture(name="person_rows")
def _person_rows() -> Callable[[int], pa.Table]:
    """The builder of small person tables, for tests that compare against the rows written."""
    return person_rows


@pytest.fixture
def store(settings: Settings) -> RegisterStore:
    return RegisterStore(settings)


@pytest.fixture
def persons(store: RegisterStore) -> RegisterStore:
    """A store with iplos.person for 2010 and 2011."""
    for year in (2010, 2011):
        store.write_aargang("iplos", "person", year, person_rows(year))
    return store
