"""Jobs as rows in the case store (table `jobs`, migration 0005): submit, claim, report, finish.

A job is `queued`, then `running` (claimed by one worker), then `done`, `failed` or `cancelled`.
Every change is one transaction whose WHERE names the state it expects, so two workers never run
one job: a claim updates only a row that is still queued (SQLite serialises writers with BEGIN
IMMEDIATE; PostgreSQL re-checks the WHERE after the competing claim commits, and the loser updates
nothing), and a worker's reports, heartbeats and finish update only a row that it still holds.
A partial unique index allows one queued or running job per case.

A running job's worker writes a heartbeat; `recover` finds the rows whose heartbeat stopped (the
worker was killed) and queues them again, or fails them once `max_attempts` runs have died.
"""

from __future__ import annotations

import builtins
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from iplos.errors import IplosError

JobKind = Literal["propose", "answer", "deliver"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
KINDS: tuple[JobKind, ...] = get_args(JobKind)
STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
ACTIVE: tuple[JobStatus, ...] = ("queued", "running")
FINAL: tuple[JobStatus, ...] = ("done", "failed", "cancelled")
MAX_ATTEMPTS = 3
"""Runs a job may start before a worker that dies under it makes `recover` fail it instead."""

metadata = sa.MetaData()
jobs_table = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("case_id", sa.String(40), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("requested_by", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("worker", sa.String(100), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
)


class JobConflict(IplosError):
    """The case already has a queued or running job."""


class JobLost(IplosError):
    """The worker no longer holds the job (it was recovered and given to another, or finished)."""


@dataclass(frozen=True)
class Job:
    """One stored job."""

    id: str
    kind: JobKind
    case_id: str
    status: JobStatus
    progress: float  # 0-1
    step: str  # the step's key, e.g. "linking" (the pages translate it)
    detail: str  # the processor's own words on the step
    requested_by: str
    created_at: datetime
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    attempts: int = 0
    cancel_requested: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _job(row: Any) -> Job:
    data = dict(row)
    for key in ("created_at", "started_at", "heartbeat_at", "finished_at"):
        data[key] = _utc(data[key])
    data["params"] = json.loads(data["params"])
    data["result"] = json.loads(data["result"])
    data["cancel_requested"] = bool(data["cancel_requested"])
    return Job(**data)


class JobStore:
    """Reads and changes job rows on the case store's database engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # iplos_write: BEGIN IMMEDIATE on SQLite (see cases.store.make_engine), so writers queue.
        with self.engine.connect().execution_options(iplos_write=True) as conn, conn.begin():
            yield conn

    # submitting and reading -------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        case_id: str,
        requested_by: str,
        now: datetime,
        params: Mapping[str, Any] | None = None,
    ) -> Job:
        """Queue a job; refuses (`JobConflict`) while the case has a queued or running one."""
        if kind not in KINDS:
            raise IplosError(f"job kind {kind!r} is not one of {', '.join(KINDS)}")
        job_id = secrets.token_hex(8)
        try:
            with self._write() as conn:
                active = self._active(conn, case_id)
                if active is not None:
                    raise JobConflict(
                        f"case {case_id} already has a {active.status} {active.kind} job ({active.id}); "
                        "wait for it to finish or cancel it"
                    )
                conn.execute(
                    jobs_table.insert().values(
                        id=job_id,
                        kind=kind,
                        case_id=case_id,
                        params=json.dumps(dict(params or {}), sort_keys=True),
                        status="queued",
                        progress=0.0,
                        step="queued",
                        detail="",
                        requested_by=requested_by,
                        created_at=now,
                        attempts=0,
                        cancel_requested=False,
                        result="{}",
                    )
                )
        except IntegrityError:  # another submit for the case committed between our check and insert
            raise JobConflict(f"case {case_id} already has a queued or running job") from None
        return self.get(job_id)

    @staticmethod
    def _active(conn: Connection, case_id: str) -> Job | None:
        row = (
            conn.execute(
                sa.select(jobs_table).where(jobs_table.c.case_id == case_id, jobs_table.c.status.in_(ACTIVE))
            )
            .mappings()
            .first()
        )
        return _job(row) if row else None

    def get(self, job_id: str) -> Job:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs_table).where(jobs_table.c.id == job_id)).mappings().first()
        if row is None:
            raise IplosError(f"no job {job_id!r}")
        return _job(row)

    def active_for(self, case_id: str) -> Job | None:
        """The case's queued or running job, if any."""
        with self.engine.connect() as conn:
            return self._active(conn, case_id)

    def list(self, case_id: str | None = None, limit: int = 100) -> list[Job]:
        """Jobs (of one case), newest first."""
        query = sa.select(jobs_table).order_by(jobs_table.c.created_at.desc(), jobs_table.c.id).limit(limit)
        if case_id is not None:
            query = query.where(jobs_table.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query).mappings()]

    # the worker's side ------------------------------------------------------------------------------
    def claim(self, worker: str, now: datetime, job_id: str | None = None) -> Job | None:
        """Take the oldest queued job (or `job_id`) for `worker`; None when there is none to take."""
        queued = jobs_table.c.status == "queued"
        with self._write() as conn:
            query = sa.select(jobs_table.c.id).where(queued)
            if job_id is not None:
                query = query.where(jobs_table.c.id == job_id)
            found = conn.execute(query.order_by(jobs_table.c.created_at, jobs_table.c.id).limit(1)).first()
            if found is None:
                return None
            taken = conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == found.id, queued)
                .values(
                    status="running",
                    worker=worker,
                    attempts=jobs_table.c.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    step="starting",
                    progress=0.0,
                )
            )
            if taken.rowcount != 1:  # another worker took it first
                return None
        return self.get(found.id)

    @staticmethod
    def _update_held(conn: Connection, job_id: str, worker: str, values: Mapping[str, Any]) -> None:
        """Update the job only while `worker` runs it; `JobLost` when it no longer does."""
        held = sa.and_(
            jobs_table.c.id == job_id, jobs_table.c.worker == worker, jobs_table.c.status == "running"
        )
        if conn.execute(jobs_table.update().where(held).values(**values)).rowcount != 1:
            raise JobLost(f"job {job_id} is no longer held by worker {worker}")

    def report(
        self,
        job_id: str,
        worker: str,
        now: datetime,
        *,
        progress: float | None = None,
        step: str | None = None,
        detail: str | None = None,
    ) -> bool:
        """Record progress (and the heartbeat); returns whether a cancel was asked for.

        Raises `JobLost` when the worker no longer holds the job."""
        values: dict[str, Any] = {"heartbeat_at": now}
        if progress is not None:
            values["progress"] = min(max(progress, 0.0), 1.0)
        if step is not None:
            values["step"] = step[:40]
        if detail is not None:
            values["detail"] = detail[:500]
        with self._write() as conn:
            self._update_held(conn, job_id, worker, values)
            asked = conn.execute(
                sa.select(jobs_table.c.cancel_requested).where(jobs_table.c.id == job_id)
            ).scalar_one()
        return bool(asked)

    def heartbeat(self, job_id: str, worker: str, now: datetime) -> bool:
        """Only the heartbeat; returns whether a cancel was asked for."""
        return self.report(job_id, worker, now)

    def finish(
        self,
        job_id: str,
        worker: str,
        status: JobStatus,
        now: datetime,
        *,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
        detail: str | None = None,
    ) -> Job:
        """End a running job as done, failed or cancelled (only by the worker that holds it)."""
        if status not in FINAL:
            raise IplosError(f"a job ends as {', '.join(FINAL)}, not {status!r}")
        values: dict[str, Any] = {
            "status": status,
            "finished_at": now,
            "heartbeat_at": now,
            "result": json.dumps(dict(result or {}), sort_keys=True, default=str),
            "error": error[:2000] if error else None,
            "step": status,
        }
        if status == "done":
            values["progress"] = 1.0
        if detail is not None:
            values["detail"] = detail[:500]
        with self._write() as conn:
            self._update_held(conn, job_id, worker, values)
        return self.get(job_id)

    # anyone's side ----------------------------------------------------------------------------------
    def request_cancel(self, job_id: str, now: datetime) -> Job:
        """Cancel a queued job at once; ask a running one to stop at its next step. A finished job is
        left as it is."""
        with self._write() as conn:
            conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status == "queued")
                .values(status="cancelled", step="cancelled", cancel_requested=True, finished_at=now)
            )
            conn.execute(
                jobs_table.update()
                .where(jobs_table.c.id == job_id, jobs_table.c.status == "running")
                .values(cancel_requested=True)
            )
        return self.get(job_id)

    def recover(
        self,
        now: datetime,
        stale_after: timedelta,
        max_attempts: int = MAX_ATTEMPTS,
        alive: Callable[[str], bool | None] | None = None,
    ) -> builtins.list[Job]:
        """Running jobs whose worker died: queued again to run from the start, or failed after
        `max_attempts` runs, or cancelled when a cancel was asked for. A worker has died when its
        process of this host is gone (`alive(worker)` is False), or, when `alive` cannot tell (None:
        another host's worker, or no `alive` given), when its heartbeat is older than `stale_after`.
        A live process of this host is never taken for dead, however late its heartbeat: on a loaded
        machine a heartbeat can be late, and running one job twice is worse than waiting. Returns the jobs as they are now."""
        cutoff = now - stale_after
        running = jobs_table.c.status == "running"
        changed: builtins.list[str] = []
        with self._write() as conn:
            rows = conn.execute(sa.select(jobs_table).where(running)).mappings().all()
            for row in rows:
                job = _job(row)
                beat = _utc(job.heartbeat_at)
                known = alive(job.worker or "") if alive is not None else None
                dead = (beat is None or beat < cutoff) if known is None else not known
                if not dead:
                    continue
                values: dict[str, Any]
                if job.cancel_requested:
                    values = {"status": "cancelled", "step": "cancelled", "finished_at": now}
                elif job.attempts >= max_attempts:
                    values = {
                        "status": "failed",
                        "step": "failed",
                        "finished_at": now,
                        "error": f"its worker stopped during each of {job.attempts} runs "
                        f"(last heartbeat {_utc(job.heartbeat_at)}); the case is as the last "
                        "completed step left it",
                    }
                else:
                    values = {
                        "status": "queued",
                        "step": "requeued",
                        "detail": f"worker {job.worker} stopped (last heartbeat {_utc(job.heartbeat_at)}); "
                        "the job runs again from the start",
                        "worker": None,
                        "progress": 0.0,
                    }
                done = conn.execute(
                    jobs_table.update()
                    .where(jobs_table.c.id == job.id, running, jobs_table.c.worker == job.worker)
                    .values(**values)
                )
                if done.rowcount == 1:
                    changed.append(job.id)
        return [self.get(j) for j in changed]


__all__ = [
    "ACTIVE",
    "FINAL",
    "KINDS",
    "MAX_ATTEMPTS",
    "STATUSES",
    "Job",
    "JobConflict",
    "JobKind",
    "JobLost",
    "JobStatus",
    "JobStore",
    "jobs_table",
]
