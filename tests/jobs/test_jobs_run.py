"""Jobs doing the processor's real work on the small registers: progress, cancel between steps, a
killed worker's job run again, and two deliveries at once within one memory budget."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import linkage_fixtures as registers
import pytest

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.delivery._write import verify_manifest
from iplos.engine import _budget
from iplos.jobs import JobStore, Worker, submit_next

YEARS = (2012, 2013, 2014)
Db = tuple[Settings, CaseService, str]


def _case(settings: Settings, service: CaseService, status: str = "accepted") -> str:
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    cid = drive(service, "accepted", cast, application=content).case_id
    if status == "anonymisation_agreed":
        worker = Worker(settings, service, heartbeat=0.2, stale_after=5)
        submit_next(service, worker.store, cid, cast.processor)
        worker.run(once=True, poll=0.05)
        service.agree_anonymisation(cid, cast.applicant)
    return cid


def _types(service: CaseService, cid: str) -> list[str]:
    return [type(e.event).__name__ for e in service.history(cid)]


def test_a_propose_job_links_searches_and_records_the_proposal(db: Db) -> None:
    settings, service, _ = db
    registers.write_small_registers(settings, n=400)
    cid = _case(settings, service)
    seen: list[tuple[float, str]] = []
    worker = Worker(
        settings, service, heartbeat=0.2, stale_after=5, on_progress=lambda f, s, _d: seen.append((f, s))
    )
    job = submit_next(service, worker.store, cid, Cast().processor)
    assert job.kind == "propose" and job.status == "queued"
    assert worker.run(once=True, poll=0.05) == 1
    done = worker.store.get(job.id)
    assert done.status == "done" and done.progress == 1.0, done.error
    assert done.result["action"] == "proposed" and done.result["plan"]["k"] == 5
    steps = [s for _, s in seen if s]
    assert steps == ["linking", "linked", "searching"]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)  # progress never goes back
    assert service.get(cid).status == "anonymisation"
    assert _types(service, cid)[-2:] == ["LinkageDone", "AnonymisationProposed"]


def test_cancel_before_the_files_leaves_no_intent_and_no_folder(db: Db) -> None:
    settings, service, _ = db
    registers.write_small_registers(settings, n=400)
    cid = _case(settings, service, "anonymisation_agreed")
    store = JobStore(service.engine)
    job = submit_next(service, store, cid, Cast().processor)
    assert job.kind == "deliver"
    before = _types(service, cid)

    def cancel_when_evaluating(_f: float, step: str, _d: str) -> None:
        if step == "evaluating":
            store.request_cancel(job.id, service.now())

    worker = Worker(
        settings, service, store, heartbeat=0.2, stale_after=5, on_progress=cancel_when_evaluating
    )
    worker.run(once=True, poll=0.05)
    ended = store.get(job.id)
    assert ended.status == "cancelled" and "before writing" in ended.detail
    assert _types(service, cid) == before  # no DeliveryStarted, nothing recorded
    assert service.get(cid).pending_delivery is None
    folder = settings.deliveries_dir / cid
    assert not folder.exists() or not [p for p in folder.iterdir() if not p.name.startswith(".lock")]
    # a new job delivers as if nothing had happened
    again = submit_next(service, store, cid, Cast().processor)
    Worker(settings, service, store, heartbeat=0.2, stale_after=5).run(once=True, poll=0.05)
    assert store.get(again.id).status == "done"
    assert [d.delivery_id for d in service.get(cid).deliveries] == ["d001"]


def test_a_cancel_after_the_intent_is_recorded_does_not_stop_the_delivery(db: Db) -> None:
    settings, service, _ = db
    registers.write_small_registers(settings, n=400)
    cid = _case(settings, service, "anonymisation_agreed")
    store = JobStore(service.engine)
    job = submit_next(service, store, cid, Cast().processor)

    def cancel_when_writing(_f: float, step: str, _d: str) -> None:
        if step == "writing":
            store.request_cancel(job.id, service.now())

    Worker(settings, service, store, heartbeat=0.2, stale_after=5, on_progress=cancel_when_writing).run(
        once=True, poll=0.05
    )
    ended = store.get(job.id)
    assert ended.status == "done" and ended.cancel_requested
    case = service.get(cid)
    assert case.status == "delivered" and case.pending_delivery is None
    assert verify_manifest(settings.deliveries_dir / cid / "d001") is None


@pytest.mark.slow
def test_a_killed_worker_s_delivery_is_run_again_by_the_next_worker(db: Db) -> None:
    settings, service, url = db
    registers.write_small_registers(settings, n=400)
    cid = _case(settings, service, "anonymisation_agreed")
    store = JobStore(service.engine)
    job = submit_next(service, store, cid, Cast().processor)
    env = {**os.environ, "IPLOS_HOME": str(settings.home), "IPLOS_CASE_DB": url}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iplos",
            "worker",
            "--poll",
            "0.1",
            "--heartbeat",
            "0.5",
            "--stale-after",
            "30",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while store.get(job.id).step not in ("evaluating", "writing"):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the worker never got to the evaluation"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.get(job.id).status == "running"  # killed mid-job, the row says so
    restarted = Worker(settings, service, store, heartbeat=0.2, stale_after=5)
    assert [j.id for j in restarted.recover()] == [job.id]  # its process is gone: taken over at once
    assert store.get(job.id).status == "queued"
    restarted.run(once=True, poll=0.05)
    again = store.get(job.id)
    assert again.status == "done" and again.attempts == 2, again.error
    case = service.get(cid)
    assert case.status == "delivered" and case.pending_delivery is None
    assert [d.delivery_id for d in case.deliveries] == ["d001"]
    folder = settings.deliveries_dir / cid
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == ["d001"]
    assert verify_manifest(folder / "d001") is None
    assert service.verify(cid)[0].ok


@pytest.mark.slow
def test_two_deliveries_at_once_share_one_memory_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A limit no other test uses gives this test its own budget object: 1 slot of 300 MB.
    settings = Settings(home=tmp_path / "iplos-data", memory_limit=300_000_017, engine_slots=1)
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    try:
        cids = [_case(settings, service, "anonymisation_agreed") for _ in range(2)]
        peak = [0]
        real_acquire = _budget.MemoryBudget.acquire

        def counting(self: _budget.MemoryBudget, timeout: float | None = 600.0) -> _budget.Slot:
            slot = real_acquire(self, timeout)
            if self.total == settings.memory_limit:
                peak[0] = max(peak[0], self.in_use)
            return slot

        monkeypatch.setattr(_budget.MemoryBudget, "acquire", counting)
        store = JobStore(service.engine)
        jobs = [submit_next(service, store, cid, Cast().processor) for cid in cids]
        worker = Worker(settings, service, store, concurrency=2, heartbeat=0.2, stale_after=5)
        assert worker.fill() == 2  # both jobs running at once in this process
        worker.run(once=True, poll=0.05)
        ended = [store.get(j.id) for j in jobs]
        assert [j.status for j in ended] == ["done", "done"], [j.error for j in ended]
        first, second = sorted(ended, key=lambda j: j.started_at or j.created_at)
        assert second.started_at is not None and first.finished_at is not None
        assert second.started_at < first.finished_at  # they overlapped
        assert peak[0] == 1  # never more connections than the budget's slots
        for cid in cids:
            assert service.get(cid).status == "delivered"
    finally:
        service.close()


def test_a_worker_thought_dead_leaves_the_job_to_the_one_that_took_it_over(db: Db) -> None:
    from datetime import timedelta

    from iplos.jobs import run_job

    settings, service, _ = db
    cid = drive(service, "accepted").case_id
    store = JobStore(service.engine)
    job = submit_next(service, store, cid, Cast().processor)
    first = store.claim("slow-worker", service.now())
    assert first is not None
    later = service.now() + timedelta(minutes=5)
    store.recover(later, timedelta(seconds=60))  # its heartbeat looked stopped
    assert store.claim("new-worker", later) is not None
    outcome = run_job(first, settings, service, store, "slow-worker", heartbeat=60)
    assert (outcome.job.status, outcome.job.worker, outcome.step) == ("running", "new-worker", None)
    assert service.get(cid).status == "accepted"  # the slow worker did nothing on the case
    assert store.get(job.id).attempts == 2
