"""A case delivered on the Spark standalone cluster gets DuckDB's extract, byte for byte after sorting."""

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path
from typing import Any

import linkage_fixtures as registers
import pyarrow.parquet as pq
import pytest

from iplos.cases import Application, CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.delivery import Processor

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_scale import home_nursing_case  # the benchmark's case, tested on the cluster

pytestmark = [pytest.mark.spark, pytest.mark.spark_cluster]
YEARS = (2012, 2013, 2014)


def sorted_parquet(path: Path) -> bytes:
    """The extract sorted on every column as Parquet bytes, without the file's case and delivery ids
    (two cases by construction); the columns' labels and value labels stay in."""
    table = pq.read_table(path)
    table = table.replace_schema_metadata(None)
    ordered = table.sort_by([(c, "ascending") for c in table.column_names])
    buffer = io.BytesIO()
    pq.write_table(ordered, buffer, compression="zstd")
    return buffer.getvalue()


def fix_serial_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial numbers are drawn from a fresh random seed per delivery; fix it so that both deliveries
    draw the same numbers and the extracts can be compared whole. Every draw (one linkage of all the
    tables, and the renumbering of a kept linkage) takes its seed from linkage's `new_seed`."""
    seed = b"one-seed-for-both-deliveries!!!!"
    monkeypatch.setattr("iplos.linkage._serial.new_seed", lambda: seed)


def deliver_on_both(
    settings: Settings, service: CaseService, content: Application, session: Any
) -> dict[str, Path]:
    """The case delivered once on DuckDB and once on Spark (`session`): each delivery's folder."""
    cast = Cast()
    folders = {}
    for backend, spark in (("duckdb", None), ("spark", session)):
        case_id = drive(service, "accepted", cast, application=content).case_id
        processor = Processor(settings, service, cast.processor, backend=backend, spark_session=spark)  # type: ignore[arg-type]
        assert processor.next_step(case_id).action == "proposed"
        service.agree_anonymisation(case_id, cast.applicant)
        done = processor.next_step(case_id)
        assert done.action == "delivered" and done.delivered is not None
        folders[backend] = done.delivered.path
    return folders


def assert_same_tables(folders: dict[str, Path]) -> list[str]:
    """Every delivered table is the same on both backends: its Parquet file sorted on every column,
    and its CSV file's lines sorted. Returns the tables' names."""
    tables = sorted(p.stem for p in folders["duckdb"].glob("*.parquet"))
    assert tables == sorted(p.stem for p in folders["spark"].glob("*.parquet"))
    for table in tables:
        duck, cluster = (sorted_parquet(folders[b] / f"{table}.parquet") for b in ("duckdb", "spark"))
        assert cluster == duck, table
        csv = {b: sorted((folders[b] / f"{table}.csv").read_bytes().splitlines()) for b in folders}
        assert csv["spark"] == csv["duckdb"], table
    return tables


def test_cluster_delivers_duckdbs_extract(
    tmp_path: Path, spark_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example case: the person-year table with DAR's cause-of-death table stacked beside it
    (protected together, person by person), on both backends."""
    settings = Settings(home=tmp_path / "iplos-data")
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    fix_serial_seed(monkeypatch)
    folders = deliver_on_both(settings, service, content, spark_cluster)
    assert pq.read_table(folders["duckdb"] / "extract.parquet").num_rows > 100
    assert pq.read_table(folders["duckdb"] / "cause_of_death.parquet").num_rows > 10
    assert assert_same_tables(folders) == ["cause_of_death", "extract"]


def test_cluster_delivers_duckdbs_extract_across_2017(
    tmp_path: Path, spark_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home-nursing case of bench/bench_scale.py over IPLOS and KPR årganger, KPR's contacts
    included, on a small synthetic register."""
    from iplos.synth import generate

    settings = Settings(home=tmp_path / "iplos-data")
    generate(settings, scale=0.003, seed=16, years=range(2015, 2018), kpr_years=range(2017, 2020))
    service = CaseService.from_settings(settings)
    content = home_nursing_case(service.now().date(), tuple(range(2015, 2020)))
    fix_serial_seed(monkeypatch)
    folders = deliver_on_both(settings, service, content, spark_cluster)
    extract = pq.read_table(folders["duckdb"] / "extract.parquet")
    assert extract.num_rows > 100 and "antall_kontakter" in extract.column_names
    assert set(extract.column("aargang").to_pylist()) >= {2016, 2018}
    assert "extract" in assert_same_tables(folders)
