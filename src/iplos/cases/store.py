"""The case event store on SQLAlchemy 2: SQLite embedded by default, PostgreSQL in production.

Tables (created by the Alembic migrations in `cases/migrations`, applied on open):
`cases` (one row per case: kind, owner, status, version, head hash), `case_events` (the
hash-chained events, unique per (case_id, seq)), `users` and `api_tokens` (see `user_store`).

Optimistic concurrency: an append names the version it expects; the version check and the
unique (case_id, seq) constraint make a second writer fail with `ConcurrencyError`, so no event
is lost or duplicated. On SQLite, write transactions begin IMMEDIATE so writers queue instead of
deadlocking on the lock upgrade.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from iplos.cases.chain import GENESIS, ChainLink, ChainReport, event_hash, verify_chain
from iplos.cases.events import Event, event_from_json, event_to_json
from iplos.cases.exceptions import ConcurrencyError

metadata = sa.MetaData()
cases_table = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
events_table = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.String(40), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
)
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
tokens_table = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its sequence number in the case and its place in the hash chain."""

    case_id: str
    seq: int
    event: Event
    prev_hash: str
    hash: str


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for the case store; `schema` (PostgreSQL) puts every table in that schema."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin hook issue BEGIN
            if not memory:
                dbapi_conn.execute("PRAGMA journal_mode=WAL")

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("iplos_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def upgrade(engine: Engine, schema: str | None = None) -> None:
    """Apply the Alembic migrations of the case store up to the newest."""
    if schema and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("iplos.cases").joinpath("migrations")))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        alembic_command.upgrade(cfg, "head")


class EventStore:
    """Reads and appends hash-chained case events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (IMMEDIATE on SQLite); lock conflicts become `ConcurrencyError`."""
        try:
            with self.engine.connect().execution_options(iplos_write=True) as conn, conn.begin():
                yield conn
        except IntegrityError as exc:
            raise ConcurrencyError(
                f"the case was changed by another command; nothing was written ({exc.orig})"
            ) from None
        except OperationalError as exc:
            if "locked" in str(exc).lower():
                raise ConcurrencyError("the case store is busy; nothing was written, try again") from None
            raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def load(self, conn: Connection, case_id: str) -> list[StoredEvent]:
        """The events of one case in order (empty if there is no such case)."""
        rows = conn.execute(
            sa.select(events_table).where(events_table.c.case_id == case_id).order_by(events_table.c.seq)
        ).mappings()
        return [self._stored(row) for row in rows]

    def load_many(
        self, conn: Connection, case_ids: Sequence[str] | None = None
    ) -> dict[str, list[StoredEvent]]:
        """Events of many cases (all when `case_ids` is None), grouped by case, in order."""
        query = sa.select(events_table).order_by(events_table.c.case_id, events_table.c.seq)
        if case_ids is not None:
            query = query.where(events_table.c.case_id.in_(list(case_ids)))
        out: dict[str, list[StoredEvent]] = {}
        for row in conn.execute(query).mappings():
            out.setdefault(row["case_id"], []).append(self._stored(row))
        return out

    @staticmethod
    def _stored(row: Any) -> StoredEvent:
        return StoredEvent(
            row["case_id"],
            row["seq"],
            event_from_json(json.loads(row["payload"])),
            row["prev_hash"],
            row["hash"],
        )

    def case_rows(self, conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
        """Rows of the `cases` table (a projection kept in step with the events)."""
        query = sa.select(cases_table).order_by(cases_table.c.created_at, cases_table.c.case_id)
        if status is not None:
            query = query.where(cases_table.c.status == status)
        return [dict(r) for r in conn.execute(query).mappings()]

    def append(
        self,
        conn: Connection,
        case_id: str,
        expected_version: int,
        head_hash: str,
        new_events: Sequence[Event],
        status: str,
        kind: str,
        owner: str,
    ) -> list[StoredEvent]:
        """Append events after `expected_version`; raises `ConcurrencyError` if the case moved on."""
        stored: list[StoredEvent] = []
        prev = head_hash if expected_version else GENESIS
        for offset, event in enumerate(new_events, start=1):
            seq = expected_version + offset
            data = event_to_json(event)
            digest = event_hash(prev, case_id, seq, data)
            conn.execute(
                events_table.insert().values(
                    case_id=case_id,
                    seq=seq,
                    type=data["type"],
                    at=event.at,
                    actor=event.actor,
                    role=event.role,
                    payload=json.dumps(data, sort_keys=True, ensure_ascii=False),
                    prev_hash=prev,
                    hash=digest,
                )
            )
            stored.append(StoredEvent(case_id, seq, event, prev, digest))
            prev = digest
        now = new_events[-1].at
        new_version = expected_version + len(new_events)
        if expected_version == 0:
            conn.execute(
                cases_table.insert().values(
                    case_id=case_id,
                    kind=kind,
                    owner=owner,
                    status=status,
                    version=new_version,
                    head_hash=prev,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            result = conn.execute(
                cases_table.update()
                .where(cases_table.c.case_id == case_id, cases_table.c.version == expected_version)
                .values(status=status, version=new_version, head_hash=prev, updated_at=now)
            )
            if result.rowcount != 1:
                raise ConcurrencyError(f"case {case_id} was changed by another command; nothing was written")
        return stored

    def verify(self, conn: Connection, case_id: str | None = None) -> list[ChainReport]:
        """Verify the hash chain of one case or of all cases."""
        rows = {r["case_id"]: r for r in self.case_rows(conn)}
        query = sa.select(events_table).order_by(events_table.c.case_id, events_table.c.seq)
        if case_id is not None:
            query = query.where(events_table.c.case_id == case_id)
        links: dict[str, list[ChainLink]] = {}
        for row in conn.execute(query).mappings():
            links.setdefault(row["case_id"], []).append(
                ChainLink(row["seq"], json.loads(row["payload"]), row["prev_hash"], row["hash"])
            )
        ids = [case_id] if case_id is not None else sorted(set(rows) | set(links))
        reports = []
        for cid in ids:
            head = rows.get(cid)
            report = verify_chain(
                cid,
                links.get(cid, []),
                head["head_hash"] if head else None,
                head["version"] if head else None,
            )
            if head is None and cid in links:
                report = ChainReport(cid, report.events, (*report.problems, "events without a case row"))
            reports.append(report)
        return reports


__all__ = [
    "EventStore",
    "StoredEvent",
    "cases_table",
    "events_table",
    "make_engine",
    "metadata",
    "tokens_table",
    "upgrade",
    "users_table",
]
