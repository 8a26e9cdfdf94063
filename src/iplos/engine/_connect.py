"""Open the data plane on the backend the configuration names: DuckDB embedded, or PySpark.

`pyspark` is imported only inside `_spark_backend`, so `import iplos.engine` works without it.

DuckDB runs within a memory limit and spills beyond it: each connection takes a slot of the
process's budget (`_budget`, IPLOS_MEMORY_LIMIT split into IPLOS_ENGINE_SLOTS) and spills to its own
folder under `$IPLOS_HOME/spill/`, removed when the engine closes. Spark runs in local mode, or on
the cluster IPLOS_SPARK_MASTER names (`tools/spark_cluster.sh start` runs one on 127.0.0.1).

A Spark session costs seconds in local mode and over a minute on the cluster (the application
registers with the master and each worker starts an executor JVM), so an engine opened without a
session takes the process's shared one (`shared_spark_session`): started on first use, reused by
every later engine and stopped when the process exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend

from iplos.config import Settings
from iplos.engine._budget import budget
from iplos.engine._dialect import Backend
from iplos.engine._engine import Engine
from iplos.errors import IplosError


def _duckdb_backend(settings: Settings) -> tuple[BaseBackend, Callable[[], None]]:
    """An in-memory DuckDB within its slot of the memory budget, and what closing must undo."""
    slot = budget(settings.memory_limit, settings.engine_slots).acquire()
    spill: Path = settings.spill_dir / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        spill.mkdir(parents=True, exist_ok=False)
        config: dict[str, Any] = {
            # DuckDB reads "...B" as decimal bytes; whole KiB keep the number exact when read back.
            "memory_limit": f"{slot.memory_limit // 1024}KiB",
            "temp_directory": str(spill),
        }
        if settings.threads:
            config["threads"] = settings.threads
        # An in-memory database: register tables are read from Parquet on each query, never copied.
        con = ibis.duckdb.connect(":memory:", **config)
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        slot.release()
        raise

    def release() -> None:
        shutil.rmtree(spill, ignore_errors=True)
        slot.release()

    return con, release


def _spark_backend(settings: Settings, spark_session: Any | None) -> tuple[BaseBackend, Any]:
    try:
        import pyspark.sql  # noqa: F401  (the error below names the extra to install)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise IplosError(
            "IPLOS_ENGINE=spark needs PySpark: install the extra with `pip install 'iplos[spark]'`"
        ) from exc
    try:
        import ibis.backends.pyspark  # noqa: F401  (Ibis's PySpark backend needs the same extra)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise IplosError(
            "IPLOS_ENGINE=spark needs Ibis's PySpark backend: install `pip install 'iplos[spark]'`"
        ) from exc
    from iplos.engine._spark import connect_spark

    session = spark_session if spark_session is not None else shared_spark_session(settings)
    return connect_spark(session), session


_shared_lock = threading.Lock()
_shared: dict[str, Any] = {}


def _is_running(session: Any) -> bool:
    jsc = session.sparkContext._jsc
    return jsc is not None and not jsc.sc().isStopped()


def shared_spark_session(settings: Settings) -> Any:
    """The process's one SparkSession for `settings`' master, started on first use and reused after.

    A process holds one SparkContext: asking for another master than the running shared session's
    stops that one first. The session is stopped at exit (or by `stop_shared_spark_session`).
    """
    from pyspark.sql import SparkSession

    master = settings.spark_master or "local"
    with _shared_lock:
        session = _shared.get("session")
        if session is not None and (_shared.get("master") != master or not _is_running(session)):
            if _is_running(session):
                session.stop()
            session = None
        if session is None:
            if not _shared:
                atexit.register(stop_shared_spark_session)
            session = spark_builder(settings, SparkSession.builder).getOrCreate()
            session.sparkContext.setLogLevel("ERROR")
            _shared.update(session=session, master=master)
        return session


def stop_shared_spark_session() -> None:
    """Stop the shared SparkSession if one runs (at exit, or when a process is done with Spark)."""
    with _shared_lock:
        session = _shared.pop("session", None)
        if session is not None and _is_running(session):
            session.stop()


def spark_builder(settings: Settings, builder: Any, app_name: str = "iplos") -> Any:
    """Configure a `SparkSession.builder` for iplos: the configured master, UTC, no UI.

    Local mode unless IPLOS_SPARK_MASTER names a master (or spark-submit set one). The time zone is
    fixed to UTC so that dates and timestamps read the same as on DuckDB; joins and GROUP BYs use
    IPLOS_SPARK_SHUFFLE_PARTITIONS partitions. On a cluster the executors
    get IPLOS_SPARK_EXECUTOR_MEMORY and the driver binds to the loopback address the workers reach.
    """
    builder = (
        builder.appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Spark's 200 shuffle partitions cost a task each per join and GROUP BY: on a few cores
        # that overhead, not the data, set the time of a delivery (measured in bench/bench_scale.py).
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
    )
    if settings.spark_master:
        builder = builder.master(settings.spark_master).config(
            "spark.executor.memory", settings.spark_executor_memory
        )
        if settings.spark_master.startswith(("spark://127.0.0.1", "spark://localhost")):
            # A cluster on this machine: the executors reach the driver on the loopback address and
            # run Python workers with this interpreter (the one that has iplos and its packages).
            builder = (
                builder.config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.pyspark.python", sys.executable)
            )
    return builder


def connect(
    settings: Settings | None = None,
    backend: Backend | None = None,
    spark_session: Any | None = None,
) -> Engine:
    """Open the data plane on `backend`, by default the one configured (`IPLOS_ENGINE`).

    With DuckDB, the engine holds a slot of the process's memory budget until it closes (opening
    one waits while every slot is taken). With the Spark backend, `spark_session` is the session to
    run on (a cluster's, or the tests' shared one); without it the engine runs on the process's
    shared session (`shared_spark_session`: started once on IPLOS_SPARK_MASTER or in local mode,
    reused by later engines, stopped at exit). Closing an engine never stops a session.
    """
    settings = settings or Settings.from_env()
    chosen: Backend = backend or settings.engine
    if chosen == "duckdb":
        con, release = _duckdb_backend(settings)
        return Engine(settings, "duckdb", con, on_close=release)
    if chosen == "spark":
        con, session = _spark_backend(settings, spark_session)
        return Engine(settings, "spark", con, spark_session=session)
    raise IplosError(f"unknown data-plane backend {chosen!r}: choose 'duckdb' or 'spark'")
