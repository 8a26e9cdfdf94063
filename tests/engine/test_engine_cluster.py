"""The engine on the Spark standalone cluster gives DuckDB's answers, byte for byte after sorting."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iplos.config import Settings
from iplos.engine import RegisterStore, connect

pytestmark = [pytest.mark.spark, pytest.mark.spark_cluster]


def parquet_bytes(table: pa.Table) -> bytes:
    """The table sorted on every column, as Parquet bytes (one writer, so equal tables give equal bytes)."""
    # Spark reads every Parquet column as nullable where DuckDB keeps a NOT NULL: compare values and
    # types, not that flag.
    table = table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))
    ordered = table.sort_by([(c, "ascending") for c in table.column_names])
    buffer = io.BytesIO()
    pq.write_table(ordered, buffer, compression="zstd")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """iplos.person for three årganger, 20,000 rows each, in several part files (several Spark tasks)."""
    settings = Settings(home=tmp_path_factory.mktemp("cluster-engine") / "iplos-data")
    store = RegisterStore(settings)
    rng = np.random.default_rng(16)
    kommuner = np.array(["0301", "1103", "4601", "5001", "1806", None], dtype=object)
    for year in (2017, 2018, 2019):
        n = 20_000
        table = pa.table(
            {
                "pseudonym": [f"{year}{i:060x}" for i in range(n)],
                "fodselsaar": pa.array(rng.integers(1915, 2010, n), pa.int16()),
                "kjonn": pa.array(rng.integers(1, 3, n), pa.int8()),
                "kommune": pa.array(kommuner[rng.integers(0, len(kommuner), n)], pa.string()),
                "husstand": pa.array(rng.integers(1, 4, n), pa.int8()),
            }
        )
        store.write_aargang("iplos", "person", year, table)
    return settings


def test_the_session_runs_on_two_workers(spark_cluster: Any) -> None:
    context = spark_cluster.sparkContext
    assert context.master.startswith("spark://")
    # One block manager per executor plus the driver's: two executors, one per worker.
    assert context._jsc.sc().getExecutorMemoryStatus().size() == 3


def test_frequencies_equal_duckdb(register: Settings, spark_cluster: Any) -> None:
    columns = ["aargang", "fodselsaar", "kjonn", "kommune"]
    with connect(register, "duckdb") as duck:
        expected = duck.frequencies(duck.table("iplos", "person"), columns, sensitive=["husstand"])
    with connect(register, "spark", spark_session=spark_cluster) as cluster:
        got = cluster.frequencies(cluster.table("iplos", "person"), columns, sensitive=["husstand"])
    assert int(pa.compute.sum(got.column("count")).as_py()) == 60_000
    assert parquet_bytes(got) == parquet_bytes(expected)


def test_written_extract_equals_duckdb(register: Settings, spark_cluster: Any, tmp_path: Any) -> None:
    def extract(engine: Any) -> Any:
        person = engine.table("iplos", "person", [2018, 2019])
        older = person.filter(person.fodselsaar <= 1950)
        # The cast is the query's: Spark widens int16 - int16 to int32, DuckDB keeps int16.
        return older.select(
            "pseudonym", "aargang", "kommune", alder=(older.aargang - older.fodselsaar).cast("int16")
        )

    with connect(register, "duckdb") as duck:
        duck.write_parquet(extract(duck), tmp_path / "duck.parquet")
    with connect(register, "spark", spark_session=spark_cluster) as cluster:
        cluster.write_parquet(extract(cluster), tmp_path / "cluster.parquet")
    expected, got = (pq.read_table(tmp_path / f"{n}.parquet") for n in ("duck", "cluster"))
    assert got.num_rows == expected.num_rows > 5_000
    assert parquet_bytes(got) == parquet_bytes(expected)
