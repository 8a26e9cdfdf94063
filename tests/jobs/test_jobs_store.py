"""Job rows: submit, claim (never by two workers), progress, cancel, recovery of a dead worker's jobs."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest

from iplos.cases import CaseService
from iplos.config import Settings
from iplos.errors import IplosError
from iplos.jobs import JobConflict, JobLost, JobStore, worker_alive

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def test_a_job_goes_from_queued_to_done_with_its_progress(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    job = store.submit("propose", "2026-00000001", "sven", T0, {"criteria": {"k": 5}})
    assert (job.status, job.progress, job.attempts, job.params) == ("queued", 0.0, 0, {"criteria": {"k": 5}})
    running = store.claim("w1", T0)
    assert running is not None and (running.status, running.worker, running.attempts) == ("running", "w1", 1)
    assert store.claim("w2", T0) is None  # nothing else queued
    assert store.report(job.id, "w1", T0 + timedelta(seconds=1), progress=0.4, step="linked") is False
    seen = store.get(job.id)
    assert (seen.progress, seen.step, seen.heartbeat_at) == (0.4, "linked", T0 + timedelta(seconds=1))
    with pytest.raises(JobLost):
        store.report(job.id, "w2", T0, progress=0.9)  # only the holder reports
    done = store.finish(job.id, "w1", "done", T0 + timedelta(seconds=2), result={"action": "proposed"})
    assert (done.status, done.progress, done.result) == ("done", 1.0, {"action": "proposed"})
    with pytest.raises(JobLost):
        store.finish(job.id, "w1", "failed", T0)  # finished once
    assert [j.id for j in store.list(case_id="2026-00000001")] == [job.id]


def test_one_active_job_per_case(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    first = store.submit("deliver", "2026-00000002", "sven", T0)
    with pytest.raises(JobConflict, match=first.id):
        store.submit("deliver", "2026-00000002", "sven", T0)
    store.submit("deliver", "2026-00000003", "sven", T0)  # another case is free
    with pytest.raises(IplosError, match="kind"):
        store.submit("shred", "2026-00000004", "sven", T0)
    store.request_cancel(first.id, T0)
    again = store.submit("deliver", "2026-00000002", "sven", T0)  # the cancelled one no longer blocks
    assert store.active_for("2026-00000002") == again


def test_two_workers_racing_never_claim_one_job(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    ids = {store.submit("propose", f"2026-{n:08d}", "sven", T0 + timedelta(seconds=n)).id for n in range(12)}
    claimed: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    start = threading.Barrier(3)

    def claim_all(name: str) -> None:
        start.wait()
        while (job := store.claim(name, T0)) is not None:
            claimed[name].append(job.id)

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [j for got in claimed.values() for j in got]
    assert sorted(everything) == sorted(ids)  # each job exactly once
    for name, got in claimed.items():
        assert all(store.get(j).worker == name for j in got)


def test_cancel_queued_at_once_running_at_its_next_step(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    queued = store.submit("propose", "2026-00000010", "sven", T0)
    assert store.request_cancel(queued.id, T0).status == "cancelled"
    running_job = store.submit("propose", "2026-00000011", "sven", T0)
    store.claim("w1", T0)
    asked = store.request_cancel(running_job.id, T0)
    assert asked.status == "running" and asked.cancel_requested
    assert store.report(running_job.id, "w1", T0, step="searching") is True  # the worker learns of it
    store.finish(running_job.id, "w1", "cancelled", T0)
    assert store.request_cancel(running_job.id, T0).status == "cancelled"  # final stays final


def test_recover_requeues_a_dead_workers_job_then_fails_it(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    job = store.submit("deliver", "2026-00000020", "sven", T0)
    stale = timedelta(seconds=60)
    for attempt in (1, 2, 3):
        at = T0 + timedelta(minutes=10 * attempt)
        claimed = store.claim(f"w{attempt}", at)
        assert claimed is not None and claimed.attempts == attempt
        assert store.recover(at + timedelta(seconds=30), stale) == []  # heartbeat fresh: left alone
        recovered = store.recover(at + timedelta(seconds=61), stale, max_attempts=3)
        assert [j.id for j in recovered] == [job.id]
        with pytest.raises(JobLost):
            store.report(job.id, f"w{attempt}", at)  # the dead worker, if it wakes, holds nothing
    final = store.get(job.id)
    assert final.status == "failed" and "3 runs" in (final.error or "")
    assert store.get(job.id).worker == "w3"


def test_recover_sees_a_dead_process_of_this_host_at_once(db: tuple[Settings, CaseService, str]) -> None:
    _, service, _ = db
    store = JobStore(service.engine)
    dead_name = f"{socket.gethostname()}:{_exited_pid()}"
    me = f"{socket.gethostname()}:{os.getpid()}"
    assert worker_alive(dead_name) is False
    assert worker_alive(me) is True
    assert worker_alive(f"elsewhere.example:{os.getpid()}") is None
    job = store.submit("deliver", "2026-00000030", "sven", T0)
    store.claim(dead_name, T0)
    mine = store.submit("deliver", "2026-00000031", "sven", T0)
    store.claim(me, T0)
    # the dead process's job at once; this live process's not, though its heartbeat is an hour old
    recovered = store.recover(T0 + timedelta(hours=1), timedelta(minutes=5), alive=worker_alive)
    assert [(j.id, j.status) for j in recovered] == [(job.id, "queued")]
    assert store.get(mine.id).status == "running"


def _exited_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
