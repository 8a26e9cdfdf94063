"""DuckDB within the configured memory limit: the setting reaches DuckDB, and big queries spill."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iplos.config import DEFAULT_MEMORY_LIMIT, Settings, parse_size
from iplos.engine import connect
from iplos.engine._budget import MemoryBudget, budget
from iplos.errors import IplosError

MiB = 1024**2


def _setting(engine: object, name: str) -> str:
    con = engine.con.con  # type: ignore[attr-defined]
    return str(con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0])


def test_default_limit_is_2gb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("IPLOS_MEMORY_LIMIT", "IPLOS_THREADS", "IPLOS_ENGINE_SLOTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(tmp_path)
    assert settings.memory_limit == DEFAULT_MEMORY_LIMIT == 2_000_000_000
    assert settings.threads is None
    assert settings.spill_dir == tmp_path.resolve() / "spill"


def test_settings_from_env_reach_duckdb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IPLOS_MEMORY_LIMIT", "512MiB")
    monkeypatch.setenv("IPLOS_ENGINE_SLOTS", "2")
    monkeypatch.setenv("IPLOS_THREADS", "1")
    settings = Settings.from_env(tmp_path)
    assert (settings.memory_limit, settings.engine_slots, settings.threads) == (512 * MiB, 2, 1)
    with connect(settings, "duckdb") as engine:
        # Each connection gets its slot: half of the process's 512 MiB.
        assert _setting(engine, "memory_limit") == "256.0 MiB"
        assert _setting(engine, "threads") == "1"
        spill = Path(_setting(engine, "temp_directory"))
        assert spill.parent == settings.spill_dir and spill.is_dir()
    assert not spill.exists(), "closing the engine removes its spill folder"


@pytest.mark.parametrize(
    "text", ["two gigabytes", "2 XB", "-1GB", "0MB", ""], ids=["words", "unit", "negative", "zero", "empty"]
)
def test_bad_memory_limit_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    monkeypatch.setenv("IPLOS_MEMORY_LIMIT", text or " ")
    with pytest.raises(IplosError, match="IPLOS_MEMORY_LIMIT"):
        Settings.from_env(tmp_path)


def test_bad_threads_and_slots_name_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IPLOS_THREADS", "0")
    with pytest.raises(IplosError, match="IPLOS_THREADS"):
        Settings.from_env(tmp_path)
    monkeypatch.delenv("IPLOS_THREADS")
    monkeypatch.setenv("IPLOS_ENGINE_SLOTS", "many")
    with pytest.raises(IplosError, match="IPLOS_ENGINE_SLOTS"):
        Settings.from_env(tmp_path)


@given(
    value=st.integers(min_value=1, max_value=10_000),
    unit=st.sampled_from(["KB", "MB", "GB", "KiB", "MiB", "GiB", "kb", "mib"]),
)
def test_parse_size_units(value: int, unit: str) -> None:
    factor = {"kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": MiB, "gib": 1024**3}
    assert parse_size(f"{value}{unit}") == value * factor[unit.lower()]
    assert parse_size(f"{value} {unit}") == value * factor[unit.lower()]


def _big_strings(path: Path, rows: int) -> Path:
    """`rows` distinct 32-character strings in random order: sorting them needs ~50 MB of DuckDB memory."""
    keys = pc.binary_join_element_wise(
        pc.cast(pa.array(range(rows, 0, -1)), pa.string()), pa.scalar("x" * 24), ""
    )
    pq.write_table(pa.table({"k": keys, "v": pa.array(range(rows))}), path)
    return path


def test_a_query_bigger_than_the_limit_spills(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", memory_limit=80 * MiB, engine_slots=2, threads=1)
    source = _big_strings(tmp_path / "big.parquet", 700_000)
    query = f"SELECT k, v FROM read_parquet('{source}') ORDER BY k"

    # The limit binds: the same sort without a spill folder runs out of memory.
    bare = duckdb.connect(":memory:", config={"memory_limit": "40MiB", "threads": 1})
    bare.execute("SET temp_directory = ''")
    with pytest.raises(duckdb.OutOfMemoryException):
        bare.sql(query).fetchall()
    bare.close()

    with connect(settings, "duckdb") as engine:
        assert _setting(engine, "memory_limit") == "40.0 MiB"
        expr = engine.read_file(source).order_by("k")
        out = engine.write_parquet(expr, tmp_path / "sorted.parquet")
    written = pq.read_table(out)
    assert written.num_rows == 700_000
    keys = written.column("k").to_pylist()
    assert keys == sorted(keys)


def test_the_budget_divides_the_limit_among_open_connections(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", memory_limit=300 * MiB, engine_slots=3)
    shared = budget(settings.memory_limit, settings.engine_slots)
    first = connect(settings, "duckdb")
    second = connect(settings, "duckdb")
    assert shared.in_use == 2
    limits = {_setting(e, "memory_limit") for e in (first, second)}
    assert limits == {"100.0 MiB"}, "open connections together stay within the process's limit"

    # A third delivery in another thread takes the last slot; a fourth waits until one closes.
    third = connect(settings, "duckdb")
    got: list[str] = []

    def fourth() -> None:
        with connect(settings, "duckdb") as engine:
            got.append(_setting(engine, "memory_limit"))

    waiter = threading.Thread(target=fourth)
    waiter.start()
    time.sleep(0.5)
    assert not got and shared.in_use == 3, "the fourth connection waits for a free slot"
    first.close()
    waiter.join(timeout=30)
    assert got == ["100.0 MiB"]
    for engine in (second, third):
        engine.close()
    assert shared.in_use == 0


def test_a_thread_that_holds_every_slot_gets_an_error_not_a_deadlock(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", memory_limit=128 * MiB, engine_slots=1)
    with connect(settings, "duckdb"), pytest.raises(IplosError, match="IPLOS_ENGINE_SLOTS"):
        connect(settings, "duckdb")
    with connect(settings, "duckdb"):
        pass  # the slot came back


def test_a_forgotten_engine_gives_its_slot_back_when_collected(tmp_path: Path) -> None:
    import gc

    settings = Settings(home=tmp_path / "home", memory_limit=160 * MiB, engine_slots=1)
    connect(settings, "duckdb")  # never closed
    gc.collect()
    with connect(settings, "duckdb"):
        assert budget(settings.memory_limit, 1).in_use == 1


def test_slots_too_small_for_duckdb_are_refused() -> None:
    with pytest.raises(IplosError, match="IPLOS_MEMORY_LIMIT"):
        MemoryBudget(64 * MiB, 4)


def test_duckdbs_limit_is_per_connection_which_is_why_the_budget_divides_it() -> None:
    """Two connections with a 64 MiB limit each hold more than 64 MiB together (nothing spills)."""
    limit = 64 * MiB
    held = []
    connections = []
    for _ in range(2):
        con = duckdb.connect(":memory:", config={"memory_limit": "64MiB", "threads": 1})
        con.execute("SET temp_directory = ''")  # no spilling: what is held is in memory
        con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::varchar) AS s FROM range(1000000)")
        rows = con.sql("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
        held.append(int(rows[0][0]))
        connections.append(con)
    assert all(h < limit for h in held) and sum(held) > limit, held
    for con in connections:
        con.close()
