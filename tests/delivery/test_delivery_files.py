from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from delivery_fixtures import KEY_HEX, disclosure_for, make_release

from iplos.delivery._gate import ReleaseRefused
from iplos.delivery._release import Release
from iplos.delivery._write import write_delivery


def deliver(release: Release, target: Path) -> Path:
    write_delivery(
        release,
        target,
        disclosure=disclosure_for(release),
        keys_hex=[KEY_HEX],
        forbidden_columns=["fnr", "pseudonym"],
        linkage_report={"counts": []},
    )
    return target


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or v == "" or (isinstance(v, float) and math.isnan(v))


def _same(a: object, b: object) -> bool:
    if _missing(a):
        return _missing(b)
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b))  # type: ignore[arg-type]
    return str(a) == str(b)


def _assert_frame(source: pd.DataFrame, back: pd.DataFrame) -> None:
    assert list(back.columns) == list(source.columns)
    assert len(back) == len(source)
    for col in source.columns:
        for a, b in zip(source[col].tolist(), back[col].tolist(), strict=True):
            assert _same(a, b), (col, a, b)


def test_every_format_reads_back_with_labels(tmp_path: Path, release: Release) -> None:
    target = deliver(release, tmp_path / "d001")
    _assert_frame(release.data, pq.read_table(target / "extract.parquet").to_pandas())
    _assert_frame(release.data, pd.read_csv(target / "extract.csv", dtype=str, keep_default_na=False))
    schema = pq.read_schema(target / "extract.parquet")
    assert schema.field("kjonn").metadata[b"label"].decode() == "Kjønn"
    assert json.loads(schema.field("fylke").metadata[b"value_labels"]) == {
        "03": "Oslo",
        "11": "Rogaland",
        "46": "Vestland",
    }
    for reader, path in ((pyreadstat.read_dta, "extract.dta"), (pyreadstat.read_sav, "extract.sav")):
        frame, meta = reader(str(target / path))
        _assert_frame(release.data, frame)
        labels = meta.column_names_to_labels
        assert labels["kjonn"] == "Kjønn" and labels["dodsarsak"] == "Underliggende dødsårsak"
        assert meta.variable_value_labels["kjonn"] == {1: "Mann", 2: "Kvinne"}
        assert meta.variable_value_labels["spise"][3] == "skår 3"
    _, sav_meta = pyreadstat.read_sav(str(target / "extract.sav"))
    assert sav_meta.variable_value_labels["fylke"]["46"] == "Vestland"


def test_documents_and_manifest(tmp_path: Path, release: Release) -> None:
    target = deliver(release, tmp_path / "d001")
    names = {p.name for p in target.iterdir()}
    assert names == {
        "extract.parquet",
        "extract.csv",
        "extract.dta",
        "extract.sav",
        "codebook.json",
        "codebook.html",
        "disclosure-report.json",
        "disclosure-report.html",
        "linkage-report.json",
        "delivery.log",
        "MANIFEST.sha256",
    }
    book = json.loads((target / "codebook.json").read_text())
    assert [v["name"] for v in book["variables"]] == list(release.data.columns)
    assert book["variables"][4]["generalization"] == "region: fylke (level 1)"
    assert "<svg" in (target / "disclosure-report.html").read_text()
    report = json.loads((target / "disclosure-report.json").read_text())
    assert report["gate"]["passed"] is True
    for line in (target / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest
    assert len((target / "MANIFEST.sha256").read_text().splitlines()) == len(names) - 1


def test_gate_refuses_a_class_below_k(tmp_path: Path) -> None:
    bad = make_release(per_class=4)
    with pytest.raises(ReleaseRefused, match="fewer than k=5"):
        deliver(bad, tmp_path / "d001")
    assert not (tmp_path / "d001").exists() and not [p for p in tmp_path.iterdir() if p.name != ".lock"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("15076500565", "fødselsnummer-shaped"),
        ("150765 00565", "fødselsnummer-shaped"),
        (KEY_HEX.upper(), "pseudonym key"),
        ("0f" * 32, "pseudonym-shaped"),
    ],
)
def test_gate_refuses_identifying_values(tmp_path: Path, value: str, kind: str) -> None:
    rows = 30
    bad = make_release(extra={"note": ["ok"] * (rows - 1) + [value]})
    with pytest.raises(ReleaseRefused, match=kind) as info:
        deliver(bad, tmp_path / "d001")
    assert value not in str(info.value) and value.lower() not in str(info.value)
    assert not (tmp_path / "d001").exists() and not [p for p in tmp_path.iterdir() if p.name != ".lock"]


def test_gate_refuses_an_identifier_column(tmp_path: Path) -> None:
    bad = make_release(extra={"fnr": ["x"] * 30})
    with pytest.raises(ReleaseRefused, match="identifier column"):
        deliver(bad, tmp_path / "d001")


def test_gate_refuses_too_much_suppression(tmp_path: Path, release: Release) -> None:
    from dataclasses import replace

    with pytest.raises(ReleaseRefused, match="suppressed"):
        deliver(replace(release, records_before=100), tmp_path / "d001")


def test_invalid_eleven_digits_pass(tmp_path: Path) -> None:
    ok = make_release(extra={"note": ["12345678901"] * 30})
    deliver(ok, tmp_path / "d001")
