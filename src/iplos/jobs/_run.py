"""Running one job: the processor's step on a case, with progress, heartbeat and cooperative cancel.

The work is `delivery.Processor`'s own (`propose`, `answer`, `deliver`); this module only wraps it
so that each of its steps (linkage, search, evaluation, the release gate and files) reports its
progress to the job row and checks for a cancel before it begins. Cancel is honoured only
*between* steps and never after a delivery's intent (`DeliveryStarted`) is recorded: from there
the gate and the atomic folder write run to their end, so a cancel leaves no half-written folder
and no dangling intent. A run that dies anyway (a killed worker) is re-run from the start by
`JobStore.recover`: every step is idempotent (a delivery's two-phase commit finishes or clears
what a dead run left, see `delivery.Processor`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iplos.cases import Actor, Case, CaseService
from iplos.config import Backend, Settings
from iplos.delivery import Criteria, Processor, StepResult
from iplos.delivery._plan import Plan
from iplos.errors import IplosError
from iplos.jobs.store import Job, JobKind, JobLost, JobStatus, JobStore
from iplos.linkage import LinkedExtract

Clock = Callable[[], datetime]
ProgressHook = Callable[[float, str, str], None]
"""Called with (fraction, step key, detail) on every step, e.g. to draw a progress bar."""

# The share of a job done when each step starts, per kind (the linkage dominates, then the search).
FRACTIONS: dict[JobKind, dict[str, float]] = {
    "propose": {"linking": 0.05, "linked": 0.4, "searching": 0.5},
    "answer": {"linking": 0.05, "linked": 0.4, "evaluating": 0.5},
    "deliver": {"linking": 0.05, "linked": 0.35, "evaluating": 0.45, "writing": 0.7},
}
STEP_KEYS = ("queued", "starting", "linking", "linked", "searching", "evaluating", "writing", "requeued")


class JobCancelled(Exception):
    """Raised at a step boundary when a cancel was asked for (nothing of the next step has begun)."""


def kind_for(case: Case) -> JobKind | None:
    """The job the case's state asks of the processor, or None when it waits for someone else."""
    if case.status in ("accepted", "linked"):
        return "propose"
    if case.status == "anonymisation":
        rounds = case.anonymisation_rounds
        return "answer" if rounds and rounds[-1].party == "applicant" else None
    if case.status == "anonymisation_agreed":
        return "deliver"
    return None


