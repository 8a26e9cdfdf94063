"""The engine API gives the same answers on DuckDB and Spark."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iplos.config import Settings
from iplos.engine import Engine, RegisterStore, connect
from iplos.errors import IplosError


def test_table_reads_all_aargang_with_partition_column(engine: Engine, persons: RegisterStore) -> None:
    t = engine.table("iplos", "person")
    assert t.schema()["aargang"].is_int16()
    result = engine.to_arrow(t.order_by(["aargang", "pseudonym"]))
    assert result.num_rows == 10
    assert result["aargang"].to_pylist() == [2010] * 5 + [2011] * 5
    assert result["kommune"].to_pylist()[:4] == ["0301", "0301", "5001", None]
    assert result["dodsdato"].to_pylist()[1] == dt.date(2010, 3, 1)
    assert result.schema.field("kjonn").type == pa.int8()


def test_table_selects_aargang(engine: Engine, persons: RegisterStore) -> None:
    one = engine.to_arrow(engine.table("iplos", "person", 2011))
    assert set(one["aargang"].to_pylist()) == {2011}
    both = engine.table("iplos", "person", [2011, 2010])
    assert engine.count(both) == 10
    assert engine.aargang_list("iplos", "person") == [2010, 2011]
    if engine.backend == "duckdb":  # the årgang argument is read in Python, the same for every backend
        assert engine.count(engine.table("iplos", "person", np.int64(2010))) == 5
        assert engine.count(engine.table("iplos", "person", range(2010, 2012))) == 10
    batches = list(engine.to_batches(both.select("kjonn"), chunk_size=4))
    assert sum(b.num_rows for b in batches) == 10


def test_table_errors_name_what_is_missing(engine: Engine, persons: RegisterStore) -> None:
    with pytest.raises(IplosError, match=r"iplos\.tjeneste has no data yet"):
        engine.table("iplos", "tjeneste")
    with pytest.raises(IplosError, match=r"no årgang 2012 .*stored: 2010, 2011"):
        engine.table("iplos", "person", [2010, 2012])
    with pytest.raises(IplosError, match="register name"):
        engine.table("../etc", "person")


def test_frequencies_match_a_plain_count(
    engine: Engine, persons: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    t = engine.table("iplos", "person")
    freq = engine.frequencies(t, ["fodselsaar", "kjonn"], sensitive=["kommune"])
    rows = person_rows(2010).to_pylist() + person_rows(2011).to_pylist()
    expected = Counter((r["fodselsaar"], r["kjonn"], r["kommune"]) for r in rows)
    got = {(r["fodselsaar"], r["kjonn"], r["kommune"]): r["count"] for r in freq.to_pylist()}
    assert got == dict(expected)
    assert freq.column_names == ["fodselsaar", "kjonn", "kommune", "count"]
    assert freq.schema.field("count").type == pa.int64()
    # sorted by the keys, nulls last: the same table on every backend
    assert freq.to_pylist()[0] == {"fodselsaar": 1930, "kjonn": 2, "kommune": "0301", "count": 6}
    assert freq.to_pylist()[-1]["kommune"] is None


def test_frequencies_with_weight(engine: Engine, persons: RegisterStore) -> None:
    t = engine.table("iplos", "person").mutate(w=lambda s: s.kjonn.cast("float64") * 0.5)
    freq = engine.frequencies(t, ["kjonn"], weight="w")
    assert freq.to_pylist() == [
        {"kjonn": 1, "count": 4, "weight": 2.0},
        {"kjonn": 2, "count": 6, "weight": 6.0},
    ]


def test_frequencies_rejects_bad_columns(engine: Engine, persons: RegisterStore) -> None:
    t = engine.table("iplos", "person")
    with pytest.raises(IplosError, match="no column"):
        engine.frequencies(t, ["alder"])
    with pytest.raises(IplosError, match="reserved"):
        engine.frequencies(t.mutate(count=t.kjonn), ["count"])
    with pytest.raises(IplosError, match="at least one"):
        engine.frequencies(t, [])


def test_read_file_csv_keeps_codes_as_text(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kommune,timer\n0301,1.5\n5001,\n", encoding="utf-8")
    raw = engine.to_arrow(engine.read_file(path))
    assert raw.to_pylist() == [{"kommune": "0301", "timer": "1.5"}, {"kommune": "5001", "timer": None}]
    typed = engine.to_arrow(engine.read_file(path, schema={"timer": "float64"}))
    assert typed["timer"].to_pylist() == [1.5, None]
    with pytest.raises(IplosError, match="no column"):
        engine.read_file(path, schema={"nope": "int8"})


def test_read_file_parquet_and_write_parquet_round_trip(
    engine: Engine, tmp_path: Path, person_rows: Callable[[int], pa.Table]
) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(person_rows(2010), source)
    t = engine.read_file(source)
    out = engine.write_parquet(t.filter(t.kjonn == 2), tmp_path / "out" / "women.parquet")
    back = pq.read_table(out)
    assert back.num_rows == 3
    assert sorted(back["pseudonym"].to_pylist()) == sorted(
        r["pseudonym"] for r in person_rows(2010).to_pylist() if r["kjonn"] == 2
    )
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]
    frame = engine.to_pandas(t.select("kjonn").order_by("kjonn"))
    assert frame["kjonn"].tolist() == [1, 1, 2, 2, 2]


def test_read_file_errors(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(IplosError, match="no such file"):
        engine.read_file(tmp_path / "missing.csv")
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(IplosError, match="unsupported file type"):
        engine.read_file(tmp_path / "x.xlsx")


def test_declared_gap_names_backend_and_operation(engine: Engine) -> None:
    t = pa.table({"x": [1.0, 2.0, 4.0, 9.0]})
    import ibis

    expr = ibis.memtable(t).x.kurtosis().name("k").as_table()
    if engine.backend == "spark":
        with pytest.raises(IplosError, match="backend 'spark' has no operation 'Kurtosis'"):
            engine.to_arrow(expr)
    else:
        assert engine.to_arrow(expr)["k"][0].as_py() == pytest.approx(
            1.5
        )  # sample excess kurtosis (scipy, bias=False)


def test_connect_follows_configuration(settings: Settings) -> None:
    with connect(settings) as eng:
        assert eng.backend == "duckdb"
    with pytest.raises(IplosError, match="unknown data-plane backend"):
        connect(settings, "postgres")  # type: ignore[arg-type]


def test_package_imports_without_pyspark(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['pyspark'] = None; sys.modules['pyspark.sql'] = None\n"
        "import iplos.engine\n"
        "from iplos.config import Settings\n"
        "from iplos.errors import IplosError\n"
        "try:\n"
        f"    iplos.engine.connect(Settings(home={str(tmp_path)!r}), 'spark')\n"
        "except IplosError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "iplos[spark]" in out.stdout


def test_join_across_tables_of_a_committed_aargang(
    engine: Engine, store: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    person = person_rows(2012)
    ids = person["pseudonym"].to_pylist()
    tjeneste = pa.table(
        {
            "pseudonym": [ids[0], ids[0], ids[1], ids[2], "f" * 64],
            "tjeneste": pa.array([15, 1, 21, 15, 15], pa.int16()),
            "timer_per_uke": pa.array([2.5, 4.0, None, 1.0, 9.0], pa.float64()),
        }
    )
    store.commit_aargang("iplos", 2012, {"person": person, "tjeneste": tjeneste})
    p = engine.table("iplos", "person", 2012)
    t = engine.table("iplos", "tjeneste", 2012)
    joined = t.join(p, ["pseudonym", "aargang"]).filter(lambda s: s.tjeneste != 21)
    freq = engine.frequencies(joined, ["kjonn"], sensitive=["tjeneste"], weight="timer_per_uke")
    assert freq.to_pylist() == [
        {"kjonn": 1, "tjeneste": 15, "count": 1, "weight": 1.0},
        {"kjonn": 2, "tjeneste": 1, "count": 1, "weight": 4.0},
        {"kjonn": 2, "tjeneste": 15, "count": 1, "weight": 2.5},
    ]


@pytest.mark.spark
def test_spark_is_chosen_by_configuration_alone(settings: Settings, request: pytest.FixtureRequest) -> None:
    session = request.getfixturevalue("spark_session")
    with connect(dataclasses.replace(settings, engine="spark"), spark_session=session) as eng:
        assert eng.backend == "spark"
        assert engine_rows(eng) == [{"x": 1}]
    assert not session.sparkContext._jsc.sc().isStopped()  # a shared session is left running


def engine_rows(eng: Engine) -> list[dict[str, int]]:
    import ibis

    # From Arrow: ibis.memtable(dict) goes through pandas and trips a pandas 3 deprecation warning.
    return eng.to_arrow(ibis.memtable(pa.table({"x": [1]}))).to_pylist()


@pytest.mark.spark
def test_engines_without_a_session_share_one_for_the_process(tmp_path: Path) -> None:
    """Engines opened without a session run on one shared SparkSession, left running on close and
    stopped at exit (in a fresh process, so that the tests' own session cannot stand in for it)."""
    code = f"""
import atexit
from pathlib import Path
from iplos.config import Settings
from iplos.engine import connect
from iplos.engine._connect import shared_spark_session
held = []
# registered before the shared session's own exit hook, so it runs after it (last in, first out)
atexit.register(lambda: print("stopped-at-exit", held[0].sparkContext._jsc is None))
settings = Settings(home=Path({str(tmp_path)!r}), engine="spark")
apps = []
for _ in range(3):
    with connect(settings) as eng:
        apps.append(eng.spark_session.sparkContext.applicationId)
        assert eng.count(eng.read_file({str(tmp_path / "x.csv")!r})) == 2
session = shared_spark_session(settings)
held.append(session)
assert not session.sparkContext._jsc.sc().isStopped(), "closing an engine stopped the session"
print("apps", len(set(apps)), apps[0])
"""
    (tmp_path / "x.csv").write_text("a\n1\n2\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    words = out.stdout.split()
    assert words[:2] == ["apps", "1"] and words[2].startswith("local-")
    assert words[3:] == ["stopped-at-exit", "True"]
