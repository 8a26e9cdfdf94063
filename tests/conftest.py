"""Shared fixtures: a scratch IPLOS_HOME, backends, and the PostgreSQL URL when reachable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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


ROOT = Path(__file__).resolve().parents[1]
CLUSTER_SCRIPT = ROOT / "tools" / "spark_cluster.sh"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the `spark_cluster` tests last: one process holds one SparkContext at a time, so the
    cluster's session replaces the local one only after every local Spark test has run."""
    items.sort(key=lambda item: item.get_closest_marker("spark_cluster") is not None)


def _cluster(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), *command], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A PySpark session on the standalone cluster (a master and two 1-core workers on 127.0.0.1).

    Uses the cluster IPLOS_SPARK_MASTER names when set (`.ci/run` starts one with
    tools/spark_cluster.sh); otherwise starts the script's cluster for this run and stops it after,
    unless it was running already. A cluster that will not start fails the tests, never skips them.
    """
    pytest.importorskip("pyspark.sql")
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from iplos.engine._connect import spark_builder

    started = False
    master = os.environ.get("IPLOS_SPARK_MASTER")
    if not master:
        master = _cluster("url").stdout.strip()
        if _cluster("status").returncode != 0:
            done = _cluster("start")
            if done.returncode != 0:
                pytest.fail(f"the Spark cluster did not start:\n{done.stdout}\n{done.stderr}")
            started = True
    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()  # the local session of the `spark` tests, which have all run (see above)
    home = tmp_path_factory.mktemp("cluster") / "iplos-data"
    builder = spark_builder(
        Settings(home=home, spark_master=master), SparkSession.builder, "iplos-cluster-tests"
    )
    spark = builder.config("spark.sql.shuffle.partitions", "2").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    assert spark.sparkContext.master == master
    yield spark
    spark.stop()
    if started:
        _cluster("stop")


@pytest.fixture(scope="session")
def preview_register(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One tiny synthetic register for the preview tests (generated once per run, a few seconds)."""
    from iplos.preview import SyntheticRegister

    register = SyntheticRegister(0.003, home=tmp_path_factory.mktemp("preview-register"))
    register.settings()
    return register