def params_of(
    criteria: Criteria | None = None,
    *,
    backend: Backend | None = None,
    min_levels: Mapping[str, str] | None = None,
    max_levels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A job's parameters as stored: the processor's criteria and steering, the data-plane backend."""
    out: dict[str, Any] = {"criteria": (criteria or Criteria()).to_dict()}
    if backend is not None:
        out["backend"] = backend
    if min_levels:
        out["min_levels"] = dict(min_levels)
    if max_levels:
        out["max_levels"] = dict(max_levels)
    return out


class JobRun:
    """One run of a job by one worker: progress and cancel checks, and the heartbeat thread."""

    def __init__(
        self,
        store: JobStore,
        job: Job,
        worker: str,
        *,
        now: Clock | None = None,
        heartbeat: float = 10.0,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self.store = store
        self.job = job
        self.worker = worker
        self.now = now or (lambda: datetime.now(UTC))
        self.interval = heartbeat
        self.on_progress = on_progress
        self.committed = False  # past the point where a cancel may stop the job
        self.fraction = 0.0
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None

    # the heartbeat ------------------------------------------------------------------------------------
    def __enter__(self) -> JobRun:
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{self.job.id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.store.heartbeat(self.job.id, self.worker, self.now())
            except JobLost:
                self._lost.set()
                return
            except Exception:  # a busy database: the next beat tries again
                continue

    # steps --------------------------------------------------------------------------------------------
    def step(self, key: str, detail: str = "") -> None:
        """Start step `key`: record it; stop here (`JobCancelled`) if a cancel was asked for."""
        fraction = FRACTIONS[self.job.kind].get(key, self.fraction)
        self.fraction = max(self.fraction, fraction)
        if self._lost.is_set():
            raise JobLost(f"job {self.job.id} was taken from worker {self.worker}")
        asked = self.store.report(
            self.job.id, self.worker, self.now(), progress=self.fraction, step=key, detail=detail
        )
        if self.on_progress is not None:
            self.on_progress(self.fraction, key, detail)
        if asked and not self.committed:
            raise JobCancelled(f"job {self.job.id} was cancelled before {key}")

    def detail(self, text: str) -> None:
        """The processor's own words on what it does now (no cancel check: mid-step)."""
        if self.on_progress is not None:
            self.on_progress(self.fraction, "", text)
        try:
            self.store.report(self.job.id, self.worker, self.now(), detail=text)
        except JobLost:
            self._lost.set()


class _JobProcessor(Processor):
    """The processor with a checkpoint at each step boundary of its work."""

    def __init__(self, run: JobRun, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, progress=run.detail, **kwargs)
        self.run = run

    def link(self, case: Case) -> tuple[LinkedExtract, Any]:
        self.run.step("linking")
        out = super().link(case)
        self.run.step("linked", f"{out[0].report.rows} records of {out[0].report.persons} persons")
        return out

    def _propose(self, case_id: str, extract: LinkedExtract, setup: Any, comment: str) -> StepResult:
        self.run.step("searching")
        return super()._propose(case_id, extract, setup, comment)

    def _evaluate(self, extract: LinkedExtract, plan: Plan, setup: Any) -> Any:
        self.run.step("evaluating")
        return super()._evaluate(extract, plan, setup)

    def _start(self, case: Case) -> str:
        # The last chance to stop: once the intent is recorded the gate and the files run to the end.
        self.run.step("writing")
        self.run.committed = True
        return super()._start(case)


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the job as stored, and the processor's step when it did its work."""

    job: Job
    step: StepResult | None = None


def _actor(service: CaseService, username: str) -> Actor:
    account = service.users.get(username)
    if account is None:
        return Actor(username, "processor")  # the command line's default processor, without an account
    if not account.active or account.role != "processor":
        raise IplosError(f"{username} is not an active processor account; the job cannot act for them")
    return account.actor


def _processor(run: JobRun, settings: Settings, service: CaseService) -> _JobProcessor:
    params = run.job.params
    return _JobProcessor(
        run,
        settings,
        service,
        _actor(service, run.job.requested_by),
        backend=params.get("backend"),
        criteria=Criteria.from_dict(params["criteria"]) if "criteria" in params else None,
        min_levels=params.get("min_levels"),
        max_levels=params.get("max_levels"),
    )


def _work(processor: _JobProcessor, job: Job) -> StepResult | str:
    """The job's step, or the reason it has nothing left to do."""
    case = processor.service.get(job.case_id)
    wanted = kind_for(case)
    if wanted != job.kind:
        if job.attempts > 1:  # a dead run recorded the work before it died: the re-run is done
            return f"the case is {case.status}: an earlier run of this job recorded its work"
        raise IplosError(
            f"case {job.case_id} is {case.status}; a {job.kind} job does not apply "
            f"({'the case asks for ' + wanted if wanted else 'the case waits for another party'})"
        )
    if job.kind == "propose":
        return processor.propose(job.case_id)
    if job.kind == "answer":
        return processor.answer(job.case_id)
    return processor.deliver(job.case_id)


def run_job(
    job: Job,
    settings: Settings,
    service: CaseService,
    store: JobStore,
    worker: str,
    *,
    now: Clock | None = None,
    heartbeat: float = 10.0,
    on_progress: ProgressHook | None = None,
    raise_errors: bool = False,
) -> Outcome:
    """Run a job this worker has claimed, to done, failed or cancelled (recorded on its row).

    With `raise_errors` (the command line) a failure is recorded and then raised as it came."""
    run = JobRun(store, job, worker, now=now, heartbeat=heartbeat, on_progress=on_progress)

    def end(status: JobStatus, **details: Any) -> Job:
        # A job another worker took over meanwhile (this one was thought dead) is left to that one.
        try:
            return store.finish(job.id, worker, status, run.now(), **details)
        except JobLost:
            return store.get(job.id)

    with run:
        try:
            processor = _processor(run, settings, service)
            step = _work(processor, job)
        except JobCancelled as exc:
            return Outcome(end("cancelled", detail=str(exc)))
        except JobLost:
            return Outcome(store.get(job.id))
        except Exception as exc:  # every failure ends on the row, named
            failed = end(
                "failed", error=str(exc) if isinstance(exc, IplosError) else f"{type(exc).__name__}: {exc}"
            )
            if raise_errors:
                raise
            return Outcome(failed)
        except BaseException:  # an interrupt (Ctrl-C): end the row now rather than at recovery
            end("failed", error="the run was interrupted")
            raise
    if isinstance(step, str):
        return Outcome(end("done", detail=step, result={"message": step}))
    return Outcome(end("done", detail=step.message, result=step.to_dict()), step)
