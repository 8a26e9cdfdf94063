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

from iplos.cases import CaseService
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


def test_cluster_delivers_duckdbs_extract(
    tmp_path: Path, spark_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "iplos-data")
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    cast = Cast()
    example = example_application(service.now().date())
    # The person-year extract alone: with DAR's cause-of-death table stacked beside it, the Spark
    # delivery is stopped by the gate (a class of 1 the search did not see; open, issue 16).
    content = dataclasses.replace(
        example,
        aarganger=YEARS,
        variables=tuple(v for v in example.variables if v.register == "iplos"),
        linkages=(),
    )
    # Serial numbers are drawn from a fresh random seed per delivery; fix it so that both deliveries
    # draw the same numbers and the extracts can be compared whole.
    monkeypatch.setattr("iplos.linkage._serial.new_seed", lambda: b"one-seed-for-both-deliveries!!!!")
    folders = {}
    for backend, session in (("duckdb", None), ("spark", spark_cluster)):
        case_id = drive(service, "accepted", cast, application=content).case_id
        processor = Processor(settings, service, cast.processor, backend=backend, spark_session=session)  # type: ignore[arg-type]
        assert processor.next_step(case_id).action == "proposed"
        service.agree_anonymisation(case_id, cast.applicant)
        done = processor.next_step(case_id)
        assert done.action == "delivered" and done.delivered is not None
        folders[backend] = done.delivered.path
    duck, cluster = (sorted_parquet(folders[b] / "extract.parquet") for b in ("duckdb", "spark"))
    assert pq.read_table(folders["duckdb"] / "extract.parquet").num_rows > 100
    assert cluster == duck
    csv = {b: sorted((folders[b] / "extract.csv").read_bytes().splitlines()) for b in folders}
    assert csv["spark"] == csv["duckdb"]


def test_cluster_delivers_duckdbs_extract_across_2017(
    tmp_path: Path, spark_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home-nursing case of bench/bench_scale.py over IPLOS and KPR årganger, KPR's contacts
    included, on a small synthetic register."""
    from iplos.synth import generate

    settings = Settings(home=tmp_path / "iplos-data")
    generate(settings, scale=0.003, seed=16, years=range(2015, 2018), kpr_years=range(2017, 2020))
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = home_nursing_case(service.now().date(), tuple(range(2015, 2020)))
    monkeypatch.setattr("iplos.linkage._serial.new_seed", lambda: b"one-seed-for-both-deliveries!!!!")
    folders = {}
    for backend, session in (("duckdb", None), ("spark", spark_cluster)):
        case_id = drive(service, "accepted", cast, application=content).case_id
        processor = Processor(settings, service, cast.processor, backend=backend, spark_session=session)  # type: ignore[arg-type]
        assert processor.next_step(case_id).action == "proposed"
        service.agree_anonymisation(case_id, cast.applicant)
        done = processor.next_step(case_id)
        assert done.action == "delivered" and done.delivered is not None
        folders[backend] = done.delivered.path
    extract = pq.read_table(folders["duckdb"] / "extract.parquet")
    assert extract.num_rows > 100 and "antall_kontakter" in extract.column_names
    assert set(extract.column("aargang").to_pylist()) >= {2016, 2018}
    duck, cluster = (sorted_parquet(folders[b] / "extract.parquet") for b in ("duckdb", "spark"))
    assert cluster == duck
