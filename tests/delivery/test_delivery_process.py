"""A case from accepted offer to delivered files, on the small hand-made registers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import linkage_fixtures as registers
import pandas as pd
import pytest

from iplos.cases import AgeRange, CaseService, Population, TableDimension, TableRequest
from iplos.cases.examples import Cast, drive, example_application
from iplos.cases.exceptions import CommandRefused
from iplos.cases.release_store import ReleaseLog
from iplos.config import Settings
from iplos.delivery._anonymise import from_case_plan
from iplos.delivery._build import disclosure_report
from iplos.delivery._formats import read_data_file
from iplos.delivery._multi import split
from iplos.delivery._process import Processor
from iplos.delivery._requested import make_tables
from iplos.delivery._scan import scan_folder
from iplos.delivery._write import write_delivery
from iplos.errors import IplosError
from iplos.ident import pseudonymise
from iplos.sdc.tables import Release as TablesRelease

YEARS = (2012, 2013, 2014)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = Path(tmp_path_factory.mktemp("process")) / "iplos-data"
    settings = Settings(home=home)
    small = registers.write_small_registers(settings, n=600)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    case = drive(service, "accepted", cast, application=content)
    return settings, small, service, cast, case.case_id


def test_propose_counter_agree_deliver(world: Any) -> None:
    settings, small, service, cast, case_id = world
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    assert proposed.action == "proposed"
    levels = proposed.plan["levels"]
    assert (
        levels["kommune"] in ("fylke", "landsdel", "all") and levels["alder"] != "age"
    )  # reviewer's lower bounds
    assert service.get(case_id).linkage_summary is not None
    assert processor.next_step(case_id).action == "waiting"
    # Finer than the reviewer allowed: the case itself refuses the counter-proposal.
    counter = {**proposed.plan, "levels": {**levels, "kommune": "kommune"}}
    counter.pop("results", None)
    with pytest.raises(IplosError, match="fylke"):
        service.counter_anonymisation(case_id, cast.applicant, counter, "keep kommune")
    # Allowed but breaking the criteria (exact age, day of death): the processor proposes again.
    counter["levels"] = {**levels, "alder": "5 years", "cause_of_death.dodsdato": "day"}
    service.counter_anonymisation(case_id, cast.applicant, counter, "exact age and date of death")
    again = processor.next_step(case_id)
    assert (
        again.action == "proposed"
        and "does not meet" in service.get(case_id).anonymisation_rounds[-1].comment
    )
    service.agree_anonymisation(case_id, cast.applicant)
    done = processor.next_step(case_id)
    assert done.action == "delivered" and done.delivered is not None
    case = service.get(case_id)
    assert case.status == "delivered" and case.deliveries[0].delivery_id == "d001"
    folder = done.delivered.path
    # No key, pseudonym or fødselsnummer anywhere in the delivery (independent scan, generous patterns).
    keys = [small.keys.key(r).secret_hex() for r in small.keys.registers]
    assert (
        scan_folder(folder, keys, ["fnr", "pseudonym"], allowed_hex=frozenset(done.delivered.files.values()))
        == []
    )
    everything = "\n".join(p.read_bytes().decode("latin-1") for p in folder.iterdir())
    for fnr in small.fnr:
        assert fnr not in everything
    for register in ("iplos", "dar"):
        for p in pseudonymise(small.fnr, small.keys.key(register)):
            assert p not in everything
    report = json.loads((folder / "disclosure-report.json").read_text())
    assert (
        report["gate"]["passed"]
        and report["records_after"] + report["suppressed"] == report["records_before"]
    )
    assert [r["by"] for r in report["rounds"]] == ["processor", "applicant", "processor"]
    data = read_data_file(folder / "extract.parquet")
    deaths = read_data_file(folder / "cause_of_death.parquet")
    # Each person's rows in both tables, as one signature: at least 5 persons share each.
    rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "lopenr": data["lopenr"],
                    "row": data[["aargang", "alder", "kjonn", "kommune", "husstand"]]
                    .astype(str)
                    .agg("|".join, axis=1),
                }
            ),
            pd.DataFrame({"lopenr": deaths["lopenr"], "row": "death|" + deaths["dodsdato"].astype(str)}),
        ]
    )
    signature = rows.groupby("lopenr")["row"].agg(lambda r: "/".join(sorted(r)))
    assert signature.value_counts().min() >= 5
    if report["quasi_identifiers"][3]["level_name"] == "fylke":
        assert set(data["kommune"].dropna()) <= {"03", "12", "16", "11", "02", "19"}


def test_second_delivery_shares_no_serial_number(world: Any) -> None:
    """A re-delivery of the agreed plan (say the researcher lost the files) gets new serial numbers."""
    settings, small, service, cast, case_id = world
    case = service.get(case_id)
    if case.status != "delivered":
        pytest.skip("depends on the first test")
    processor = Processor(settings, service, cast.processor)
    extract, setup, stacked = processor.link_all(case)
    assert stacked is not None  # the cause of death is a table of its own
    plan = from_case_plan(case.agreed_plan or {}, setup)
    evaluation = processor._evaluate(extract, plan, setup)
    release, tables = split(stacked, extract, evaluation, "d002", YEARS)
    report = disclosure_report(release, evaluation, setup.hierarchies, [])
    keys = [small.keys.key(r).secret_hex() for r in small.keys.registers]
    folder = settings.deliveries_dir / case_id
    write_delivery(
        release, folder / "d002", disclosure=report, keys_hex=keys, forbidden_columns=["fnr"], tables=tables
    )
    first = read_data_file(folder / "d001" / "extract.parquet")
    second = read_data_file(folder / "d002" / "extract.parquet")
    assert len(first) == len(second)
    assert not set(first["lopenr"]) & set(second["lopenr"])
    # Same content apart from the serial numbers.
    columns = [c for c in first.columns if c != "lopenr"]
    counts = [f[columns].astype(str).value_counts().sort_index() for f in (first, second)]
    assert counts[0].equals(counts[1])


def test_delivery_needs_an_agreed_plan(world: Any) -> None:
    settings, _, service, cast, _ = world
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    case = drive(service, "accepted", cast, application=content)
    with pytest.raises(IplosError, match="no agreed anonymisation plan"):
        Processor(settings, service, cast.processor).deliver(case.case_id)


def test_tables_case_gets_protected_tables(world: Any) -> None:
    settings, small, service, cast, _ = world
    content = dataclasses.replace(
        example_application(service.now().date()),
        aarganger=YEARS,
        output="tables",
        tables=(TableRequest("persons", (TableDimension("kommune", level="fylke"),)),),
    )
    case = drive(service, "accepted", cast, application=content)
    processor = Processor(settings, service, cast.processor)
    processor.next_step(case.case_id)
    service.agree_anonymisation(case.case_id, cast.applicant)
    step = processor.next_step(case.case_id)
    assert step.action == "delivered" and step.delivered is not None
    folder = step.delivered.path
    delivered = {p.name for p in folder.iterdir()}
    assert {
        "persons.csv",
        "persons.xlsx",
        "persons.html",
        "persons-labelled.csv",
        "persons-report.json",
        "MANIFEST.sha256",
    } <= delivered
    assert not any(n.startswith("hours") for n in delivered)  # exactly the tables asked for
    labelled = (folder / "persons-labelled.csv").read_text(encoding="utf-8")
    assert "Oslo" in labelled or "Viken" in labelled or "Vestland" in labelled or "Hordaland" in labelled
    sheet = pd.read_excel(folder / "persons.xlsx", sheet_name="table", dtype=str)
    assert sheet["kommune:fylke (tekst)"].str.len().gt(0).all()  # every fylke has its name in Excel
    page = (folder / "persons.html").read_text(encoding="utf-8")
    assert any(name in page for name in ("Oslo", "Viken", "Vestland", "Hordaland"))
    table = pd.read_csv(folder / "persons.csv", dtype=str, keep_default_na=False)
    published = pd.to_numeric(table.loc[table["flag"] == "published", "value"])
    assert ((published == 0) | (published >= 5)).all()
    assert (table["flag"] == "primary").any() or (published >= 5).all()
    report = json.loads((folder / "persons-report.json").read_text())
    assert report["audit"]["passed"]
    keys = [small.keys.key(r).secret_hex() for r in small.keys.registers]
    assert scan_folder(folder, keys, ["fnr"], allowed_hex=frozenset(step.delivered.files.values())) == []


def test_tables_of_one_case_are_protected_together_and_with_its_earlier_releases(world: Any) -> None:
    """Two tables of one delivery, and the same tables made again from a new linkage (new serial
    numbers), are each protected jointly with every table published before from these records:
    one table's margins can never be differenced against another's (issue 13)."""
    settings, _, service, cast, _ = world
    content = dataclasses.replace(
        example_application(service.now().date()),
        aarganger=YEARS,
        output="tables",
        tables=(
            TableRequest("by_fylke", (TableDimension("kommune", level="fylke"),)),
            TableRequest("by_fylke_sex", (TableDimension("kommune", level="fylke"), TableDimension("kjonn"))),
        ),
    )
    case = drive(service, "accepted", cast, application=content)
    processor = Processor(settings, service, cast.processor)
    processor.next_step(case.case_id)
    service.agree_anonymisation(case.case_id, cast.applicant)
    step = processor.next_step(case.case_id)
    assert step.action == "delivered" and step.delivered is not None
    reports = {
        n: json.loads((step.delivered.path / f"{n}-report.json").read_text())
        for n in ("by_fylke", "by_fylke_sex")
    }
    assert reports["by_fylke_sex"]["linked_with"] == ["by_fylke"]
    assert all(r["audit"]["passed"] for r in reports.values())
    # The same tables again, from a fresh linkage: both earlier releases are found in the log.
    case = service.get(case.case_id)
    extract, setup = processor.link(case)
    plan = from_case_plan(case.agreed_plan or {}, setup)
    log = ReleaseLog(service.url)
    try:
        earlier = [
            TablesRelease.from_record(r.name, r.kind, r.statistic, r.dimensions, r.cells)
            for r in log.releases(f"case {case.case_id}")
        ]
    finally:
        log.close()
    assert sorted(e.name for e in earlier) == ["by_fylke", "by_fylke_sex"]
    again = make_tables(extract.table.to_pandas(), case, plan, setup.hierarchies, YEARS, earlier)
    linked = {p.request.name: p.result.report()["linked_with"] for p in again}
    assert set(linked["by_fylke"]) == {"by_fylke", "by_fylke_sex"}
    assert all(p.passed for p in again)


def test_empty_population_is_refused_clearly(world: Any) -> None:
    settings, _, service, cast, _ = world
    content = dataclasses.replace(
        example_application(service.now().date()),
        aarganger=YEARS,
        population=Population(age=AgeRange(min_age=115), home_dwelling=True),
    )
    case = drive(service, "accepted", cast, application=content)
    with pytest.raises(IplosError, match="nobody in the registers fits"):
        Processor(settings, service, cast.processor).next_step(case.case_id)


def test_counter_with_looser_criteria_is_refused(world: Any) -> None:
    settings, _, service, cast, _ = world
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    case_id = drive(service, "accepted", cast, application=content).case_id
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    looser = {key: value for key, value in proposed.plan.items() if key != "results"}
    looser["max_suppression"] = 0.9
    service.counter_anonymisation(case_id, cast.applicant, looser, "suppress what you must")
    answer = processor.next_step(case_id)
    assert answer.action == "proposed"
    assert "looser" in service.get(case_id).anonymisation_rounds[-1].comment
    # Finer than the reviewer's coarsening of the variable the column derives from (fodselsaar -> alder):
    # refused when filed, under the name the plan used, not only when the processor next runs.
    finer = {**looser, "max_suppression": 0.05}
    finer["levels"] = {**proposed.plan["levels"], "alder": "age"}
    with pytest.raises(CommandRefused) as refused:
        service.counter_anonymisation(case_id, cast.applicant, finer, "exact age")
    assert [p.column for p in refused.value.problems] == ["plan.levels.alder"]
