"""The notification outbox in the case store, and people's e-mail addresses and languages.

Rows are written in the transaction that appends the event that causes them
(`CaseService.execute` calls `Outbox.enqueue_events` on its connection), so a committed event
always has its messages and a refused or conflicting command has none. The unique key (case,
trigger, recipient), with trigger `event:<seq>` or a reminder's `review_due:<date>` /
`deletion_due:<date>`, and insert-or-ignore make every enqueue idempotent: a message is stored
once however often a scan or a retry runs.

A row is `pending` (an address to mail to), `app_only` (no address: shown in the app only),
`sending` (claimed by a sender), `sent`, or `failed` (gave up after `MAX_ATTEMPTS`; still shown
in the app). See `notify_service` for the sending and its delivery guarantee.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from iplos.cases.notify import LANGUAGES, Notice, messages_for_event
from iplos.cases.state import Case
from iplos.cases.store import StoredEvent, metadata, users_table
from iplos.errors import IplosError

MAX_ATTEMPTS = 8
"""Sends tried before a row is marked failed (backoff 1, 2, 4, … minutes, at most 6 hours)."""
LEASE = timedelta(minutes=10)
"""A row claimed longer ago than this without being marked is claimed again (its sender died)."""
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")

contacts_table = sa.Table(
    "user_contacts",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("language", sa.String(5), nullable=False),
)
outbox_table = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(40), nullable=False),
    sa.Column("trigger", sa.String(60), nullable=False),
    sa.Column("recipient", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("language", sa.String(5), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("body_html", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.UniqueConstraint("case_id", "trigger", "recipient", name="uq_outbox_case_trigger_recipient"),
)


@dataclass(frozen=True)
class Contact:
    """How to reach a person: an e-mail address (None: messages in the app only) and a language."""

    username: str
    email: str | None
    language: str = "nb"


@dataclass(frozen=True)
class OutboxMessage:
    """A stored message."""

    id: int
    case_id: str
    trigger: str
    recipient: str
    kind: str
    language: str
    email: str | None
    subject: str
    body_text: str
    body_html: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _message(row: Any) -> OutboxMessage:
    data = dict(row)
    for key in ("created_at", "next_attempt_at", "sent_at"):
        data[key] = _utc(data[key])
    data.pop("claimed_at", None)
    return OutboxMessage(**data)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4, … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


class Outbox:
    """Writes, claims and marks outbox rows; reads each person's messages."""

    def __init__(self, engine: Engine, base_url: str | None = None) -> None:
        self.engine = engine
        self.base_url = base_url or os.environ.get("IPLOS_WEB_URL", "http://127.0.0.1:8000")

    # contacts ---------------------------------------------------------------------------------------
    def set_contact(self, username: str, email: str | None, language: str = "nb") -> Contact:
        """Record (or clear, with None) a user's e-mail address and language; refuses bad values."""
        email = email.strip() if email else None
        if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
            raise IplosError(f"{email!r} is not an e-mail address (name@domain, no spaces or commas)")
        if language not in LANGUAGES:
            raise IplosError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(users_table.c.username).where(users_table.c.username == username)
            ).first()
            if exists is None:
                raise IplosError(f"no user {username!r}")
            conn.execute(contacts_table.delete().where(contacts_table.c.username == username))
            conn.execute(contacts_table.insert().values(username=username, email=email, language=language))
        return Contact(username, email, language)

    def contact(self, username: str) -> Contact:
        """The user's contact (no address and bokmål when none is recorded)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(contacts_table).where(contacts_table.c.username == username)).first()
        return Contact(username, row.email, row.language) if row else Contact(username, None)

    @staticmethod
    def _contacts(conn: Connection) -> dict[str, Contact]:
        return {
            r.username: Contact(r.username, r.email, r.language)
            for r in conn.execute(sa.select(contacts_table))
        }

    @staticmethod
    def active_reviewers(conn: Connection) -> list[str]:
        rows = conn.execute(
            sa.select(users_table.c.username).where(
                users_table.c.role == "reviewer", users_table.c.active.is_(True)
            )
        )
        return sorted(r.username for r in rows)

    # writing ----------------------------------------------------------------------------------------
    def enqueue_events(self, conn: Connection, stored: Sequence[StoredEvent], case: Case) -> int:
        """Store the messages the new events cause, on the command's own connection (same transaction)."""
        if not stored:
            return 0
        contacts = self._contacts(conn)
        languages = {u: c.language for u, c in contacts.items()}
        reviewers = self.active_reviewers(conn)
        notices = [
            n
            for s in stored
            for n in messages_for_event(s.seq, s.event, case, reviewers, languages, self.base_url)
        ]
        return self.insert(conn, case.case_id, notices, contacts, stored[-1].event.at)

    def insert(
        self,
        conn: Connection,
        case_id: str,
        notices: Sequence[Notice],
        contacts: Mapping[str, Contact],
        now: datetime,
    ) -> int:
        """Insert the notices, ignoring any already stored (same case, trigger, recipient); returns how many are new."""
        if not notices:
            return 0
        rows = []
        for n in notices:
            email = contacts[n.recipient].email if n.recipient in contacts else None
            rows.append(
                {
                    "case_id": case_id,
                    "trigger": n.trigger,
                    "recipient": n.recipient,
                    "kind": n.kind,
                    "language": n.language,
                    "email": email,
                    "subject": n.subject,
                    "body_text": n.text,
                    "body_html": n.html,
                    "status": "pending" if email else "app_only",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(outbox_table)
            .on_conflict_do_nothing(index_elements=["case_id", "trigger", "recipient"])
            .returning(outbox_table.c.id)
        )
        # RETURNING gives only the inserted rows (rowcount is unreliable for many rows on psycopg).
        return len(conn.execute(statement, rows).all())

    # sending ----------------------------------------------------------------------------------------
    def claim(self, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        """Claim due rows for sending: pending ones whose time has come, and ones claimed longer than
        `LEASE` ago (their sender died between claiming and marking). Each row goes to one claimer."""
        due = sa.or_(
            sa.and_(outbox_table.c.status == "pending", outbox_table.c.next_attempt_at <= now),
            sa.and_(outbox_table.c.status == "sending", outbox_table.c.claimed_at <= now - LEASE),
        )
        claimed: list[OutboxMessage] = []
        with self.engine.connect().execution_options(iplos_write=True) as conn, conn.begin():
            ids = [
                r.id
                for r in conn.execute(
                    sa.select(outbox_table.c.id).where(due).order_by(outbox_table.c.id).limit(limit)
                )
            ]
            for row_id in ids:
                result = conn.execute(
                    outbox_table.update()
                    .where(outbox_table.c.id == row_id, due)
                    .values(status="sending", claimed_at=now)
                )
                if result.rowcount == 1:
                    row = (
                        conn.execute(sa.select(outbox_table).where(outbox_table.c.id == row_id))
                        .mappings()
                        .one()
                    )
                    claimed.append(_message(row))
        return claimed

    def mark_sent(self, row_id: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                outbox_table.update()
                .where(outbox_table.c.id == row_id)
                .values(status="sent", sent_at=now, attempts=outbox_table.c.attempts + 1, last_error=None)
            )

    def mark_failed(self, row_id: int, error: str, now: datetime) -> str:
        """Record a failed try; the row is retried after `backoff`, or `failed` after `MAX_ATTEMPTS`."""
        with self.engine.begin() as conn:
            attempts = (
                conn.execute(
                    sa.select(outbox_table.c.attempts).where(outbox_table.c.id == row_id)
                ).scalar_one()
                + 1
            )
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            conn.execute(
                outbox_table.update()
                .where(outbox_table.c.id == row_id)
                .values(
                    status=status,
                    attempts=attempts,
                    last_error=error[:500],
                    next_attempt_at=now + backoff(attempts),
                    claimed_at=None,
                )
            )
        return status

    # reading ----------------------------------------------------------------------------------------
    def for_user(self, username: str, limit: int = 200) -> list[OutboxMessage]:
        """The user's messages, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox_table)
                .where(outbox_table.c.recipient == username)
                .order_by(outbox_table.c.id.desc())
                .limit(limit)
            ).mappings()
            return [_message(r) for r in rows]

    def all(self, case_id: str | None = None) -> list[OutboxMessage]:
        """Every stored message (of one case), oldest first (for the administrator and tests)."""
        query = sa.select(outbox_table).order_by(outbox_table.c.id)
        if case_id is not None:
            query = query.where(outbox_table.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [_message(r) for r in conn.execute(query).mappings()]


__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Contact",
    "Outbox",
    "OutboxMessage",
    "backoff",
    "contacts_table",
    "outbox_table",
]
