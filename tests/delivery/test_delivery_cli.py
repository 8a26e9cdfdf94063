"""`iplos deliver CASE`: the processor's next step from the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import linkage_fixtures
import pytest
from typer.testing import CliRunner

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.cli import app
from iplos.config import Settings
from iplos.errors import IplosError


def test_deliver_proposes_then_delivers_and_invoices(iplos_home: Path) -> None:
    settings = Settings(home=iplos_home)
    linkage_fixtures.write_small_registers(settings, n=500)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    case_id = drive(service, "accepted", cast, application=content).case_id
    runner = CliRunner()

    first = runner.invoke(app, ["deliver", case_id, "--json"])
    assert first.exit_code == 0, first.output
    proposed = json.loads(first.output)
    assert proposed["action"] == "proposed" and proposed["plan"]["k"] == 5

    waiting = json.loads(runner.invoke(app, ["deliver", case_id, "--json"]).output)
    assert waiting["action"] == "waiting"

    service.agree_anonymisation(case_id, cast.applicant)
    service.record_hours(case_id, cast.processor, "radgiver", 3.5)
    done = runner.invoke(app, ["deliver", case_id, "--json", "--invoice"])
    assert done.exit_code == 0, done.output
    delivered = json.loads(done.output)
    assert delivered["action"] == "delivered" and delivered["delivery"]["gate"]["passed"]
    assert delivered["invoice"]["total"] == pytest.approx(3.5 * 1350.0)
    assert Path(delivered["delivery"]["path"], "extract.sav").is_file()
    assert service.get(case_id).status == "invoiced"
    service.close()


def test_deliver_refuses_a_case_not_ready(iplos_home: Path) -> None:
    settings = Settings(home=iplos_home)
    service = CaseService.from_settings(settings)
    case_id = drive(service, "submitted").case_id
    service.close()
    result = CliRunner().invoke(app, ["deliver", case_id])
    assert isinstance(result.exception, IplosError) and "submitted" in str(result.exception)
    bad = CliRunner().invoke(app, ["deliver", case_id, "--engine", "oracle"])
    assert isinstance(bad.exception, IplosError) and "duckdb or spark" in str(bad.exception)


def test_deliver_invoice_without_hours_says_so_before_delivering(iplos_home: Path) -> None:
    settings = Settings(home=iplos_home)
    linkage_fixtures.write_small_registers(settings, n=300)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    case_id = drive(service, "accepted", cast, application=content).case_id
    runner = CliRunner()
    assert runner.invoke(app, ["deliver", case_id, "--json"]).exit_code == 0
    service.agree_anonymisation(case_id, cast.applicant)
    result = runner.invoke(app, ["deliver", case_id, "--invoice"])
    assert isinstance(result.exception, IplosError)
    assert "none are recorded" in str(result.exception) and "record_hours" in str(result.exception)
    assert service.get(case_id).status == "anonymisation_agreed"  # nothing was delivered
    assert not list((settings.home / "deliveries").glob("*/*/extract.*"))
    service.close()
