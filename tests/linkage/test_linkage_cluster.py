"""Linkage on the Spark standalone cluster gives DuckDB's extract, byte for byte after sorting."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from linkage_fixtures import SmallRegisters
from test_linkage_link import request

from iplos.engine import connect
from iplos.linkage import link

pytestmark = [pytest.mark.spark, pytest.mark.spark_cluster]


def parquet_bytes(table: pa.Table) -> bytes:
    # Spark reads every Parquet column as nullable where DuckDB keeps a NOT NULL: compare values and
    # types, not that flag.
    table = table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))
    ordered = table.sort_by([(c, "ascending") for c in table.column_names])
    buffer = io.BytesIO()
    pq.write_table(ordered, buffer, compression="zstd")
    return buffer.getvalue()


def test_cluster_links_the_same_extract(small_session: SmallRegisters, spark_cluster: Any) -> None:
    small = small_session
    seed = b"same-seed-for-duckdb-and-cluster"
    with connect(small.settings, backend="duckdb") as engine:
        duck = link(engine, small.keys, request(small), seed=seed)
    with connect(small.settings, backend="spark", spark_session=spark_cluster) as engine:
        cluster = link(engine, small.keys, request(small), seed=seed)
    assert cluster.report.backend == "spark" and duck.report.rows > 0
    assert cluster.table.schema.equals(duck.table.schema), (cluster.table.schema, duck.table.schema)
    assert parquet_bytes(cluster.table) == parquet_bytes(duck.table)
    assert cluster.report.counts == duck.report.counts
