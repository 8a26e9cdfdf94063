"""`iplos synth` and `iplos synth --report` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iplos.cli import app

runner = CliRunner()


def test_generate_then_report(iplos_home: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--scale", "0.003", "--years", "2016-2017", "--kpr", "2017", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["years"] == [2016, 2017] and data["kpr_years"] == [2017]
    assert 0 < data["rows"]["kpr.person"] < data["rows"]["iplos.person"]  # kpr 2017 = iplos 2017
    assert (iplos_home / "registers" / "kpr" / "person" / "aargang=2017").is_dir()
    result = runner.invoke(app, ["synth", "--report", "--json"])
    rows = json.loads(result.output)
    assert {r["measure"] for r in rows} >= {"persons", "women_share", "decisions", "age_share"}
    # At scale 0.003 the smallest figures are a handful of persons; the exit code says whether all fit.
    assert result.exit_code == (0 if all(r["ok"] for r in rows) else 1)
    result = runner.invoke(app, ["synth", "--report"])
    assert "Persons with services" in result.output


def test_progress_bar_run_and_refusal(iplos_home: Path) -> None:
    result = runner.invoke(app, ["synth", "--scale", "0.002", "--years", "2017"])
    assert result.exit_code == 0, result.output
    assert "iplos.tjeneste" in result.output
    again = runner.invoke(app, ["synth", "--scale", "0.002", "--years", "2017"])
    assert again.exit_code != 0


def test_bad_years(iplos_home: Path) -> None:
    result = runner.invoke(app, ["synth", "--years", "2007-2017-2018"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
