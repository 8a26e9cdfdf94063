"""`load_extract` validates every rule, reports all problems in one run, and commits whole or nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from iplos.config import Settings
from iplos.engine import ExtractRejected, RegisterStore, connect, load_extract, validate_extract
from iplos.errors import IplosError, Problem

YEAR = 2015
FNR = "01010100050"  # passes the control digits; must never appear in any output
SCORES = [
    "sosial_deltakelse", "beslutninger_dagligliv", "styre_atferd", "alminnelig_husarbeid",
    "skaffe_varer_tjenester", "ivareta_egen_helse", "lage_mat", "spise", "personlig_hygiene",
    "av_pakledning", "toalett", "bevege_innendors", "bevege_utendors", "hukommelse",
    "kommunikasjon", "syn", "horsel",
]  # fmt: skip

Rows = dict[str, list[dict[str, str]]]


def pseudonym(i: int) -> str:
    return f"{i:064x}"


def good_rows(n: int = 3, code: str = "F03") -> Rows:
    """A valid extract of `n` persons (one service, assessment and diagnosis each)."""
    person, tjeneste, funksjon, diagnose = [], [], [], []
    for i in range(n):
        p = pseudonym(i + 1)
        person.append(
            {
                "pseudonym": p, "fodselsaar": "1930", "kjonn": str(1 + i % 2), "kommune": "0301",
                "bydel": "030101", "husstand": "1", "dodsdato": "", "individuell_plan": "2",
                "koordinator": "2", "lege_vurdert_dato": "2014-06-01", "tannhelse_vurdert_dato": "",
            }
        )  # fmt: skip
        tjeneste.append(
            {
                "pseudonym": p, "tjeneste": "15", "vedtaksdato": "2014-12-01", "startdato": "2015-01-05",
                "sluttdato": "", "timer_per_uke": "3.5", "leverandor_orgnr": "974778874",
            }
        )  # fmt: skip
        funksjon.append({"pseudonym": p, "vurderingsdato": "2015-02-01", **dict.fromkeys(SCORES, "3")})
        diagnose.append({"pseudonym": p, "kodeverk": "ICD10", "kode": code, "diagnosedato": "2014-11-11"})
    return {"person": person, "tjeneste": tjeneste, "funksjon": funksjon, "diagnose": diagnose}


def write_csv(folder: Path, rows: Rows) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, data in rows.items():
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)
    return folder


def snapshot(settings: Settings) -> dict[str, bytes]:
    root = settings.registers_dir
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".lock"
    }


def rejected(path: Path, settings: Settings, **kwargs: object) -> ExtractRejected:
    before = snapshot(settings)
    with pytest.raises(ExtractRejected) as info:
        load_extract(path, "iplos", YEAR, settings=settings, **kwargs)  # type: ignore[arg-type]
    assert snapshot(settings) == before, "a rejected extract changed the store"
    text = str(info.value) + json.dumps(info.value.report.as_dict(), default=str)
    assert FNR not in text and FNR[:6] + " " + FNR[6:] not in text
    return info.value


def find(error: ExtractRejected, rule: str) -> list[Problem]:
    return [p for p in error.problems if p.rule == rule]


def test_good_extract_loads(tmp_path: Path, settings: Settings) -> None:
    folder = write_csv(tmp_path / "extract", good_rows())
    summary = load_extract(folder, "iplos", YEAR, settings=settings)
    assert summary.rows == {"person": 3, "tjeneste": 3, "funksjon": 3, "diagnose": 3}
    store = RegisterStore(settings)
    assert store.tables("iplos") == ["diagnose", "funksjon", "person", "tjeneste"]
    person = pq.read_table(store.files("iplos", "person", YEAR)[0])
    assert person.schema.field("kommune").type == pa.string()
    assert person.schema.field("kjonn").type == pa.int8()
    assert person.schema.field("fodselsaar").type == pa.int16()
    assert person.schema.field("dodsdato").type == pa.date32()
    assert "aargang" not in person.column_names
    with connect(settings, "duckdb") as engine:
        t = engine.table("iplos", "tjeneste", YEAR)
        got = engine.to_arrow(t.order_by("pseudonym"))
    assert got["timer_per_uke"].to_pylist() == [3.5, 3.5, 3.5]
    assert got["aargang"].to_pylist() == [YEAR] * 3
    with pytest.raises(IplosError, match="stored already"):
        load_extract(folder, "iplos", YEAR, settings=settings)
    one = tmp_path / "one" / "person.csv"
    write_csv(one.parent, {"person": good_rows(2)["person"]})
    assert load_extract(one, "iplos", YEAR, settings=settings, replace=True).rows == {"person": 2}
    with connect(settings, "duckdb") as engine:
        assert engine.count(engine.table("iplos", "person", YEAR)) == 2


def test_parquet_extract_with_typed_columns_loads(tmp_path: Path, settings: Settings) -> None:
    rows = good_rows()
    folder = tmp_path / "parquet"
    folder.mkdir()
    for table, data in rows.items():
        columns = {k: [r[k] or None for r in data] for k in data[0]}
        t = pa.table(columns)
        if table == "person":
            t = t.set_column(1, "fodselsaar", pa.array([1930] * 3, pa.int16()))
        pq.write_table(t, folder / f"{table}.parquet")
    assert load_extract(folder, "iplos", YEAR, settings=settings).rows["person"] == 3


def test_single_table_checks_pseudonyms_against_the_stored_person_table(
    tmp_path: Path, settings: Settings
) -> None:
    rows = good_rows()
    write_csv(tmp_path / "p", {"person": rows["person"]})
    load_extract(tmp_path / "p" / "person.csv", "iplos", YEAR, settings=settings)
    rows["tjeneste"][1]["pseudonym"] = pseudonym(99)
    write_csv(tmp_path / "t", {"tjeneste": rows["tjeneste"]})
    error = rejected(tmp_path / "t" / "tjeneste.csv", settings)
    assert [(p.row, p.column) for p in find(error, "person.missing")] == [(2, "pseudonym")]
    write_csv(tmp_path / "d", {"diagnose": rows["diagnose"]})
    error = rejected(tmp_path / "d" / "diagnose.csv", settings, aargang=YEAR) if False else None
    assert load_extract(tmp_path / "d" / "diagnose.csv", "iplos", YEAR, settings=settings).rows == {
        "diagnose": 3
    }


def _set(table: str, row: int, column: str, value: str) -> Callable[[Rows], None]:
    def change(rows: Rows) -> None:
        rows[table][row - 1][column] = value

    return change


BAD: list[tuple[str, Callable[[Rows], None], str, str, int, str]] = [
    # (case, change, rule, file, row, column)
    ("code", _set("person", 2, "kjonn", "3"), "value.code", "person", 2, "kjonn"),
    ("not an int", _set("person", 1, "husstand", "x"), "value.type", "person", 1, "husstand"),
    ("decimal int", _set("person", 3, "fodselsaar", "1930.5"), "value.type", "person", 3, "fodselsaar"),
    ("bad date", _set("tjeneste", 2, "vedtaksdato", "2015-02-30"), "value.type", "tjeneste", 2, "vedtaksdato"),
    ("date format", _set("tjeneste", 1, "startdato", "05.01.2015"), "value.type", "tjeneste", 1, "startdato"),
    ("decimal comma", _set("tjeneste", 3, "timer_per_uke", "7,5"), "value.type", "tjeneste", 3, "timer_per_uke"),
    ("empty", _set("person", 1, "kjonn", ""), "value.null", "person", 1, "kjonn"),
    ("start before vedtak", _set("tjeneste", 2, "startdato", "2014-11-01"), "date.order", "tjeneste", 2, "startdato"),
    ("end before start", _set("tjeneste", 3, "sluttdato", "2015-01-01"), "date.order", "tjeneste", 3, "sluttdato"),
    ("hours > 168", _set("tjeneste", 1, "timer_per_uke", "170"), "value.range", "tjeneste", 1, "timer_per_uke"),
    ("hours < 0", _set("tjeneste", 2, "timer_per_uke", "-1"), "value.range", "tjeneste", 2, "timer_per_uke"),
    ("born after", _set("person", 2, "fodselsaar", "2016"), "value.range", "person", 2, "fodselsaar"),
    ("hours on stay", _set("tjeneste", 2, "tjeneste", "21"), "tjeneste.hours_not_hour_based", "tjeneste", 2, "timer_per_uke"),
    ("kommune of 2018", _set("person", 3, "kommune", "5001"), "kommune.unknown", "person", 3, "kommune"),
    ("bydel", _set("person", 1, "bydel", "460101"), "bydel.format", "person", 1, "bydel"),
    ("pseudonym", _set("funksjon", 2, "pseudonym", "ABC"), "pseudonym.format", "funksjon", 2, "pseudonym"),
    ("orphan", _set("diagnose", 3, "pseudonym", pseudonym(77)), "person.missing", "diagnose", 3, "pseudonym"),
    ("duplicate", _set("person", 3, "pseudonym", pseudonym(1)), "person.duplicate", "person", 3, "pseudonym"),
    ("score", _set("funksjon", 1, "syn", "6"), "value.code", "funksjon", 1, "syn"),
    ("icd10", _set("diagnose", 2, "kode", "X9999"), "diagnose.code", "diagnose", 2, "kode"),
    ("icd10 as icpc2", _set("diagnose", 1, "kodeverk", "ICPC2"), "diagnose.code", "diagnose", 1, "kode"),
    ("kodeverk", _set("diagnose", 1, "kodeverk", "ICD9"), "value.code", "diagnose", 1, "kodeverk"),
    ("orgnr", _set("tjeneste", 1, "leverandor_orgnr", "12345"), "value.format", "tjeneste", 1, "leverandor_orgnr"),
    ("old vedtak", _set("tjeneste", 1, "vedtaksdato", "1850-01-01"), "date.range", "tjeneste", 1, "vedtaksdato"),
    ("future", _set("funksjon", 3, "vurderingsdato", "2016-01-01"), "date.range", "funksjon", 3, "vurderingsdato"),
    ("dead before", _set("person", 1, "dodsdato", "2014-12-31"), "date.outside_aargang", "person", 1, "dodsdato"),
    ("ended before", _set("tjeneste", 1, "sluttdato", "2014-12-31") , "date.outside_aargang", "tjeneste", 1, "startdato"),
    ("fnr", _set("diagnose", 2, "kode", FNR), "fnr.present", "diagnose", 2, "kode"),
    ("fnr spaced", _set("person", 3, "bydel", FNR[:6] + " " + FNR[6:]), "fnr.present", "person", 3, "bydel"),
    ("fnr as pseudonym", _set("person", 1, "pseudonym", FNR), "fnr.present", "person", 1, "pseudonym"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "rule", "table", "row", "column"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_each_bad_row_is_rejected_with_its_location(
    tmp_path: Path,
    settings: Settings,
    change: Callable[[Rows], None],
    rule: str,
    table: str,
    row: int,
    column: str,
) -> None:
    rows = good_rows(code="I639")  # an ICD-10 code that is no ICPC-2 code
    if rule == "date.outside_aargang" and table == "tjeneste":
        rows["tjeneste"][0]["startdato"] = "2014-12-02"
    change(rows)
    error = rejected(write_csv(tmp_path / "x", rows), settings)
    problems = find(error, rule)
    assert problems, f"no {rule} in {error}"
    problem = problems[0]
    assert (Path(problem.file or "").name, problem.row, problem.column) == (f"{table}.csv", row, column)
    assert f"row {row}" in str(error) and f"[rule {rule}]" in str(error)
    if rule == "fnr.present":
        assert problem.value == "*" * 11


def test_schema_and_file_problems(tmp_path: Path, settings: Settings) -> None:
    rows = good_rows()
    for r in rows["person"]:
        del r["husstand"]
        r["fnr"] = ""
    del rows["diagnose"]
    folder = write_csv(tmp_path / "x", rows)
    (folder / "notes.xlsx").write_bytes(b"")
    error = rejected(folder, settings)
    assert [p.column for p in find(error, "schema.missing_column")] == ["husstand"]
    assert [p.column for p in find(error, "schema.unknown_column")] == ["fnr"]
    assert [Path(p.file or "").name for p in find(error, "file.unknown")] == ["notes.xlsx"]
    assert len(find(error, "file.missing_table")) == 1


def test_file_without_header_row(tmp_path: Path, settings: Settings) -> None:
    rows = good_rows()
    folder = write_csv(tmp_path / "x", rows)
    path = folder / "person.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(pseudonym(1), FNR).split("\n", 1)[1], encoding="utf-8"
    )
    error = rejected(folder, settings)
    assert error.report.totals["fnr.present"] == 1
    assert all(p.column != FNR for p in error.problems)


def test_malformed_csv_line(tmp_path: Path, settings: Settings) -> None:
    folder = write_csv(tmp_path / "x", good_rows())
    path = folder / "tjeneste.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + f"{pseudonym(1)},15,2015-01-01,{FNR},,,,extra\n", encoding="utf-8"
    )
    error = rejected(folder, settings)
    problems = find(error, "file.malformed")
    assert [(p.row, Path(p.file or "").name) for p in problems] == [(4, "tjeneste.csv")]
    assert "value checks of tjeneste.csv skipped" in str(error)


def test_all_problems_in_one_run_with_cap_and_totals(tmp_path: Path, settings: Settings) -> None:
    rows = good_rows(60)
    for r in rows["person"]:
        r["kjonn"] = "7"
    rows["tjeneste"][5]["timer_per_uke"] = "200"
    rows["diagnose"][7]["kode"] = FNR
    error = rejected(write_csv(tmp_path / "x", rows), settings)
    totals = error.report.totals
    # the fødselsnummer is also no diagnosis code: reported twice, redacted both times
    assert totals == {"value.code": 60, "value.range": 1, "fnr.present": 1, "diagnose.code": 1}
    assert len(find(error, "value.code")) == 50
    assert [p.row for p in find(error, "value.code")] == list(range(1, 51))
    assert "the first 50 of each rule are listed" in str(error)


def test_fnr_in_a_parquet_number_column_is_found(tmp_path: Path, settings: Settings) -> None:
    rows = good_rows()
    folder = write_csv(tmp_path / "x", {k: v for k, v in rows.items() if k != "person"})
    person = pa.table({k: [r[k] or None for r in rows["person"]] for k in rows["person"][0]})
    # an integer column loses the leading zero of the fødselsnummer
    person = person.append_column("extra", pa.array([0, int(FNR), 5], pa.int64()))
    pq.write_table(person, folder / "person.parquet")
    error = rejected(folder, settings)
    assert [(p.row, p.column) for p in find(error, "fnr.present")] == [(2, "extra")]
    assert str(int(FNR)) not in str(error)


def test_validate_only_and_wrong_targets(tmp_path: Path, settings: Settings) -> None:
    folder = write_csv(tmp_path / "x", good_rows())
    report = validate_extract(folder, "iplos", YEAR, settings=settings)
    assert report.ok and report.rows["funksjon"] == 3
    assert snapshot(settings) == {}
    with pytest.raises(IplosError, match="outside the register 'iplos'"):
        load_extract(folder, "iplos", 2020, settings=settings)
    with pytest.raises(IplosError, match="unknown register"):
        load_extract(folder, "nope", YEAR, settings=settings)
    with pytest.raises(IplosError, match="no such file"):
        load_extract(tmp_path / "missing", "iplos", YEAR, settings=settings)
    assert validate_extract(folder, "iplos", YEAR, table="person", settings=settings).rows == {"person": 3}


def test_cli_load(tmp_path: Path, iplos_home: Path) -> None:
    from iplos.cli import app

    runner = CliRunner()
    rows = good_rows()
    folder = write_csv(tmp_path / "x", rows)
    result = runner.invoke(
        app, ["load", str(folder), "--register", "iplos", "--aargang", str(YEAR), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"]["person"] == 3
    rows["person"][0]["kommune"] = FNR
    bad = write_csv(tmp_path / "bad", rows)
    args = ["load", str(bad), "--register", "iplos", "--aargang", "2016", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["ok"] is False and report["totals"]["fnr.present"] == 1
    assert FNR not in result.output
    result = runner.invoke(app, ["load", str(folder), "--register", "iplos", "--aargang", "2016", "--check"])
    assert result.exit_code == 0 and "valid (nothing written)" in result.output


def test_linkable_register_table_loads_without_person_table(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "dodsfall.csv"
    path.write_text(
        "pseudonym,dodsdato,underliggende_dodsarsak\n"
        f"{pseudonym(1)},{YEAR}-03-01,I639\n{pseudonym(2)},{YEAR}-07-09,F03\n",
        encoding="utf-8",
    )
    assert load_extract(path, "dar", YEAR, settings=settings).rows == {"dodsfall": 2}
    bad = tmp_path / "bad" / "dodsfall.csv"
    bad.parent.mkdir()
    bad.write_text(
        f"pseudonym,dodsdato,underliggende_dodsarsak\n{pseudonym(3)},{YEAR - 1}-03-01,Q999X\n",
        encoding="utf-8",
    )
    error = rejected_in(bad, settings, "dar")
    assert sorted(error.report.totals) == ["date.outside_aargang", "diagnose.code"]


def rejected_in(path: Path, settings: Settings, register: str) -> ExtractRejected:
    with pytest.raises(ExtractRejected) as info:
        load_extract(path, register, YEAR, settings=settings, replace=True)
    return info.value
