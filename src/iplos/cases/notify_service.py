"""Sending the outbox over SMTP, and the periodic scan that queues deadline reminders.

`send_due` claims the rows that are due, mails each with `smtplib` to the configured server and
marks it sent; a refused or unreachable server records the attempt and the row is tried again
after a backoff (1, 2, 4, … minutes), so nothing is lost. With no `IPLOS_SMTP_HOST` nothing is
sent and the messages stay in the app.

Delivery guarantee: **at least once, de-duplicable**. A row is marked sent only after the server
accepted the mail; if the sender dies between the two (or the mark's commit fails), the row's
claim expires after `outbox_store.LEASE` and it is sent again. Every mail of a row carries the
same `Message-ID: <iplos-outbox-<row id>.<case>@<sender domain>>`, so a receiver (or a mail
archive) that de-duplicates on Message-ID sees it exactly once. Within one sender, a row is
never sent twice while it is marked (claims are conditional updates, so two senders running at
once never take the same row).

`remind` finds the running 30-day clocks with few days left and the held deliveries whose
deletion date is near, and queues one reminder per case, deadline and person (idempotent: run it
as often as you like). `run_once` does both; `iplos notify send` calls it.
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from iplos.cases.clock import clock
from iplos.cases.notify import deletion_reminders, review_reminders
from iplos.cases.outbox_store import Outbox, OutboxMessage
from iplos.cases.service import CaseService
from iplos.cases.state import replay
from iplos.errors import IplosError


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server (`IPLOS_SMTP_HOST`, `IPLOS_SMTP_PORT` default 25, `IPLOS_SMTP_FROM`)."""

    host: str | None = None
    port: int = 25
    sender: str = "iplos@localhost"
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> MailSettings:
        port = os.environ.get("IPLOS_SMTP_PORT", "25")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise IplosError(f"IPLOS_SMTP_PORT must be a port number (1-65535), not {port!r}")
        return cls(
            host=os.environ.get("IPLOS_SMTP_HOST") or None,
            port=int(port),
            sender=os.environ.get("IPLOS_SMTP_FROM") or "iplos@localhost",
        )

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class SendReport:
    """What one `send_due` did."""

    claimed: int
    sent: int
    failed: int
    """Tries that failed (the rows are retried later unless they used up their attempts)."""


def message_id(row: OutboxMessage, settings: MailSettings) -> str:
    """The Message-ID of a row: the same for every try, so receivers can de-duplicate."""
    return f"<iplos-outbox-{row.id}.{row.case_id}@{settings.domain}>"


def build_mail(row: OutboxMessage, settings: MailSettings) -> EmailMessage:
    """The e-mail of one outbox row: plain text with an HTML alternative."""
    if row.email is None:
        raise IplosError(f"outbox row {row.id} has no address")
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = row.email
    mail["Subject"] = row.subject
    mail["Message-ID"] = message_id(row, settings)
    mail["Date"] = format_datetime(row.created_at)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(row.body_text)
    mail.add_alternative(row.body_html, subtype="html")
    mail["Content-Language"] = row.language  # after the content: set_content clears Content-* headers
    return mail


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def send_due(
    outbox: Outbox,
    settings: MailSettings,
    now: datetime,
    *,
    limit: int = 50,
    after_send: Callable[[OutboxMessage], None] | None = None,
) -> SendReport:
    """Claim the due rows and mail them (`after_send`: called between the send and the mark; tests use it)."""
    if settings.host is None:
        return SendReport(0, 0, 0)
    rows = outbox.claim(now, limit)
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        for row in rows:
            try:
                if smtp is None:
                    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
                smtp.send_message(build_mail(row, settings))
            except (smtplib.SMTPException, OSError) as exc:
                outbox.mark_failed(row.id, _error_text(exc), now)
                failed += 1
                if smtp is not None:
                    _quit(smtp)
                    smtp = None
                continue
            if after_send is not None:
                after_send(row)
            outbox.mark_sent(row.id, now)
            sent += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return SendReport(len(rows), sent, failed)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


_SCANNED = frozenset({"submitted", "under_review", "delivered", "invoiced"})
"""Statuses in which a reminder can be due (a running clock, or data held by the recipients)."""


def remind(service: CaseService, outbox: Outbox | None = None) -> int:
    """Queue the deadline reminders now due (30-day clock near its end, deletion date near); returns
    how many new messages were stored (0 when run again)."""
    outbox = outbox or Outbox(service.engine)
    now = service.now()
    new = 0
    with service.store.write() as conn:
        contacts = outbox._contacts(conn)
        languages = {u: c.language for u, c in contacts.items()}
        reviewers = outbox.active_reviewers(conn)
        ids = [r["case_id"] for r in service.store.case_rows(conn) if r["status"] in _SCANNED]
        histories = service.store.load_many(conn, ids)
        for case_id, stored in histories.items():
            events = [s.event for s in stored]
            state = replay(events)
            c = clock(events, now, state)
            notices = [
                *review_reminders(
                    state, c.days_left, c.deadline, c.running, reviewers, languages, outbox.base_url
                ),
                *deletion_reminders(state, now.date(), languages, outbox.base_url),
            ]
            new += outbox.insert(conn, case_id, notices, contacts, now)
    return new


def run_once(service: CaseService, settings: MailSettings | None = None) -> tuple[int, SendReport]:
    """Queue due reminders, then send what is due: (new reminders, send report)."""
    settings = settings or MailSettings.from_env()
    outbox = Outbox(service.engine)
    reminders = remind(service, outbox)
    return reminders, send_due(outbox, settings, service.now())


__all__ = ["MailSettings", "SendReport", "build_mail", "message_id", "remind", "run_once", "send_due"]
