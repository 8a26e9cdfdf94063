"""`iplos regions list|harmonise|history`, as tables and as --json."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from iplos.cli import app
from iplos.errors import IplosError

runner = CliRunner()


def _json(args: list[str]) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_json() -> None:
    kommuner = _json(["regions", "list", "2007", "--json"])
    assert isinstance(kommuner, list) and len(kommuner) == 431
    assert kommuner[0] == {
        "code": "0101", "name": "Halden", "fylke_code": "01", "fylke_name": "Østfold",
        "valid_from": "2006-01-01", "valid_to": "2020-01-01",
    }  # fmt: skip


@pytest.mark.parametrize(("at", "n"), [("2017", 19), ("2018-06-30", 18), ("2020", 11), ("2024", 15)])
def test_list_counties_json(at: str, n: int) -> None:
    fylker = _json(["regions", "list", at, "--counties", "--json"])
    assert isinstance(fylker, list) and len(fylker) == n


def test_list_table() -> None:
    result = runner.invoke(app, ["regions", "list", "2024", "--counties"])
    assert result.exit_code == 0 and "Trøndelag" in result.output


def test_harmonise_json_and_table() -> None:
    out = _json(["regions", "harmonise", "1507", "3001", "--from", "2023", "--to", "2024", "--json"])
    assert isinstance(out, dict)
    assert [c["code"] for c in out["1507"]] == ["1508", "1580"]
    assert out["3001"] == [{"code": "3101", "name": "Halden", "share": 1.0, "how": "renumbered"}]
    result = runner.invoke(app, ["regions", "harmonise", "5012", "--from", "2019", "--to", "2020"])
    assert result.exit_code == 0 and "Heim" in result.output and "split" in result.output


def test_history_json() -> None:
    events = _json(["regions", "history", "1507", "--json"])
    assert isinstance(events, list)
    assert events[0]["event"] == "formed" and events[-1]["event"] == "split"
    assert ["1508", "Ålesund"] in events[-1]["related"]


def test_errors_are_iplos_errors() -> None:
    result = runner.invoke(app, ["regions", "list", "2030"])
    assert isinstance(result.exception, IplosError) and "2030" in str(result.exception)
    result = runner.invoke(app, ["regions", "harmonise", "1601", "--from", "2019", "--to", "2024"])
    assert isinstance(result.exception, IplosError) and "1601" in str(result.exception)
