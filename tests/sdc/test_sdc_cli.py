"""`iplos assess` and `iplos anonymise` end to end on small files; bad input writes nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from iplos.cli import app
from iplos.errors import IplosError
from iplos.sdc import KAnonymity, check_release

runner = CliRunner()


def _hierarchies(folder: Path) -> dict[str, Path]:
    age = folder / "alder.csv"
    age.write_text(
        "".join(f"{a};{a // 10 * 10}-{a // 10 * 10 + 9};*\n" for a in range(0, 100)), encoding="utf-8"
    )
    sex = folder / "kjonn.csv"
    sex.write_text("1;*\n2;*\n", encoding="utf-8")
    kom = folder / "kommune.csv"
    kom.write_text("0301;03;*\n1101;11;*\n1103;11;*\n4601;46;*\n", encoding="utf-8")
    return {"alder": age, "kjonn": sex, "kommune": kom}


def _data(folder: Path, n: int = 120, sep: str = ";") -> Path:
    rows = ["alder" + sep + "kjonn" + sep + "kommune" + sep + "diagnose"]
    kommuner = ["0301", "1101", "1103", "4601"]
    for i in range(n):
        rows.append(
            sep.join([str(60 + (i * 7) % 35), str(1 + i % 2), kommuner[(i * 3) % 4], "ABCD"[(i // 3) % 4]])
        )
    path = folder / "uttrekk.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _qi_args(h: dict[str, Path]) -> list[str]:
    return [arg for name, p in h.items() for arg in ("--qi", f"{name}={p}")]


def test_anonymise_writes_release_and_report(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    data = _data(tmp_path, sep=",")
    out = tmp_path / "anon.csv"
    report = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "anonymise",
            str(data),
            *_qi_args(h),
            "--k",
            "5",
            "--max-suppression",
            "0.05",
            "--out",
            str(out),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    released = pd.read_csv(out, sep=";", dtype=str)
    assert len(released) == 120
    check = check_release(released, ["alder", "kjonn", "kommune"], [], [KAnonymity(5)])
    assert check.passed, check.failures
    data_report = json.loads(report.read_text())
    assert set(data_report["quasi_identifiers"]) == {"alder", "kjonn", "kommune"}
    assert data_report["achieved"]["k"] >= 5
    assert data_report["suppressed_records"] == check.suppressed_records
    assert {"loss", "entropy", "discernibility", "aecs", "precision"} <= set(data_report["metrics_after"])
    assert data_report["elapsed_seconds"] > 0


def test_anonymise_parquet_with_l_diversity_and_bounds(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    csv = _data(tmp_path)
    parquet = tmp_path / "uttrekk.parquet"
    pd.read_csv(csv, sep=";", dtype={"kommune": str}).to_parquet(parquet)
    out = tmp_path / "anon.parquet"
    result = runner.invoke(
        app,
        [
            "anonymise",
            str(parquet),
            *_qi_args(h),
            "--sensitive",
            "diagnose",
            "--k",
            "3",
            "--l",
            "2",
            "--max-suppression",
            "0",
            "--max-level",
            "kommune=1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["quasi_identifiers"]["kommune"]["level"] <= 1
    released = pd.read_parquet(out).astype(str)
    check = check_release(released, ["alder", "kjonn", "kommune"], ["diagnose"], [KAnonymity(3)])
    assert check.passed


def test_local_suppression_keeps_every_record(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    data = _data(tmp_path, n=57)
    out = tmp_path / "local.csv"
    result = runner.invoke(
        app,
        [
            "anonymise",
            str(data),
            *_qi_args(h),
            "--k",
            "4",
            "--max-suppression",
            "0.1",
            "--local-suppression",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    released = pd.read_csv(out, sep=";", dtype=str)
    assert len(released) == 57
    sizes = released.groupby(["alder", "kjonn", "kommune"]).size()
    assert sizes.min() >= 4
    # The report describes the file written: records blanked in every quasi-identifier count as
    # suppressed, and the loss is that of the written cells.
    report = json.loads(result.output)
    qis = ["alder", "kjonn", "kommune"]
    fully = int((released[qis] == "*").all(axis=1).sum())
    assert report["suppressed_records"] == fully == report["local_suppression"]["records_fully_blanked"]
    assert set(report["metrics_after"]) == {"loss"}
    domain = {"alder": 100, "kjonn": 2, "kommune": 4}
    under = {"alder": {0: 1, 1: 10, 2: 100}, "kjonn": {0: 1, 1: 2}, "kommune": {0: 1, 2: 4}}
    values = []
    for q in qis:
        level = report["quasi_identifiers"][q]["level"]
        d = domain[q]
        costs = []
        for v in released[q]:
            if v == "*":
                costs.append(d)
            elif q == "kommune" and level == 1:
                costs.append({"03": 1, "11": 2, "46": 1}[v])
            else:
                costs.append(under[q][level])
        values.append((sum(costs) - len(costs)) / (len(costs) * d - len(costs)))
    expected = 1.0
    for v in values:
        expected *= (1 + v) ** (1 / len(values))
    assert report["metrics_after"]["loss"] == pytest.approx(expected - 1)


def test_person_key_protects_persons_and_assess_shows_person_risk(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    rows = ["lopenr;aargang;alder;kjonn;kommune;timer"]
    kommuner = ["0301", "1101", "1103", "4601"]
    for p in range(80):
        for i, year in enumerate((2012, 2013, 2014)):
            if (p * 7 + i) % 5 != 0:
                rows.append(f"{p};{year};{60 + (p * 7) % 30 + i};{1 + p % 2};{kommuner[(p * 3) % 4]};{p % 7}")
    data = tmp_path / "years.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    years = tmp_path / "aargang.csv"
    years.write_text("2012;*\n2013;*\n2014;*\n", encoding="utf-8")
    qi = [*_qi_args(h), "--qi", f"aargang={years}"]
    out = tmp_path / "persons.csv"
    args = ["anonymise", str(data), *qi, "--k", "3", "--max-level", "aargang=0", "--person-key", "lopenr"]
    result = runner.invoke(app, [*args, "--max-suppression", "0.1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["unit"] == "person" and report["risk_after"]["person"]["smallest"] >= 3
    released = pd.read_csv(out, sep=";", dtype=str)
    known = ["aargang", "alder", "kjonn", "kommune"]
    kept = released[~(released[known] == "*").all(axis=1)]
    rows_of: dict[str, list[tuple[str, ...]]] = {}
    for r in kept.itertuples(index=False):
        rows_of.setdefault(r.lopenr, []).append((r.aargang, r.alder, r.kjonn, r.kommune))
    classes = Counter(tuple(sorted(v)) for v in rows_of.values())
    assert classes and min(classes.values()) >= 3
    assessed = runner.invoke(
        app, ["assess", str(data), *qi, "--person-key", "lopenr", "--acquaintance", "timer=hours", "--json"]
    )
    assert assessed.exit_code == 0, assessed.output
    views = json.loads(assessed.output)["person_level"]
    assert views["person"]["highest"] >= views["record"]["highest"]
    assert views["acquaintance"]["highest"] >= views["person"]["highest"]


def test_assess_reports_risk(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    data = _data(tmp_path, n=30)
    result = runner.invoke(app, ["assess", str(data), *_qi_args(h), "--sensitive", "diagnose", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n_records"] == 30
    assert report["prosecutor"]["highest"] == pytest.approx(1 / report["k"])
    assert report["suda"]["records_with_msu"] >= 0
    text = runner.invoke(app, ["assess", str(data), *_qi_args(h)])
    assert text.exit_code == 0 and "prosecutor risk" in text.output


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d, h: (d, ["--qi", "bosted=" + str(h["kommune"])]), "bosted"),
        (lambda d, h: (d.write_text(d.read_text() + "200;1;0301;A\n") and d, []), "'200'"),
        (
            lambda d, h: (h["kommune"].write_text("0301;03;N\n1101;03;S\n1103;11;S\n4601;46;S\n") and d, []),
            "nest",
        ),
        (lambda d, h: (d, ["--k", "1000"]), "no transformation"),
    ],
    ids=["missing column", "value not in hierarchy", "inconsistent hierarchy", "impossible criteria"],
)
def test_bad_input_writes_nothing(tmp_path: Path, mutate: object, message: str) -> None:
    h = _hierarchies(tmp_path)
    data = _data(tmp_path)
    data, extra = mutate(data, h)  # type: ignore[operator]
    out = tmp_path / "anon.csv"
    args = [
        "anonymise",
        str(data),
        *_qi_args(h),
        "--k",
        "5",
        "--max-suppression",
        "0.0",
        "--out",
        str(out),
        *extra,
    ]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, IplosError)
    assert message in str(result.exception)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".anon")]


def test_catalogue_hierarchy_when_no_file_is_given(tmp_path: Path) -> None:
    pytest.importorskip("iplos.catalog.hierarchies")
    h = _hierarchies(tmp_path)
    data = _data(tmp_path, n=40)
    args = ["assess", str(data), "--qi", "kjonn", "--qi", f"alder={h['alder']}", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["n_records"] == 40


def test_population_gives_journalist_risk(tmp_path: Path) -> None:
    h = _hierarchies(tmp_path)
    sample = _data(tmp_path, n=20)
    population = tmp_path / "pop"
    population.mkdir()
    pop = _data(population, n=120)
    result = runner.invoke(app, ["assess", str(sample), *_qi_args(h), "--population", str(pop), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["journalist"]["highest"] <= report["prosecutor"]["highest"]


def _years_file(tmp_path: Path) -> tuple[Path, list[str]]:
    h = _hierarchies(tmp_path)
    rows = ["lopenr;aargang;alder;kjonn;kommune;timer"]
    kommuner = ["0301", "1101", "1103", "4601"]
    for p in range(90):
        for i, year in enumerate((2012, 2013, 2014)):
            if (p * 7 + i) % 5 != 0:
                rows.append(f"{p};{year};{60 + (p * 7) % 30 + i};{1 + p % 2};{kommuner[(p * 3) % 4]};{p % 7}")
    data = tmp_path / "years.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    years = tmp_path / "aargang.csv"
    years.write_text("2012;*\n2013;*\n2014;*\n", encoding="utf-8")
    return data, [*_qi_args(h), "--qi", f"aargang={years}"]


def _person_classes(released: pd.DataFrame, known: list[str]) -> Counter[tuple[tuple[str, ...], ...]]:
    kept = released[~(released[known] == "*").all(axis=1)]
    rows_of: dict[str, list[tuple[str, ...]]] = {}
    for r in kept.itertuples(index=False):
        rows_of.setdefault(str(r.lopenr), []).append(tuple(str(getattr(r, q)) for q in known))
    return Counter(tuple(sorted(v)) for v in rows_of.values())


@pytest.mark.parametrize("person", [True, False])
def test_local_recoding_through_the_release_path(tmp_path: Path, person: bool) -> None:
    data, qi = _years_file(tmp_path)
    out = tmp_path / "local.csv"
    key = ["--person-key", "lopenr"] if person else []
    args = ["anonymise", str(data), *qi, "--k", "3", "--local-recoding", *key]
    result = runner.invoke(app, [*args, "--max-suppression", "0.1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["method"] == "local_recoding" and report["unit"] == ("person" if person else "record")
    assert report["metrics_after"]["loss"] == report["local"]["loss"]
    released = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    known = ["aargang", "alder", "kjonn", "kommune"]
    if person:
        assert min(_person_classes(released, known).values()) >= 3
    else:
        kept = released[~(released[known] == "*").all(axis=1)]
        assert int(kept.groupby(known).size().min()) >= 3
    # Levels differ between classes: some ages stand as years, others in ten-year groups or '*'.
    assert len(report["local"]["records_by_level"]["alder"]) >= 2
    fully = int((released[known] == "*").all(axis=1).sum())
    assert fully == report["suppressed_records"]


def test_person_level_local_suppression_blanks_a_persons_cells_in_every_year(tmp_path: Path) -> None:
    data, qi = _years_file(tmp_path)
    out = tmp_path / "ls.csv"
    args = ["anonymise", str(data), *qi, "--k", "3", "--person-key", "lopenr", "--local-suppression"]
    result = runner.invoke(app, [*args, "--max-suppression", "0.1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    info = report["local_suppression"]
    assert info["cells_suppressed"] == sum(info["cells_by_attribute"].values())
    assert info["records_fully_blanked"] == report["suppressed_records"]
    released = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False)
    known = ["aargang", "alder", "kjonn", "kommune"]
    assert min(_person_classes(released, known).values()) >= 3
    for q in known:  # a person is blanked in a column in all their rows or in none
        blank = (released[q] == "*").groupby(released["lopenr"]).agg(["all", "any"])
        assert (blank["all"] == blank["any"]).all(), q
    levels = {q: v["level"] for q, v in report["quasi_identifiers"].items()}
    plain = runner.invoke(
        app, [*args[:-1], "--max-suppression", "0.1", "--out", str(tmp_path / "g.csv"), "--json"]
    )
    assert plain.exit_code == 0, plain.output
    glob = json.loads(plain.output)
    assert levels == {q: v["level"] for q, v in glob["quasi_identifiers"].items()}
    assert report["suppressed_persons"] <= glob["suppressed_persons"]
