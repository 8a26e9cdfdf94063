"""`iplos worker`: run the jobs queued in the case store (linkage, anonymisation search, delivery)."""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from iplos.cli._app import app, console
from iplos.errors import IplosError


@app.command("worker")
def worker(
    concurrency: int | None = typer.Option(
        None,
        "--concurrency",
        help="Jobs run at once (default IPLOS_ENGINE_SLOTS); they share this process's IPLOS_MEMORY_LIMIT.",
    ),
    once: bool = typer.Option(False, "--once", help="Stop when no job is queued or running."),
    poll: float = typer.Option(2.0, "--poll", help="Seconds between looks at the queue."),
    heartbeat: float = typer.Option(10.0, "--heartbeat", help="Seconds between a running job's heartbeats."),
    stale_after: float = typer.Option(
        60.0,
        "--stale-after",
        help="Seconds without a heartbeat after which another host's job counts as dead and runs again (a job of this host runs again as soon as its process is gone).",
    ),
) -> None:
    """Run queued jobs: the processor's linkage, anonymisation search and delivery, out of the web request.

    Jobs are rows in the case store (IPLOS_CASE_DB); the pages queue them and show their progress. On start and
    between jobs the worker takes over jobs whose worker died (no heartbeat for --stale-after seconds, or a
    process of this host that is gone) and runs them again from the start. SIGTERM or Ctrl-C: claim nothing new,
    finish the running jobs, exit.

    Example: IPLOS_ENGINE_SLOTS=2 iplos worker
    """
    from iplos.cases import CaseService
    from iplos.config import Settings
    from iplos.jobs import Worker

    if concurrency is not None and concurrency < 1:
        raise IplosError(f"--concurrency must be at least 1, not {concurrency}")
    if poll <= 0 or heartbeat <= 0 or stale_after <= heartbeat:
        raise IplosError("--poll and --heartbeat must be above 0, and --stale-after longer than --heartbeat")
    settings = Settings.from_env()
    service = CaseService.from_settings(settings)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runner = Worker(
            settings,
            service,
            concurrency=concurrency,
            heartbeat=heartbeat,
            stale_after=stale_after,
            on_progress=None,
        )
        console.print(f"worker {runner.name}: up to {runner.concurrency} jobs at once", highlight=False)
        done = runner.run(once=once, poll=poll, stop=stop)
        for outcome in runner.finished:
            job = outcome.job
            console.print(f"job {job.id} ({job.kind}, case {job.case_id}): {job.status}", highlight=False)
        console.print(f"worker {runner.name}: {done} jobs finished", highlight=False)
    finally:
        service.close()


jobs_app = typer.Typer(
    help="The jobs in the case store: list them, cancel one (the worker runs them: `iplos worker`).",
    no_args_is_help=True,
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_jobs(
    case_id: str | None = typer.Option(None, "--case", help="Only this case's jobs."),
    limit: int = typer.Option(20, "--limit", help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print the jobs as JSON."),
) -> None:
    """List jobs, newest first: kind, case, status, progress and step, who started it, the outcome."""
    from rich.table import Table

    from iplos.cases import CaseService
    from iplos.cli._app import print_json
    from iplos.config import Settings
    from iplos.jobs import JobStore

    service = CaseService.from_settings(Settings.from_env())
    try:
        jobs = JobStore(service.engine).list(case_id=case_id, limit=limit)
    finally:
        service.close()
    if as_json:
        print_json(
            [
                {
                    "id": j.id,
                    "kind": j.kind,
                    "case": j.case_id,
                    "status": j.status,
                    "progress": j.progress,
                    "step": j.step,
                    "detail": j.detail,
                    "requested_by": j.requested_by,
                    "created_at": j.created_at.isoformat(),
                    "finished_at": j.finished_at.isoformat() if j.finished_at else None,
                    "attempts": j.attempts,
                    "error": j.error,
                }
                for j in jobs
            ]
        )
        return
    table = Table("job", "kind", "case", "status", "progress", "step", "by", "outcome")
    for j in jobs:
        table.add_row(
            j.id,
            j.kind,
            j.case_id,
            j.status,
            f"{j.progress:.0%}",
            j.step,
            j.requested_by,
            j.error or j.detail,
        )
    console.print(table)


@jobs_app.command("cancel")
def cancel_job(job_id: str = typer.Argument(..., help="The job's id (see `iplos jobs list`).")) -> None:
    """Cancel a job: a queued one at once, a running one before its next step (a delivery that is writing
    its files finishes)."""
    from datetime import UTC, datetime

    from iplos.cases import CaseService
    from iplos.config import Settings
    from iplos.jobs import JobStore

    service = CaseService.from_settings(Settings.from_env())
    try:
        job = JobStore(service.engine).request_cancel(job_id, datetime.now(UTC))
    finally:
        service.close()
    said = (
        "cancelled"
        if job.status == "cancelled"
        else f"{job.status}; cancel asked for"
        if job.active
        else job.status
    )
    console.print(f"job {job.id} ({job.kind}, case {job.case_id}): {said}", highlight=False)
