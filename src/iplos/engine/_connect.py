"""Open the data plane on the backend the configuration names: DuckDB embedded, or PySpark.

`pyspark` is imported only inside `_spark_backend`, so `import iplos.engine` works without it.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis.backends import BaseBackend

from iplos.config import Settings
from iplos.engine._dialect import Backend
from iplos.engine._engine import Engine
from iplos.errors import IplosError


def _duckdb_backend(settings: Settings) -> BaseBackend:
    # An in-memory database: register tables are read from Parquet on each query, never copied.
    con = ibis.duckdb.connect(":memory:")
    return con


def _spark_backend(spark_session: Any | None) -> tuple[BaseBackend, Any]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise IplosError(
            "IPLOS_ENGINE=spark needs PySpark: install the extra with `pip install 'iplos[spark]'`"
        ) from exc
    try:
        import ibis.backends.pyspark  # (Ibis's PySpark backend needs the same extra)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise IplosError(
            "IPLOS_ENGINE=spark needs Ibis's PySpark backend: install `pip install 'iplos[spark]'`"
        ) from exc
    session = spark_session
    if session is None:
        # Local mode unless the environment (spark-submit, SPARK_MASTER) says otherwise. The time zone
        # is fixed to UTC so that dates and timestamps read the same as on DuckDB.
        session = (
            SparkSession.builder.appName("iplos")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    return ibis.pyspark.connect(session), session


def connect(
    settings: Settings | None = None,
    backend: Backend | None = None,
    spark_session: Any | None = None,
) -> Engine:
    """Open the data plane on `backend`, by default the one configured (`IPLOS_ENGINE`).

    With the Spark backend, `spark_session` reuses a running session (a cluster's, or the tests'
    shared one); without it a local session is started.
    """
    settings = settings or Settings.from_env()
    chosen: Backend = backend or settings.engine
    if chosen == "duckdb":
        return Engine(settings, "duckdb", _duckdb_backend(settings))
    if chosen == "spark":
        con, session = _spark_backend(spark_session)
        return Engine(settings, "spark", con, owns_session=spark_session is None, spark_session=session)
    raise IplosError(f"unknown data-plane backend {chosen!r}: choose 'duckdb' or 'spark'")
