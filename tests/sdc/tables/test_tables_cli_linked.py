"""`iplos tables make` remembers what it released; `iplos tables audit` audits files together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_tables_linked_attack import age_hierarchy, persons, region
from typer.testing import CliRunner

from iplos.cases.release_store import ReleaseLog
from iplos.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IPLOS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("IPLOS_CASE_DB", raising=False)
    persons().to_csv(tmp_path / "persons.csv", index=False)
    region().to_arx_csv(tmp_path / "region.csv")
    for g in ("a", "b"):
        age_hierarchy(g).to_arx_csv(tmp_path / f"age-{g}.csv")
    return tmp_path


def make(home: Path, grouping: str, out: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(
        app,
        [
            "tables",
            "make",
            str(home / "persons.csv"),
            "--rows",
            "kommune:0,1",
            "--cols",
            "alder:1",
            "--cols",
            "kjonn",
            "--hierarchy",
            f"kommune={home / 'region.csv'}",
            "--hierarchy",
            f"alder={home / f'age-{grouping}.csv'}",
            "--out",
            str(home / out),
            "--report",
            str(home / f"{out}.json"),
            *extra,
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads((home / f"{out}.json").read_text())


def test_make_links_each_table_to_the_earlier_releases_of_the_same_data(home: Path) -> None:
    code, first = make(home, "a", "a.csv")
    assert code == 0 and first["linked_with"] == []
    code, second = make(home, "b", "b.csv")
    assert code == 0, second
    assert second["linked_with"] == ["a"] and second["joint_audit"]["passed"]
    log = ReleaseLog(f"sqlite:///{home / 'home' / 'cases.db'}")
    logged = log.releases("persons")
    log.close()
    assert [r.name for r in logged] == ["a", "b"] and len({r.data_version for r in logged}) == 1
    # alone, the second table is weaker: the joint audit of both files (with the log) fails
    code, alone = make(home, "b", "b-alone.csv", "--alone")
    assert code == 0 and "linked_with" not in alone
    assert alone["flags"]["secondary"] < second["flags"]["secondary"]
    ok = runner.invoke(
        app, ["tables", "audit", str(home / "a.csv"), str(home / "b.csv"), "--source", "persons"]
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(
        app,
        [
            "tables",
            "audit",
            str(home / "a.csv"),
            str(home / "b-alone.csv"),
            "--hierarchy",
            f"alder={home / 'age-b.csv'}",
            "--source",
            "persons",
            "--json",
        ],
    )
    assert bad.exit_code == 1, bad.output
    rep = json.loads(bad.output)
    assert rep["failing"] > 0 and rep["exactly_derivable"] > 0


def test_other_data_is_not_linked(home: Path) -> None:
    make(home, "a", "a.csv")
    data = persons(seed=8)
    data.to_csv(home / "persons.csv", index=False)  # same source, new data version
    code, rep = make(home, "b", "b.csv")
    assert code == 0 and rep["linked_with"] == []
