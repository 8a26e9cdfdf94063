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
        help="Seconds without a heartbeat after which another host's job counts as dead and runs again.",
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
