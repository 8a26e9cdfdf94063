"""`iplos case ...`: accounts, case listings with their clocks, letters, invoices, audit checks;
and `iplos serve`, the web API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from iplos.cli._app import app, console, print_json
from iplos.errors import IplosError

case_app = typer.Typer(
    help="Applications (cases): accounts, listings, letters, invoices, audit.", no_args_is_help=True
)
app.add_typer(case_app, name="case")


def _service() -> Any:
    from iplos.cases import CaseService

    return CaseService.from_settings()


@case_app.command("user-add")
def user_add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    role: str = typer.Option(..., "--role", help="applicant, reviewer, processor or administrator."),
    name: str = typer.Option("", "--name", help="Display name."),
    password_env: str = typer.Option(
        "IPLOS_NEW_PASSWORD",
        "--password-env",
        help="Environment variable holding the password (else prompted).",
    ),
) -> None:
    """Create a local account (password hashed with argon2id)."""
    password = os.environ.get(password_env) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    user = _service().users.create(username, password, role, name)
    console.print(f"created {user.username} ({user.role})")


@case_app.command("users")
def users(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the accounts."""
    from iplos.cases import to_json

    found = _service().users.list()
    if as_json:
        print_json([to_json(u) for u in found])
        return
    table = Table("username", "name", "role", "active")
    for u in found:
        table.add_row(u.username, u.display_name, u.role, "yes" if u.active else "no")
    console.print(table)


