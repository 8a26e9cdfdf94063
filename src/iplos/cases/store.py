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

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from iplos.cases.chain import (
    GENESIS,
    CaseHead,
    ChainLink,
    ChainReport,
    event_hash,
    head_mac,
    payload_text,
    verify_case,
)
from iplos.cases.events import Event, event_from_json, event_to_json
from iplos.cases.exceptions import ConcurrencyError
from iplos.cases.state import replay
from iplos.errors import IplosError

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
    sa.Column("head_mac", sa.String(64), nullable=False, server_default=""),
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


def load_audit_key(path: Path) -> bytes:
    """The audit key in `path`, created (32 random bytes, hex, mode 0600) if there is none yet.

    Creation is race-free: the key is written to a temporary file and hard-linked into place, so
    two processes starting at once end up with the same key.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise IplosError(f"the audit key file {path} does not hold a hex key of at least 16 bytes")
    return key


class EventStore:
    """Reads and appends hash-chained case events."""

    def __init__(self, engine: Engine, audit_key: bytes | None = None) -> None:
        self.engine = engine
        self.audit_key = audit_key
        """Signs each case's head (`chain.head_mac`); kept outside the database."""

    def _mac(self, case_id: str, version: int, head_hash: str) -> str:
        return "" if self.audit_key is None else head_mac(self.audit_key, case_id, version, head_hash)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (IMMEDIATE on SQLite); lock conflicts become `ConcurrencyError`."""
        try:
            with self.engine.connect().execution_options(iplos_write=True) as conn, conn.begin():
                yield conn
        except IntegrityError:
            # the database's own text names constraints and values; the user needs only this
            raise ConcurrencyError(
                "the case was changed by another command at the same time; nothing was written, "
                "reload it and try again"
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

    def hashes(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, dict[int, str]]:
        """The stored hash of each event of these cases (seq -> hash), without decoding any payload."""
        query = sa.select(events_table.c.case_id, events_table.c.seq, events_table.c.hash).where(
            events_table.c.case_id.in_(list(case_ids))
        )
        out: dict[str, dict[int, str]] = {}
        for cid, seq, digest in conn.execute(query):
            out.setdefault(cid, {})[seq] = digest
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
                    at=event.at.astimezone(UTC),
                    actor=event.actor,
                    role=event.role,
                    payload=payload_text(data),
                    prev_hash=prev,
                    hash=digest,
                )
            )
            stored.append(StoredEvent(case_id, seq, event, prev, digest))
            prev = digest
        now = new_events[-1].at.astimezone(UTC)
        created = new_events[0].at.astimezone(UTC)
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
                    head_mac=self._mac(case_id, new_version, prev),
                    created_at=created,
                    updated_at=now,
                )
            )
        else:
            result = conn.execute(
                cases_table.update()
                .where(cases_table.c.case_id == case_id, cases_table.c.version == expected_version)
                .values(
                    status=status,
                    version=new_version,
                    head_hash=prev,
                    head_mac=self._mac(case_id, new_version, prev),
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                raise ConcurrencyError(f"case {case_id} was changed by another command; nothing was written")
        return stored

    def verify(self, conn: Connection, case_id: str | None = None) -> list[ChainReport]:
        """Verify one case or all: chain, copied columns, case row against the fold, signed head."""
        query = sa.select(cases_table)
        if case_id is not None:
            query = query.where(cases_table.c.case_id == case_id)
        rows: dict[str, dict[str, object]] = {r["case_id"]: dict(r) for r in conn.execute(query).mappings()}
        query = sa.select(events_table).order_by(
            events_table.c.case_id, events_table.c.seq, events_table.c.id
        )
        if case_id is not None:
            query = query.where(events_table.c.case_id == case_id)
        links: dict[str, list[ChainLink]] = {}
        for row in conn.execute(query).mappings():
            try:
                data: object = json.loads(row["payload"])
            except ValueError:
                data = row["payload"]
            columns = {name: row[name] for name in ("type", "at", "actor", "role", "payload")}
            links.setdefault(row["case_id"], []).append(
                ChainLink(row["seq"], data, row["prev_hash"], row["hash"], row["id"], columns)
            )
        ids = [case_id] if case_id is not None else sorted(set(rows) | set(links))
        reports = []
        for cid in ids:
            chain = links.get(cid, [])
            case_row = rows.get(cid)
            head = None
            if case_row is not None:
                head = CaseHead(case_row, _fold(chain))
            elif not chain:
                reports.append(ChainReport(cid, 0, ()))
                continue
            reports.append(verify_case(cid, chain, head, self.audit_key))
        return reports


def _fold(chain: Sequence[ChainLink]) -> dict[str, object] | None:
    """kind, owner and status after replaying the stored payloads (None if they do not replay)."""
    try:
        state = replay(event_from_json(link.event_json) for link in chain)  # type: ignore[arg-type]
    except Exception:  # any undecodable or impossible history counts as altered
        return None
    return {"kind": state.kind, "owner": state.owner, "status": state.status}


__all__ = [
    "EventStore",
    "StoredEvent",
    "cases_table",
    "events_table",
    "load_audit_key",
    "make_engine",
    "metadata",
    "tokens_table",
    "upgrade",
    "users_table",
]
