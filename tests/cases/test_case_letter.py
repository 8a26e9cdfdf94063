"""The decision letter and the CLI for administrators and scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iplos.cases import CaseService
from iplos.cases.examples import drive
from iplos.cli import app
from iplos.config import Settings


@pytest.fixture
def home_service(iplos_home: Path) -> CaseService:
    return CaseService.from_settings(Settings.from_env())


def test_letter_from_events(home_service: CaseService) -> None:
    case = drive(home_service, "partly_approved")
    letter = home_service.letter(case.case_id)
    d = letter.data
    assert d["outcome"] == "partly_approved" and d["legal_basis"]["rek_reference"] == "REK sør-øst 2025/12345"
    granted = {v["name"]: v for v in d["granted_variables"]}
    assert granted["kommune"]["level"] == "fylke" and granted["fodselsaar"]["level"] == "5 years"
    assert d["denied_variables"][0]["reason"]
    assert {r["register"] for r in d["registers"]} == {"iplos", "dar"}
    assert d["deletion_date"] == case.content.deletion_date.isoformat()  # type: ignore[union-attr]
    for text in (
        "| iplos | kommune | forskning | fylke |",
        "Klagerett",
        "forvaltningsloven",
        "slettes senest",
    ):
        assert text in letter.markdown


def test_cli(home_service: CaseService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = drive(home_service, "invoiced")
    drive(home_service, "returned")
    runner = CliRunner()
    listed = runner.invoke(app, ["case", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {c["status"] for c in json.loads(listed.output)} == {"invoiced", "returned"}
    shown = runner.invoke(app, ["case", "show", done.case_id, "--json"])
    assert json.loads(shown.output)["case"]["status"] == "invoiced"
    stats = json.loads(runner.invoke(app, ["case", "stats", "--json"]).output)
    assert stats["cases"] == 2 and stats["decided"] == 1
    out = tmp_path / "vedtak.md"
    assert runner.invoke(app, ["case", "letter", done.case_id, "-o", str(out)]).exit_code == 0
    assert "Vedtak" in out.read_text(encoding="utf-8")
    invoice = json.loads(runner.invoke(app, ["case", "invoice", done.case_id, "--json"]).output)
    assert invoice["number"] == f"{done.case_id}-1"
    assert runner.invoke(app, ["case", "verify"]).exit_code == 0
    monkeypatch.setenv("IPLOS_NEW_PASSWORD", "a long enough password")
    assert runner.invoke(app, ["case", "user-add", "rita", "--role", "reviewer"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["case", "users", "--json"]).output)[0]["role"] == "reviewer"
    ran = runner.invoke(app, ["case", "run", "new", "create_draft", "--user", "rita", "--json"])
    assert ran.exit_code != 0 and "reviewer cannot open" in str(ran.exception)
    returned = next(c for c in json.loads(listed.output) if c["status"] == "returned")
    ran = runner.invoke(
        app, ["case", "run", returned["case_id"], "withdraw", "--user", "rita", "--body", "{}"]
    )
    assert "may not withdraw" in str(ran.exception)
    monkeypatch.setenv("IPLOS_NEW_PASSWORD", "another long password")
    assert runner.invoke(app, ["case", "user-add", "kari", "--role", "applicant"]).exit_code == 0
    body = json.dumps({"response": "done"})
    ran = runner.invoke(
        app, ["case", "run", returned["case_id"], "resubmit", "--user", "kari", "--body", body, "--json"]
    )
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["status"] == "under_review"
    with home_service.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE case_events SET payload = replace(payload, 'fylke', 'landsdel') WHERE seq = 6"
        )
    broken = runner.invoke(app, ["case", "verify"])
    assert broken.exit_code != 0 and "altered" in str(broken.exception)


def test_case_list_shows_whole_ids_in_80_columns(home_service: CaseService) -> None:
    ids = [
        drive(home_service, status).case_id for status in ("anonymisation_agreed", "partly_approved", "draft")
    ]
    # An 80-column terminal, told the way a terminal tells it (setting the console's width would fix it
    # for every later test in the process).
    result = CliRunner().invoke(app, ["case", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines()), result.output
    for case_id in ids:
        assert case_id in result.output, result.output
    assert "anonymisation_agreed" in result.output
