"""`iplos demo`: the whole process on the embedded defaults, from a synthetic register to an invoice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from iplos.cli._app import app, console, print_json

YEARS = (2012, 2013, 2014, 2015, 2016)
STEPS = 10


def _fresh_home(base: Path) -> Path:
    """A new, empty data folder for this run under IPLOS_HOME (never touches earlier runs' data)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    home = base / f"demo-{stamp}"
    n = 1
    while home.exists():
        n += 1
        home = base / f"demo-{stamp}-{n}"
    home.mkdir(parents=True)
    return home


def _register(settings: Any, scale: float, seed: int, report: Callable[[int, int, str], None]) -> str:
    """Write the synthetic IPLOS årganger and the registers to link with; returns a one-line summary."""
    from iplos.synth import generate

    summary = generate(settings, scale=scale, seed=seed, years=YEARS, progress=report)
    return f"{summary.persons:,} persons in the identity list, {sum(summary.rows.values()):,} register rows"


def _case(service: Any, cast: Any, say: Callable[[str], None]) -> str:
    """An applicant files the example application; the reviewer coarsens kommune to fylke; the offer."""
    from iplos.cases import EstimateLine, involved_registers
    from iplos.cases.examples import example_application

    today = service.now().date()
    content = dataclasses.replace(example_application(today, members=("ola",)), aarganger=YEARS)
    case = service.create_draft(cast.applicant, content=content)
    cid = case.case_id
    service.submit(cid, cast.applicant)
    say(
        f"application {cid} submitted: {len(content.variables)} variables, {YEARS[0]}-{YEARS[-1]}, linked with dar"
    )
    service.start_review(cid, cast.reviewer)
    for v in content.variables:
        if v.name == "kommune":
            service.decide_variable(
                cid,
                cast.reviewer,
                v.name,
                "coarsened",
                register=v.register,
                level="fylke",
                reason="kommune identifies too many in small municipalities; fylke suffices",
            )
        else:
            service.decide_variable(cid, cast.reviewer, v.name, "granted", register=v.register)
    for register in involved_registers(content, service.catalogue):
        service.decide_register(
            cid, cast.reviewer, register, "granted", reference=f"{register.upper()}-{cid}"
        )
    service.decide_case(
        cid,
        cast.reviewer,
        "approved",
        ["The request meets helseregisterloven § 19 and IPLOS-forskriften § 1-3 (research)."],
    )
    say("reviewed: approved, kommune coarsened to fylke")
    lines = [
        EstimateLine("radgiver", 16, "linkage and extraction"),
        EstimateLine("statistiker", 6, "disclosure control"),
    ]
    offer = service.make_offer(cid, cast.processor, lines, today + dt.timedelta(days=45)).offers[-1]
    service.accept_offer(cid, cast.applicant)
    say(f"offer of {offer.total:,.2f} {offer.currency} accepted")
    return str(cid)


def _counter_levels(proposed: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The applicant's counter: of the alternatives that also meet the criteria, the one keeping the
    finest date of death (survival analysis needs it); else month of death with coarser age."""
    levels = dict(proposed["levels"])
    order = ["day", "month", "quarter", "half-year", "year", "all"]
    current = order.index(levels["dodsdato"]) if levels.get("dodsdato") in order else len(order)
    best: tuple[int, dict[str, Any]] | None = None
    for alt in proposed.get("results", {}).get("search", {}).get("alternatives", []):
        level = alt["levels"].get("dodsdato")
        rank = order.index(level) if level in order else len(order)
        if rank < current and (best is None or rank < best[0]):
            best = (rank, alt["levels"])
    if best is not None:
        return best[
            1
        ], f"a finer date of death ({best[1]['dodsdato']}) matters more to us than the other levels"
    return {
        **levels,
        "dodsdato": "month",
        "alder": "10 years",
    }, "we need month of death; 10-year age groups suffice"


def _negotiate(processor: Any, service: Any, cast: Any, cid: str, say: Callable[[str], None]) -> list[str]:
    """Proposal, the applicant's counter (a finer date of death), the processor's answer, agreement."""
    notes = []
    proposed = processor.next_step(cid)
    levels = proposed.plan["levels"]
    notes.append(f"processor proposed {levels}")
    say("proposed: " + ", ".join(f"{k}={v}" for k, v in levels.items()))
    counter = {key: value for key, value in proposed.plan.items() if key != "results"}
    counter["levels"], why = _counter_levels(proposed.plan)
    service.counter_anonymisation(cid, cast.applicant, counter, why)
    say("applicant countered: " + ", ".join(f"{k}={v}" for k, v in counter["levels"].items()))
    notes.append(f"applicant countered {counter['levels']}")
    answer = processor.next_step(cid)
    if answer.action == "agreed":
        say("processor agreed to the applicant's counter-proposal")
        notes.append("processor agreed to the counter-proposal")
    else:
        service.agree_anonymisation(cid, cast.applicant)
        say("counter-proposal broke the criteria; applicant agreed to the processor's new plan")
        notes.append("processor proposed again; applicant agreed")
    return notes


def _web_summary(web: Any) -> None:
    table = Table("username", "role", "password", title="Accounts for the web pages (shown once)")
    for username, role, password in web.accounts:
        table.add_row(username, role, password)
    console.print(table)
    cases = Table("case", "status", title="Cases to click through")
    for case_id, status in web.cases.items():
        cases.add_row(case_id, status)
    console.print(cases)
    console.print(f"Open the pages: [bold]{web.serve_command}[/], then http://127.0.0.1:8000/")
    console.print(
        f"Run the processor's jobs (linkage, search, delivery) beside it: [bold]IPLOS_HOME={web.home} iplos worker[/]"
    )


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _summary(result: dict[str, Any]) -> None:
    table = Table("quasi-identifier", "level", "required at least", title="What was generalised")
    for q in result["quasi_identifiers"]:
        table.add_row(q["column"], f"{q['level_name']} ({q['level']})", str(q["min_level"]))
    console.print(table)
    risk = Table("measure", "before", "after", title="Re-identification risk (prosecutor)")
    for name in ("records", "classes", "smallest_class", "uniques", "highest", "average", "share_at_risk"):
        before, after = result["risk_before"].get(name, ""), result["risk_after"].get(name, "")
        risk.add_row(name, _fmt(before), _fmt(after))
    console.print(risk)
    inv = Table("staff group", "hours", "rate", "amount", title=f"Invoice {result['invoice']['number']}")
    for line in result["invoice"]["lines"]:
        inv.add_row(
            line["staff_group"], f"{line['hours']:g}", f"{line['rate']:,.2f}", f"{line['amount']:,.2f}"
        )
    inv.add_row("total", "", "", f"{result['invoice']['total']:,.2f} {result['invoice']['currency']}")
    console.print(inv)
    console.print(
        Panel(
            f"Delivered to [bold]{result['delivery']}[/]\n"
            f"{result['records_after']} records of {result['persons']} persons; "
            f"{result['suppressed']} of {result['records_before']} records suppressed "
            f"({result['suppressed_share']:.2%}); release gate passed.\n"
            f"Files: {', '.join(result['files'])}\nDone in {result['seconds']:.0f} s.",
            title=f"iplos demo - case {result['case']}",
        )
    )


@app.command("demo")
def demo(
    scale: float = typer.Option(0.02, "--scale", help="Size of the synthetic register (1.0 = Norway)."),
    seed: int = typer.Option(2026, "--seed", help="Seed of the synthetic register."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    keep_for_web: bool = typer.Option(
        False,
        "--keep-for-web",
        help="Also leave accounts (one per role, random passwords printed once) and cases at several steps "
        "in the demo's case store, to click through with `iplos serve`.",
    ),
) -> None:
    """Run the whole process on the embedded defaults: register, application, review, delivery, invoice.

    Creates a synthetic register in a fresh folder under IPLOS_HOME (default ./iplos-data), files an application for home-dwelling recipients 80+ in 2012-2016 linked with the cause of death register, reviews it with kommune coarsened to fylke, makes and accepts an offer, links, agrees the anonymisation (k=5, at most 5 % suppressed), delivers the files and invoices. No server needed; takes well under a minute.
    """
    from iplos.cases import CaseService, to_json
    from iplos.cases.examples import Cast
    from iplos.config import Settings
    from iplos.delivery import Criteria, Processor

    started = time.perf_counter()
    web: Any = None
    base = Path(os.environ.get("IPLOS_HOME", "iplos-data")).resolve()
    home = _fresh_home(base)
    settings = dataclasses.replace(Settings.from_env(home), case_db=None, key_file=None, engine="duckdb")
    cast = Cast()
    log: list[str] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    ) as progress:
        task = progress.add_task("synthetic register", total=STEPS)

        def say(message: str) -> None:
            log.append(message)
            progress.update(task, description=message)
            if not as_json:
                progress.console.print(f"  [green]✓[/] {message}")

        def advance(message: str) -> None:
            progress.update(task, advance=1, description=message)

        advance(f"creating a synthetic register (scale {scale}) in {home}")
        made = _register(
            settings,
            scale,
            seed,
            lambda done, total, what: progress.update(task, description=f"synthetic register: {what}"),
        )
        say(f"synthetic register {YEARS[0]}-{YEARS[-1]} and linkable registers written: {made}")
        service = CaseService.from_settings(settings)
        try:
            advance("filing and reviewing the application")
            cid = _case(service, cast, say)
            advance("linking the registers through the key holder")
            processor = Processor(
                settings,
                service,
                cast.processor,
                criteria=Criteria(k=5, max_suppressed=0.05),
                progress=lambda m: progress.update(task, description=m),
            )
            advance("agreeing the anonymisation")
            notes = _negotiate(processor, service, cast, cid, say)
            advance("delivering")
            step = processor.deliver(
                cid, on_file=lambda name: progress.update(task, description=f"wrote {name}")
            )
            assert step.delivered is not None and step.evaluation is not None
            say(f"delivered {step.delivered.path.name}: release gate passed")
            advance("invoicing")
            today = service.now().date()
            service.record_hours(cid, cast.processor, "radgiver", 14.5, today, "linkage and extraction")
            service.record_hours(cid, cast.processor, "statistiker", 5.0, today, "disclosure control")
            service.issue_invoice(cid, cast.processor)
            invoice = to_json(service.invoice(cid))
            say(f"invoice {invoice['number']}: {invoice['total']:,.2f} {invoice['currency']}")
            if keep_for_web:
                from iplos.cli._demo_web import keep_for_web as leave

                web = leave(service, home, cid)
                say(f"left {len(web.accounts)} accounts and {len(web.cases)} cases for the web pages")
            progress.update(task, completed=STEPS, description="done")
        finally:
            service.close()
    report = dict(step.delivered.disclosure)
    result = {
        "case": cid,
        "home": str(home),
        "delivery": str(step.delivered.path),
        "files": sorted(step.delivered.files),
        "quasi_identifiers": report["quasi_identifiers"],
        "records_before": report["records_before"],
        "records_after": report["records_after"],
        "persons": int(step.evaluation.applied.data["lopenr"].nunique()),
        "suppressed": report["suppressed"],
        "suppressed_share": report["suppressed_share"],
        "risk_before": report["risk_before"],
        "risk_after": report["risk_after"],
        "negotiation": notes,
        "invoice": invoice,
        "steps": log,
        "seconds": time.perf_counter() - started,
    }
    if web is not None:
        result["web"] = {
            "serve": web.serve_command,
            "accounts": [{"username": u, "role": r, "password": p} for u, r, p in web.accounts],
            "cases": web.cases,
        }
    if as_json:
        print_json(result)
    else:
        _summary(result)
        if web is not None:
            _web_summary(web)
