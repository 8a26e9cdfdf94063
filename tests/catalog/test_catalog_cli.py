"""`iplos catalog ...` commands, for humans and with --json."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iplos.catalog import Hierarchy
from iplos.cli import app
from iplos.errors import IplosError

runner = CliRunner()


def test_registers() -> None:
    result = runner.invoke(app, ["catalog", "registers", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(r["name"], r["first_year"], r["last_year"]) for r in data][:2] == [
        ("iplos", 2007, 2017),
        ("kpr", 2017, 2024),
    ]
    human = runner.invoke(app, ["catalog", "registers"], env={"COLUMNS": "140"})
    assert human.exit_code == 0 and "Dødsårsaksregisteret" in human.output


def test_list_filters_by_register_and_table() -> None:
    result = runner.invoke(app, ["catalog", "list", "--register", "kpr", "--table", "person", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data[0]["name"] == "pseudonym" and {d["register"] for d in data} == {"kpr"}
    assert "codes" not in data[0]
    human = runner.invoke(app, ["catalog", "list", "-r", "dar"])
    assert human.exit_code == 0 and "dodsdato" in human.output


def test_search_in_both_languages() -> None:
    for text in ("hjemmesykepleie", "home nursing"):
        result = runner.invoke(app, ["catalog", "search", text, "--json"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.output)
        assert hits[0]["name"] == "tjeneste"
        assert hits[0]["codes"][0]["code"] == "15"
    human = runner.invoke(app, ["catalog", "search", "hørsel"])
    assert human.exit_code == 0 and "horsel" in human.output
    none = runner.invoke(app, ["catalog", "search", "zebra"])
    assert none.exit_code == 0 and "No variable matches" in none.output


def test_show_with_code_list() -> None:
    result = runner.invoke(app, ["catalog", "show", "tjeneste", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["qualified_name"] == "iplos.tjeneste.tjeneste"
    assert len(data["codes"]) == 27
    assert {g["code"] for g in data["groups"]} == {"hjemmetjenester", "institusjon", "andre"}
    human = runner.invoke(app, ["catalog", "show", "husstand", "--register", "kpr"])
    assert human.exit_code == 0
    assert "kpr.person.husstand" in human.output and "Bor sammen med foreldre" in human.output


def test_unknown_variable_is_a_user_error() -> None:
    result = runner.invoke(app, ["catalog", "show", "fodselsar"])
    assert isinstance(result.exception, IplosError)
    assert "did you mean 'fodselsaar'" in str(result.exception)


def test_hierarchy_summary_levels_and_arx_output(tmp_path: Path) -> None:
    out = tmp_path / "age.csv"
    result = runner.invoke(
        app, ["catalog", "hierarchy", "alder", "-H", "age_ssb", "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["hierarchy"] == "age_ssb" and data["leaves"] == 121
    assert [lvl["values"] for lvl in data["levels"]] == [121, 6, 2, 1]
    back = Hierarchy.read_arx_csv(out)
    assert back.generalize("67", 1) == "67-79"
    level = runner.invoke(app, ["catalog", "hierarchy", "tjeneste", "--level", "SSB group", "--json"])
    assert json.loads(level.output)["values"] == {"hjemmetjenester": 4, "andre": 15, "institusjon": 8}
    human = runner.invoke(
        app, ["catalog", "hierarchy", "startdato", "-p", "first=2017-01-01", "-p", "last=2017-12-31"]
    )
    assert human.exit_code == 0 and "365 leaves" in human.output


def test_hierarchy_bad_param_is_a_user_error() -> None:
    result = runner.invoke(app, ["catalog", "hierarchy", "alder", "-p", "max_age"])
    assert isinstance(result.exception, IplosError)
    assert "KEY=VALUE" in str(result.exception)
