"""Shared fixtures: a scratch IPLOS_HOME, backends, and the PostgreSQL URL when reachable."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from iplos.config import Settings

# Speed is measured in bench/, never in tests: Hypothesis's per-example deadline (200 ms) turns a busy
# 2-core CI machine into failures that say nothing about behaviour.
hypothesis_settings.register_profile("iplos", deadline=None)
hypothesis_settings.load_profile("iplos")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at an empty data folder of this test."""
    return Settings(home=tmp_path / "iplos-data")


@pytest.fixture
def iplos_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty IPLOS_HOME set in the environment for CLI tests."""
    home = tmp_path / "iplos-data"
    monkeypatch.setenv("IPLOS_HOME", str(home))
    yield home


def _postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL test database; skips when unreachable, unless CI requires it."""
    url = os.environ.get("IPLOS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not _postgres_reachable():
        if os.environ.get("IPLOS_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required (IPLOS_REQUIRE_POSTGRES) but unreachable")
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    return url


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """One local PySpark session for the whole run (a JVM start costs ~10 s); small memory, no UI."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("iplos-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
