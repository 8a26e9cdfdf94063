"""The worker: claims queued jobs and runs them in threads, several at once within one memory budget.

Jobs run in threads of one process so that they share that process's DuckDB budget
(`IPLOS_MEMORY_LIMIT` split into `IPLOS_ENGINE_SLOTS`, see `engine`): every engine a job opens
takes a slot, and a job that finds none free waits for one, so concurrent jobs never exceed the
limit together. The number of jobs at once defaults to the number of slots.

Each pass first `recover`s jobs whose heartbeat stopped (a killed worker's), so a restarted worker
picks them up again.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from iplos.cases import CaseService
from iplos.config import Settings
from iplos.jobs._run import Clock, Outcome, ProgressHook, run_job
from iplos.jobs.store import Job, JobStore


def worker_name() -> str:
    """This process's name in the job rows: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(name: str) -> bool | None:
    """Whether the worker `name` (host:pid) runs: True or False for a process of this host, None for
    another host's (only its heartbeat can tell)."""
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


class Worker:
    """Runs queued jobs of one case store."""

    def __init__(
        self,
        settings: Settings,
        service: CaseService,
        store: JobStore | None = None,
        *,
        name: str | None = None,
        concurrency: int | None = None,
        heartbeat: float = 10.0,
        stale_after: float = 60.0,
        now: Clock | None = None,
        on_progress: ProgressHook | None = None,
    ) -> None:
        if stale_after <= heartbeat:
            raise ValueError("stale_after must be longer than the heartbeat interval")
        self.settings = settings
        self.service = service
        self.store = store or JobStore(service.engine)
        self.name = name or worker_name()
        self.concurrency = concurrency or settings.engine_slots
        self.heartbeat = heartbeat
        self.stale_after = timedelta(seconds=stale_after)
        self.now = now or (lambda: datetime.now(UTC))
        self.on_progress = on_progress
        self.finished: list[Outcome] = []
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}

    def recover(self) -> list[Job]:
        """Queue again (or fail) the jobs whose worker died."""
        return self.store.recover(self.now(), self.stale_after, alive=worker_alive)

    def run_one(self, job: Job) -> Outcome:
        """Run a claimed job in this thread."""
        outcome = run_job(
            job,
            self.settings,
            self.service,
            self.store,
            self.name,
            now=self.now,
            heartbeat=self.heartbeat,
            on_progress=self.on_progress,
        )
        with self._lock:
            self.finished.append(outcome)
        return outcome

    def _thread(self, job: Job) -> None:
        try:
            self.run_one(job)
        finally:
            with self._lock:
                self._running.pop(job.id, None)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def fill(self) -> int:
        """Claim queued jobs up to the concurrency and start them; returns how many started."""
        started = 0
        while self.running() < self.concurrency:
            job = self.store.claim(self.name, self.now())
            if job is None:
                break
            thread = threading.Thread(target=self._thread, args=(job,), name=f"job-{job.id}", daemon=True)
            with self._lock:
                self._running[job.id] = thread
            thread.start()
            started += 1
        return started

    def run(self, *, once: bool = False, poll: float = 2.0, stop: threading.Event | None = None) -> int:
        """Work until `stop` is set (or, with `once`, until no job is queued or running); returns how
        many jobs this worker finished. On stop it claims nothing new and waits for its running jobs."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.recover()
            self.fill()
            if once and self.running() == 0:
                break
            stop.wait(poll)
        for thread in self._threads():
            thread.join()
        return len(self.finished)

    def _threads(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._running.values())
