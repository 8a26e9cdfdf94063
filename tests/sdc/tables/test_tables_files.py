"""CSV/Excel/HTML output, the file audit, and the `iplos tables` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tables_builders import records, two_by_three
from typer.testing import CliRunner

from iplos.cli import app
from iplos.errors import IplosError
from iplos.sdc.tables import MinCount, audit_file, protect, read_table_csv, table_csv, write_table


def test_csv_round_trip_and_audit(tmp_path: Path) -> None:
    t = two_by_three()
    result = protect(t, [MinCount(5)], secondary="fast")
    path = write_table(result, tmp_path / "t.csv")
    text = path.read_text()
    assert text.splitlines()[0] == "r,c,value,flag"
    assert "a,y,,primary" in text and "Total,Total,49,published" in text
    tf = read_table_csv(path)
    assert [d.size for d in tf.dimensions] == [3, 4]
    assert tf.suppressed.sum() == 4 and tf.sensitive.sum() == 1
    _, res = audit_file(path)
    assert res.passed
    # the same table with primary suppression only: (a, y) = 25 - 10 - 12 exactly
    bare = write_table(protect(t, [MinCount(5)], secondary="none"), tmp_path / "bare.csv")
    _, res = audit_file(bare)
    assert not res.passed and res.exact.size == 1


def test_file_audit_reads_hierarchies_from_level_columns(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text(
        "region:fylke,region:kommune,value,flag\n"
        "Total,Total,30,published\n"
        "01,Total,12,published\n"
        "01,0101,,primary\n"
        "01,0102,,secondary\n"
        "02,Total,18,published\n"
        "02,0201,18,published\n"
    )
    tf, res = audit_file(csv)
    assert tf.dimensions[0].parents == (-1, 0, 1, 1, 0, 4)
    assert res.passed  # 0101 + 0102 = 12: each anywhere in [0, 12]
    assert res.upper[2] == pytest.approx(12)


def test_file_audit_errors_name_the_problem(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("r,value,flag\nTotal,10,published\na,12,published\nb,,secondary\n")
    with pytest.raises(IplosError, match="contradict"):
        audit_file(csv)  # b would have to be -2
    csv.write_text("g:g,g:r,value,flag\nTotal,Total,10,published\n01,0101,10,published\n")
    with pytest.raises(IplosError, match="without its subtotal"):
        read_table_csv(csv)
    csv.write_text("r,value,flag\nTotal,10,published\na,abc,published\nb,6,published\n")
    with pytest.raises(IplosError, match="not numbers"):
        read_table_csv(csv)


def test_excel_and_html(tmp_path: Path) -> None:
    result = protect(two_by_three(), [MinCount(5)], secondary="fast")
    xlsx = write_table(result, tmp_path / "t.xlsx")
    sheet = pd.read_excel(xlsx, sheet_name="table")
    assert list(sheet.columns) == ["r", "c", "value", "flag"] and len(sheet) == 12
    html = write_table(result, tmp_path / "t.html", row_dimensions=1).read_text()
    assert html.count("<tr>") == 4 and "×" in html
    assert "primary" in table_csv(result)


def test_excel_and_html_carry_labels_beside_codes(tmp_path: Path) -> None:
    result = protect(two_by_three(), [MinCount(5)], secondary="fast")
    labels = {"r": {"a": "Oslo", "b": "Bergen"}}
    sheet = pd.read_excel(write_table(result, tmp_path / "t.xlsx", labels=labels), sheet_name="table")
    assert list(sheet.columns) == ["r", "r (tekst)", "c", "value", "flag"]
    texts = dict(zip(sheet["r"], sheet["r (tekst)"], strict=True))
    assert texts == {"Total": "Total", "a": "Oslo", "b": "Bergen"}
    html = write_table(result, tmp_path / "t.html", row_dimensions=1, labels=labels).read_text()
    assert "a Oslo" in html and "b Bergen" in html
    csv = write_table(result, tmp_path / "t.csv", labels=labels).read_text()
    assert "Oslo" not in csv  # the CSV is what audits and programs read: codes only


def test_cli_make_and_audit(tmp_path: Path) -> None:
    counts = {("a", "x"): 10, ("a", "y"): 3, ("a", "z"): 12, ("b", "x"): 8, ("b", "y"): 9, ("b", "z"): 7}
    data = tmp_path / "in.csv"
    records(counts, ("r", "c")).to_csv(data, index=False)
    out, report = tmp_path / "t.csv", tmp_path / "r.json"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "tables",
            str(data),
            "--rows",
            "r",
            "--cols",
            "c",
            "--secondary",
            "optimal",
            "--out",
            str(out),
            "--report",
            str(report),
        ],
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(report.read_text())
    assert rep["audit"]["passed"] and rep["flags"]["secondary"] == 3
    assert all("value" not in cell for cell in rep["audit"]["cells"])  # no true values leak
    res = runner.invoke(app, ["tables", "audit", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["passed"]
    bare = tmp_path / "bare.csv"
    res = runner.invoke(
        app,
        [
            "tables",
            "make",
            str(data),
            "--rows",
            "r",
            "--cols",
            "c",
            "--secondary",
            "none",
            "--no-group-disclosure",
            "--out",
            str(bare),
        ],
    )
    assert res.exit_code == 1
    assert runner.invoke(app, ["tables", "audit", str(bare)]).exit_code == 1
    res = runner.invoke(
        app, ["tables", str(data), "--rows", "r", "--cell-key", "--out", str(tmp_path / "k.html")]
    )
    assert res.exit_code == 0, res.output
