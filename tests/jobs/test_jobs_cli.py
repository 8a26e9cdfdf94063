"""`iplos deliver` runs the job code inline (a job row with its steps); `iplos worker --once` runs the
queued jobs; the migration and the public names of `iplos.jobs`."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path

import linkage_fixtures as registers
import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from typer.testing import CliRunner

import iplos.jobs
from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.cases.store import make_engine, upgrade
from iplos.cli import app
from iplos.config import Settings
from iplos.jobs import JobStore, submit_next
from iplos.jobs.store import jobs_table


def test_deliver_on_the_command_line_is_a_job(iplos_home: Path) -> None:
    settings = Settings(home=iplos_home)
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    cid = drive(service, "accepted", Cast(), application=content).case_id
    runner = CliRunner()
    proposed = runner.invoke(app, ["deliver", cid, "--json", "--k", "4"])
    assert proposed.exit_code == 0, proposed.output
    assert json.loads(proposed.output)["action"] == "proposed"
    store = JobStore(service.engine)
    (job,) = store.list(case_id=cid)
    assert (job.kind, job.status, job.progress, job.requested_by) == ("propose", "done", 1.0, "processor")
    assert job.params["criteria"]["k"] == 4 and job.result["action"] == "proposed"
    service.agree_anonymisation(cid, Cast().applicant)
    # the pages queue the delivery; `iplos worker --once` runs it and exits
    queued = submit_next(service, store, cid, Cast().processor)
    ran = runner.invoke(
        app, ["worker", "--once", "--poll", "0.05", "--heartbeat", "0.5", "--stale-after", "5"]
    )
    assert ran.exit_code == 0, ran.output
    assert f"job {queued.id} (deliver, case {cid}): done" in ran.output
    assert service.get(cid).status == "delivered"
    listed = json.loads(runner.invoke(app, ["jobs", "list", "--case", cid, "--json"]).output)
    assert [(j["kind"], j["status"]) for j in listed] == [("deliver", "done"), ("propose", "done")]
    service.close()


def test_jobs_cancel_on_the_command_line(iplos_home: Path) -> None:
    settings = Settings(home=iplos_home)
    service = CaseService.from_settings(settings)
    store = JobStore(service.engine)
    job = store.submit("propose", "2026-0000abcd", "sven", service.now())
    result = CliRunner().invoke(app, ["jobs", "cancel", job.id])
    assert result.exit_code == 0 and f"job {job.id} (propose, case 2026-0000abcd): cancelled" in result.output
    assert store.get(job.id).status == "cancelled"
    missing = CliRunner().invoke(app, ["jobs", "cancel", "nosuchjob"])
    assert "no job 'nosuchjob'" in str(missing.exception)
    service.close()


def test_the_jobs_migration_goes_down_and_up(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cases.db'}")
    upgrade(engine)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("jobs")}
    assert columns == {c.name for c in jobs_table.columns}
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("iplos.cases").joinpath("migrations")))
    for action, target in (("downgrade", "0005-1"), ("upgrade", "head")):
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(alembic_command, action)(cfg, target)
        assert ("jobs" in sa.inspect(engine).get_table_names()) == (action == "upgrade")
    engine.dispose()


def test_public_names() -> None:
    assert iplos.jobs.__all__ == [
        "ACTIVE",
        "FINAL",
        "FRACTIONS",
        "KINDS",
        "MAX_ATTEMPTS",
        "STATUSES",
        "STEP_KEYS",
        "Job",
        "JobCancelled",
        "JobConflict",
        "JobKind",
        "JobLost",
        "JobStatus",
        "JobStore",
        "Outcome",
        "ProgressHook",
        "Worker",
        "kind_for",
        "params_of",
        "run_job",
        "submit_next",
        "worker_alive",
        "worker_name",
    ]