@case_app.command("list")
def list_cases(
    status: str | None = typer.Option(None, "--status", help="Only cases in this status."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List cases with their 30-day clock (days used, days left, overdue)."""
    from iplos.cases import STATUSES, to_json

    if status is not None and status not in STATUSES:
        raise IplosError(f"unknown status {status!r}; statuses: {', '.join(STATUSES)}")
    found = _service().list(None, status)
    if as_json:
        print_json([to_json(s) for s in found])
        return
    # Case ids, statuses and dates never wrap or shrink (a cut id cannot be copied); the title gives
    # way. In a terminal narrower than 110 columns, kind and expected delivery are left out (--json).
    wide = console.width >= 110
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("case", no_wrap=True, min_width=max((len(s.case_id) for s in found), default=4))
    if wide:
        table.add_column("kind", no_wrap=True, min_width=max([4, *(len(s.kind) for s in found)]))
    table.add_column("status", no_wrap=True, min_width=max((len(s.status) for s in found), default=6))
    table.add_column("owner", no_wrap=True, overflow="ellipsis", min_width=5, max_width=10)
    table.add_column("days", no_wrap=True, justify="right", min_width=5)
    table.add_column("due", no_wrap=True, min_width=10)
    if wide:
        table.add_column("delivery", no_wrap=True, min_width=10)
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=1)
    for s in found:
        c = s.clock
        due = "[bold red]OVERDUE[/]" if c.overdue else str(c.deadline or "")
        row = [s.case_id, *([s.kind] if wide else []), s.status, s.owner, f"{c.days_used}/{c.days_left}", due]
        row += [*([str(c.expected_delivery or "")] if wide else []), s.title]
        table.add_row(*row)
    console.print(table)
    console.print("days: used / left of the 30-day limit", style="dim")


@case_app.command("show")
def show(
    case_id: str = typer.Argument(..., help="Case id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (state, clock and events)."),
) -> None:
    """Show a case: its state, clock and event history."""
    from iplos.cases import event_to_json, to_json

    service = _service()
    events = service.history(case_id)
    case = service.get(case_id)
    clock = service.clock(case_id)
    if as_json:
        print_json(
            {
                "case": to_json(case),
                "clock": to_json(clock),
                "events": [event_to_json(e.event) for e in events],
            }
        )
        return
    console.print(
        f"[bold]{case.case_id}[/] {case.kind} · {case.status} · owner {case.owner} · version {case.version}"
    )
    console.print(f"{case.content.project.title}")
    console.print(
        f"clock: {clock.days_used} days used, {clock.days_left} left"
        + (" [bold red]OVERDUE[/]" if clock.overdue else "")
        + (f", expected delivery {clock.expected_delivery}" if clock.expected_delivery else "")
    )
    table = Table("#", "at (UTC)", "event", "by", "role")
    for e in events:
        table.add_row(
            str(e.seq),
            e.event.at.strftime("%Y-%m-%d %H:%M"),
            type(e.event).__name__,
            e.event.actor,
            e.event.role,
        )
    console.print(table)


@case_app.command("verify")
def verify(
    case_id: str | None = typer.Argument(None, help="Case id (default: every case)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check every case: its hash chain, its columns against the hashed events, its row against the
    fold of its events and its head against the audit key's signature; any change is an error (exit 2).

    Truncation (deleting a case's last events and setting its head to match) is detected through the
    signed head; the audit key (IPLOS_AUDIT_KEY_FILE) must be kept outside the case database.
    """
    from iplos.cases import to_json

    reports = _service().verify(case_id)
    if as_json:
        print_json([{**to_json(r), "ok": r.ok} for r in reports])
    broken = [r for r in reports if not r.ok]
    if broken:
        lines = [f"{r.case_id}: {p}" for r in broken for p in r.problems]
        raise IplosError(
            f"{len(broken)} of {len(reports)} case(s) fail the hash-chain check:\n  " + "\n  ".join(lines)
        )
    if not as_json:
        console.print(
            f"{len(reports)} case(s), {sum(r.events for r in reports)} events: chains, rows and signed heads intact"
        )


@case_app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Processing statistics: median and 90th percentile days to decision, share within 30 days."""
    from iplos.cases import to_json

    result = _service().statistics()
    if as_json:
        print_json(to_json(result))
        return
    console.print(
        f"cases: {result.cases}, decided: {result.decided}, open and overdue: {result.open_overdue}"
    )
    if result.decided:
        console.print(
            f"days to decision: median {result.median_days}, 90th percentile {result.p90_days}; "
            f"decided within 30 days: {100 * (result.share_within_limit or 0):.0f} %"
        )
    table = Table("status", "cases")
    for status, count in result.per_status.items():
        table.add_row(status, str(count))
    console.print(table)


@case_app.command("letter")
def letter_cmd(
    case_id: str = typer.Argument(..., help="Case id."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the Markdown letter to this file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the structured letter as JSON."),
) -> None:
    """Print the decision letter (vedtak) of a case, generated from its events."""
    from iplos.atomic import write_text_atomic

    result = _service().letter(case_id)
    if output is not None:
        write_text_atomic(output, result.markdown)
    if as_json:
        print_json(result.data)
    elif output is None:
        typer.echo(result.markdown)


@case_app.command("invoice")
def invoice_cmd(
    case_id: str = typer.Argument(..., help="Case id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the case's invoice (or a draft from the hours recorded so far)."""
    from iplos.cases import to_json

    inv = _service().invoice(case_id)
    if as_json:
        print_json(to_json(inv))
        return
    table = Table("staff group", "hours", "rate", "amount", title=f"Invoice {inv.number} ({inv.currency})")
    for line in inv.lines:
        table.add_row(line.staff_group, f"{line.hours:g}", f"{line.rate:,.2f}", f"{line.amount:,.2f}")
    table.add_row("total", "", "", f"{inv.total:,.2f}")
    console.print(table)


@case_app.command("run")
def run_command(
    case_id: str = typer.Argument(..., help="Case id ('new' to open a draft)."),
    command: str = typer.Argument(..., help="Command name, e.g. submit, decide_variable, record_hours."),
    user: str = typer.Option(..., "--user", help="Act as this account (its role applies)."),
    body: str = typer.Option("{}", "--body", help="The command's fields as JSON, as in the web API."),
    as_json: bool = typer.Option(False, "--json", help="Print the case after the command as JSON."),
) -> None:
    """Give a case a command as a user, for scripts (the same rules as the web API apply)."""
    from iplos.cases import COMMAND_TYPES, from_json, to_json

    service = _service()
    command_type = COMMAND_TYPES.get(command)
    if command_type is None:
        raise IplosError(f"unknown command {command!r}; commands: {', '.join(COMMAND_TYPES)}")
    account = service.users.get(user)
    if account is None or not account.active:
        raise IplosError(f"no active user {user!r}")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise IplosError(f"--body is not JSON: {exc}") from None
    cmd = from_json(command_type, data, command)
    case = service.execute(None if case_id == "new" else case_id, cmd, account.actor)
    if as_json:
        print_json(to_json(case))
    else:
        console.print(f"{case.case_id}: {case.status} (version {case.version})")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
) -> None:
    """Run the web application on the configured case store: the pages at /, the JSON API under /api
    (OpenAPI document at /docs). Delivered files are downloaded from $IPLOS_HOME/deliveries."""
    import uvicorn

    from iplos.config import Settings
    from iplos.preview import Previews
    from iplos.web import create_app
    from iplos.web.oidc import oidc_from_env

    settings = Settings.from_env()
    # Drafts are previewed on a synthetic register only; a linked case's counter-proposal on its extract.
    previews = Previews(register=settings)
    # no `server: uvicorn` header: it tells an attacker which server and version to aim at
    uvicorn.run(
        create_app(
            _service(),
            deliveries=settings.deliveries_dir,
            previews=previews,
            attachments=settings.home / "attachments",
            oidc=oidc_from_env(os.environ),
        ),
        host=host,
        port=port,
        server_header=False,
        proxy_headers=True,
    )
