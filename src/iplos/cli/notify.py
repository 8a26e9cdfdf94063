"""`iplos notify`: send the notification outbox over SMTP, queue deadline reminders, set addresses."""

from __future__ import annotations

import time

import typer

from iplos.cli._app import app, console

notify_app = typer.Typer(
    help="Notifications: e-mail from the outbox in the case store (IPLOS_SMTP_HOST, IPLOS_SMTP_PORT, "
    "IPLOS_SMTP_FROM; without a host the messages stay in the app).",
    no_args_is_help=True,
)
app.add_typer(notify_app, name="notify")


@notify_app.command("send")
def send(
    every: float = typer.Option(
        0, "--every", min=0, help="Keep running, every this many seconds (0: once and exit)."
    ),
) -> None:
    """Queue the deadline reminders now due, then mail every due message; failed sends are retried
    on a later run (backoff 1, 2, 4, … minutes)."""
    from iplos.cases import CaseService
    from iplos.cases.notify_service import MailSettings, run_once

    settings = MailSettings.from_env()
    service = CaseService.from_settings()
    try:
        while True:
            reminders, report = run_once(service, settings)
            where = f"{settings.host}:{settings.port}" if settings.host else "no SMTP host (app only)"
            console.print(
                f"{reminders} reminder(s) queued; {report.sent} sent, {report.failed} failed "
                f"of {report.claimed} due ({where})"
            )
            if every <= 0:
                break
            time.sleep(every)
    finally:
        service.close()


@notify_app.command("contact")
def contact(
    username: str = typer.Argument(..., help="The account."),
    email: str = typer.Option("", "--email", help="E-mail address; empty: messages in the app only."),
    language: str = typer.Option("nb", "--language", help="Language of the messages: nb or en."),
) -> None:
    """Set where a user's notifications go (their e-mail address and language)."""
    from iplos.cases import CaseService

    service = CaseService.from_settings()
    try:
        saved = service.outbox.set_contact(username, email or None, language)
    finally:
        service.close()
    console.print(f"{saved.username}: {saved.email or 'app only'} ({saved.language})")
