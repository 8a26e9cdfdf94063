"""`iplos deliver CASE`: the processor's next step on an approved case, up to delivered files."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from iplos.cli._app import app, console, print_json
from iplos.errors import IplosError

if TYPE_CHECKING:
    from iplos.cases import Actor, CaseService
    from iplos.config import Settings
    from iplos.delivery import StepResult
    from iplos.jobs import ProgressHook


def _actor(service: Any, user: str | None) -> Any:
    from iplos.cases import Actor

    name = user or os.environ.get("IPLOS_USER")
    if not name:
        return Actor("processor", "processor")
    account = service.users.get(name)
    if account is None or not account.active:
        raise IplosError(f"no active user {name!r}")
    return account.actor


def _bounds(specs: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        column, sep, level = spec.partition("=")
        if not sep or not column.strip() or not level.strip():
            raise IplosError(f"{option} {spec!r}: expected COL=LEVEL, e.g. kommune=fylke")
        out[column.strip()] = level.strip()
    return out


def run_inline(
    settings: Settings,
    service: CaseService,
    case_id: str,
    actor: Actor,
    params: dict[str, Any],
    on_progress: ProgressHook | None = None,
) -> StepResult:
    """The case's next processor step as a job run in this process: the same job code, steps and
    progress as `iplos worker` (the job is in the case store, so the pages see it and may cancel it).

    A job the case already has queued (from the pages) is run here; one running elsewhere is
    refused; one whose process died is recovered and run again."""
    from datetime import UTC, datetime, timedelta

    from iplos.delivery import StepResult
    from iplos.jobs import JobConflict, JobStore, kind_for, run_job, worker_alive, worker_name

    store = JobStore(service.engine)
    now = datetime.now(UTC)
    store.recover(now, timedelta(minutes=5), alive=worker_alive)
    case = service.get(case_id)
    job = store.active_for(case_id)
    if job is None:
        kind = kind_for(case)
        if kind is None:
            if case.status == "anonymisation":
                return StepResult(
                    case_id, "waiting", "waiting for the applicant to agree or counter the proposal"
                )
            raise IplosError(
                f"case {case_id} is {case.status}: the processor links and delivers only after the offer is "
                "accepted (accepted, linked, anonymisation, anonymisation_agreed)"
            )
        job = store.submit(kind, case_id, actor.username, now, params)
    elif job.status == "running":
        raise JobConflict(
            f"case {case_id} has a {job.kind} job running in worker {job.worker} ({job.id}); wait for it "
            "or cancel it in the pages"
        )
    worker = worker_name()
    claimed = store.claim(worker, now, job_id=job.id)
    if claimed is None:
        raise JobConflict(f"job {job.id} of case {case_id} was taken by another worker just now")
    outcome = run_job(claimed, settings, service, store, worker, on_progress=on_progress, raise_errors=True)
    if outcome.job.status == "cancelled":
        raise IplosError(f"case {case_id}: job {job.id} was cancelled ({outcome.job.detail})")
    if outcome.step is None:
        return StepResult(case_id, "waiting", outcome.job.detail)
    return outcome.step


@app.command("deliver")
def deliver(
    case_id: str = typer.Argument(..., help="The case id (see `iplos case list`)."),
    engine: str | None = typer.Option(
        None, "--engine", help="Data plane: duckdb or spark (default: IPLOS_ENGINE, else duckdb)."
    ),
    k: int = typer.Option(5, "--k", help="k-anonymity: at least k persons per class (new proposals)."),
    max_suppression: float = typer.Option(
        0.05,
        "--max-suppression",
        help="Largest share of records that may be suppressed, 0-1 (new proposals).",
    ),
    l_div: int | None = typer.Option(None, "--l", help="Distinct l-diversity of the sensitive variables."),
    t: float | None = typer.Option(
        None, "--t", help="t-closeness (equal distance) of the sensitive variables."
    ),
    unit: str = typer.Option(
        "person", "--unit", help="person (a person's rows in every year judged together) or record."
    ),
    min_level: list[str] = typer.Option(
        [], "--min-level", help="COL=LEVEL: new proposals generalise COL at least this far (level name)."
    ),
    max_level: list[str] = typer.Option(
        [],
        "--max-level",
        help="COL=LEVEL: new proposals generalise COL at most this far, e.g. kommune=fylke.",
    ),
    invoice: bool = typer.Option(
        False, "--invoice", help="After delivering, issue the invoice from the hours."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Act as this processor account (default IPLOS_USER)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Link, anonymise and deliver an approved case: does the processor's next step.

    After the offer is accepted it links the registers and proposes the least-generalised plan that meets the criteria; after a counter-proposal it agrees or proposes again; once a plan is agreed it delivers Parquet, CSV, Stata and SPSS files with labels, a codebook, a disclosure report and checksums, written only if the release gate passes. A case that asked for tables gets protected tables instead.

    Example: iplos deliver 2026-1a2b3c4d --invoice
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from iplos.cases import CaseService
    from iplos.config import Settings
    from iplos.delivery import Criteria
    from iplos.jobs import params_of

    if engine is not None and engine not in ("duckdb", "spark"):
        raise IplosError(f"--engine must be duckdb or spark, not {engine!r}")
    if not 0 <= max_suppression <= 1:
        raise IplosError(f"--max-suppression is a share between 0 and 1, not {max_suppression}")
    settings = Settings.from_env()
    service = CaseService.from_settings(settings)
    try:
        before = service.get(case_id)
        if invoice and before.status == "anonymisation_agreed" and not before.hours:
            # Refuse before the files leave: the invoice is computed from the hours recorded.
            raise IplosError(
                f"case {case_id}: --invoice needs the hours worked, and none are recorded; record them "
                f"first (iplos case run {case_id} record_hours --user ... --body "
                '\'{"staff_group": "radgiver", "hours": 3.5, "work_date": "YYYY-MM-DD"}\'), '
                "or deliver without --invoice"
            )
        actor = _actor(service, user)
        params = params_of(
            Criteria(k=k, max_suppressed=max_suppression, l=l_div, t=t, unit=unit),  # type: ignore[arg-type]
            backend=engine,  # type: ignore[arg-type]
            min_levels=_bounds(min_level, "--min-level"),
            max_levels=_bounds(max_level, "--max-level"),
        )
        with Progress(
            SpinnerColumn(),
            BarColumn(bar_width=20),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task(f"case {case_id}", total=1.0)

            def show(fraction: float, _step: str, detail: str) -> None:
                progress.update(task, completed=fraction, description=detail or _step)

            step = run_inline(settings, service, case_id, actor, params, show)
            if invoice and step.action == "delivered":
                service.issue_invoice(case_id, actor)
        out = step.to_dict()
        if invoice and step.action == "delivered":
            inv = service.invoice(case_id)
            out["invoice"] = {"number": inv.number, "total": inv.total, "currency": inv.currency}
    finally:
        service.close()
    if as_json:
        print_json(out)
        return
    console.print(f"[bold]{case_id}[/]: {step.message}")
    if step.plan:
        table = Table("quasi-identifier", "level")
        for name, level in step.plan.get("levels", {}).items():
            table.add_row(name, str(level))
        console.print(table)
    alternatives = step.plan.get("results", {}).get("search", {}).get("alternatives", []) if step.plan else []
    if step.action == "proposed" and alternatives:
        metric = step.plan["results"]["search"]["utility"]
        alt = Table("alternative levels", "suppressed persons", "highest risk", metric)
        for a in alternatives[:5]:
            levels = ", ".join(f"{q}={v}" for q, v in a["levels"].items())
            alt.add_row(
                levels,
                str(a.get("suppressed_persons", "")),
                f"{a.get('highest_risk', 0):.3f}",
                str(a[metric]),
            )
        console.print(alt)
    if step.delivered is not None:
        console.print(f"files in {step.delivered.path}: {', '.join(sorted(step.delivered.files))}")
    if "invoice" in out:
        console.print(
            f"invoice {out['invoice']['number']}: {out['invoice']['total']:,.2f} {out['invoice']['currency']}"
        )
