"""Long work out of the request path: the processor's steps on a case as jobs in the case store.

- `JobStore(engine)`: jobs as rows (`queued`, `running`, `done`, `failed`, `cancelled`) with
  progress (a fraction and a step), a heartbeat and cooperative cancel; `recover` re-queues or
  fails the jobs of a worker that died.
- `submit_next(service, store, case_id, actor)`: queue what the case asks of the processor next
  (`kind_for`: propose after the offer is accepted, answer a counter-proposal, deliver).
- `Worker(settings, service)`: claims and runs jobs in threads within the process's memory budget
  (`iplos worker`); `run_job` runs one claimed job (also `iplos deliver`, inline).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from iplos.cases import Actor, CaseService
from iplos.errors import IplosError
from iplos.jobs._run import (
    FRACTIONS,
    STEP_KEYS,
    JobCancelled,
    Outcome,
    ProgressHook,
    kind_for,
    params_of,
    run_job,
)
from iplos.jobs._worker import Worker, worker_alive, worker_name
from iplos.jobs.store import (
    ACTIVE,
    FINAL,
    KINDS,
    MAX_ATTEMPTS,
    STATUSES,
    Job,
    JobConflict,
    JobKind,
    JobLost,
    JobStatus,
    JobStore,
)


def submit_next(
    service: CaseService,
    store: JobStore,
    case_id: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Job:
    """Queue the processor's next step on the case as a job, for `actor` (a processor)."""
    if actor.role != "processor":
        raise IplosError(
            f"{actor.username} acts as {actor.role}; only a processor starts linkage and delivery"
        )
    case = service.get(case_id, actor)
    kind = kind_for(case)
    if kind is None:
        raise IplosError(
            f"case {case_id} is {case.status}: there is nothing for the processor to run now "
            "(it links after the offer is accepted, answers a counter-proposal and delivers an agreed plan)"
        )
    return store.submit(kind, case_id, actor.username, now or datetime.now(UTC), params or params_of())


__all__ = [
    "ACTIVE",
    "FINAL",
    "FRACTIONS",
    "KINDS",
    "MAX_ATTEMPTS",
    "STATUSES",
    "STEP_KEYS",
    "Job",
    "JobCancelled",
    "JobConflict",
    "JobKind",
    "JobLost",
    "JobStatus",
    "JobStore",
    "Outcome",
    "ProgressHook",
    "Worker",
    "kind_for",
    "params_of",
    "run_job",
    "submit_next",
    "worker_alive",
    "worker_name",
]
