"""The delivery and `iplos anonymise` share one release path; agreed criteria reach the gate."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import linkage_fixtures as registers
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.cli import app
from iplos.config import Settings
from iplos.delivery._anonymise import from_case_plan
from iplos.delivery._gate import measure_data_files
from iplos.delivery._process import Processor
from iplos.errors import IplosError
from iplos.release import Criteria

YEARS = (2012, 2013, 2014)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = Path(tmp_path_factory.mktemp("release")) / "iplos-data"
    settings = Settings(home=home)
    registers.write_small_registers(settings, n=600)
    service = CaseService.from_settings(settings)
    cast = Cast()
    return settings, service, cast


def _case(world: Any, one_table: bool = False) -> str:
    _, service, cast = world
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    if one_table:  # without the cause of death register: the person-year table alone
        variables = tuple(v for v in content.variables if v.register != "dar")
        content = dataclasses.replace(content, variables=variables, linkages=())
    return drive(service, "accepted", cast, application=content).case_id


def test_cli_gives_the_delivery_answer(world: Any, tmp_path: Path) -> None:
    settings, service, cast = world
    case_id = _case(world)
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    service.agree_anonymisation(case_id, cast.applicant)
    delivered = processor.next_step(case_id)
    assert delivered.action == "delivered" and delivered.evaluation is not None
    # The same data and plan through the command line (levels left to the search).
    extract, setup = processor.link(service.get(case_id))
    plan = from_case_plan(proposed.plan, setup)
    search_plan = dataclasses.replace(plan, levels={q.column: q.min_level for q in plan.quasi_identifiers})
    pq.write_table(extract.table, tmp_path / "extract.parquet")
    (tmp_path / "plan.json").write_text(search_plan.to_json(), encoding="utf-8")
    qi_args = []
    for q in plan.quasi_identifiers:
        path = tmp_path / f"{q.column}.csv"
        setup.hierarchies[q.column].to_arx_csv(path)
        qi_args += ["--qi", f"{q.column}={path}"]
    result = CliRunner().invoke(
        app,
        [
            "anonymise",
            str(tmp_path / "extract.parquet"),
            *qi_args,
            "--plan",
            str(tmp_path / "plan.json"),
            "--suppress",
            "remove",
            "--out",
            str(tmp_path / "out.parquet"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    evaluation = delivered.evaluation
    assert {q: v["level"] for q, v in data["quasi_identifiers"].items()} == dict(evaluation.plan.levels)
    assert data["suppressed_records"] == evaluation.applied.suppressed
    assert data["suppressed_persons"] == evaluation.outcome.suppressed_persons
    assert pq.read_table(tmp_path / "out.parquet").num_rows == len(evaluation.applied.data)


def test_counter_proposal_criteria_reach_the_gate(world: Any) -> None:
    settings, service, cast = world
    case_id = _case(world, one_table=True)
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    counter = {key: value for key, value in proposed.plan.items() if key != "results"}
    counter.update({"l": 2, "l_variant": "distinct", "t": 0.9, "t_variant": "ordered", "unit": "person"})
    counter["sensitive"] = ["timer_per_uke"]
    counter["max_suppression"] = 0.05
    counter["levels"] = {
        **counter["levels"],
        "alder": "all",
        "kommune": "all",
    }
    service.counter_anonymisation(case_id, cast.applicant, counter, "stronger protection")
    answer = processor.next_step(case_id)
    assert answer.action == "agreed", service.get(case_id).anonymisation_rounds[-1].comment
    done = processor.next_step(case_id)
    assert done.action == "delivered" and done.delivered is not None
    report = json.loads((done.delivered.path / "disclosure-report.json").read_text())
    assert report["criteria"]["t"] == 0.9 and report["criteria"]["t_variant"] == "ordered"
    assert report["gate"]["passed"]
    # The gate re-measures t itself: a stricter t fails on the delivered files.
    ev = done.evaluation
    assert ev is not None
    stricter = dataclasses.replace(ev.plan.criteria, t=1e-6)
    columns = list(json.loads((done.delivered.path / "codebook.json").read_text())["variables"])
    names = [v["name"] for v in columns]
    _, failures = measure_data_files(
        done.delivered.path,
        columns=names,
        quasi_identifiers=[q.column for q in ev.plan.quasi_identifiers],
        sensitive=["timer_per_uke"],
        criteria=stricter,
        records_before=ev.records_before,
        persons_before=ev.persons_before,
    )
    assert any("t-closeness" in f for f in failures)


def test_unenforceable_plans_are_refused_when_filed(world: Any) -> None:
    settings, service, cast = world
    case_id = _case(world)
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    counter = {key: value for key, value in proposed.plan.items() if key != "results"}
    for bad in (
        {"l_variant": "fuzzy", "l": 2},
        {"unit": "household"},
        {"t": 2.0},
        {"l": 2, "l_variant": "recursive"},
    ):
        with pytest.raises(IplosError, match="problem"):
            service.counter_anonymisation(case_id, cast.applicant, {**counter, **bad}, "bad")
    # What only the extract can tell (a sensitive column it lacks, a level its hierarchy lacks):
    _, setup = processor.link(service.get(case_id))
    with pytest.raises(IplosError, match="not a sensitive column"):
        from_case_plan({**counter, "l": 2, "sensitive": ["diagnose"]}, setup)
    with pytest.raises(IplosError, match="not a level"):
        from_case_plan({**counter, "levels": {**counter["levels"], "alder": "decade"}}, setup)


def test_looser_criteria_are_not_at_least_as_strict() -> None:
    base = Criteria(k=5, t=0.3)
    assert Criteria(k=5, t=0.2).at_least_as_strict_as(base)
    assert not Criteria(k=5).at_least_as_strict_as(base)
    assert not Criteria(k=5, t=0.3, unit="record").at_least_as_strict_as(base)


def test_a_locally_recoded_plan_is_delivered_and_passes_the_gate(world: Any) -> None:
    """A counter-proposal asking for local recoding: cells of different levels in one column reach
    the delivered files, and the gate's own count accepts them (and refuses them under a larger k)."""
    settings, service, cast = world
    case_id = _case(world)
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    counter = {key: value for key, value in proposed.plan.items() if key != "results"}
    counter["method"] = "local_recoding"
    counter["metric"] = "loss"
    service.counter_anonymisation(case_id, cast.applicant, counter, "keep more detail")
    answer = processor.next_step(case_id)
    assert answer.action == "agreed", service.get(case_id).anonymisation_rounds[-1].comment
    done = processor.next_step(case_id)
    assert done.action == "delivered" and done.delivered is not None
    ev = done.evaluation
    assert ev is not None and ev.outcome.local is not None and ev.plan.method == "local_recoding"
    report = json.loads((done.delivered.path / "disclosure-report.json").read_text())
    assert report["gate"]["passed"]
    levels = ev.outcome.local.signature_levels
    assert any(len(set(levels[:, j].tolist())) > 1 for j in range(levels.shape[1]))  # levels mixed
    names = [v["name"] for v in json.loads((done.delivered.path / "codebook.json").read_text())["variables"]]
    stricter = dataclasses.replace(ev.plan.criteria, k=ev.outcome.local.smallest_class + 1)
    measures, failures = measure_data_files(
        done.delivered.path,
        columns=names,
        quasi_identifiers=[q.column for q in ev.plan.quasi_identifiers if q.column in names],
        sensitive=[],
        criteria=stricter,
        records_before=ev.records_before,
        persons_before=ev.persons_before,
    )
    assert measures and min(m.smallest_class for m in measures) == ev.outcome.local.smallest_class
    assert any("fewer than k" in f for f in failures)
