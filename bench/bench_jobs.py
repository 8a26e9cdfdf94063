"""Benchmark the processor's work as jobs against the same work called directly (issue 14).

On a synthetic register (the demo's application: home-dwelling 80+, 2012-2016, with the cause of
death register) it runs, for each of two cases, the proposal (linkage and search) and, after the
applicant agrees, the delivery (linkage, evaluation, gate, files):

- directly: `delivery.Processor.next_step`, one case after the other;
- as jobs: both cases queued, one `jobs.Worker` running them at once in threads (the process's
  DuckDB budget shared: IPLOS_MEMORY_LIMIT split into IPLOS_ENGINE_SLOTS).

It reports the wall time of each phase, the number of progress rows each job wrote, and the peak
in-use memory slots. Peak RSS is this process's; the load average before and after is recorded,
since the machine is shared.

    nice .venv/bin/python bench/bench_jobs.py --scale 0.02
    nice .venv/bin/python bench/bench_jobs.py --home /tmp/iplos-national --no-direct   # the jobs only

Writes bench/results/jobs-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--home",
        type=Path,
        help="Use this existing register (read-only: linked into a scratch copy) instead of generating one.",
    )
    parser.add_argument("--no-direct", action="store_true", help="Only the jobs, not the direct calls.")
    args = parser.parse_args()

    from iplos.cases import CaseService
    from iplos.cases.examples import Cast
    from iplos.cli.demo import _case, _register
    from iplos.config import Settings
    from iplos.delivery import Processor
    from iplos.engine import _budget
    from iplos.jobs import JobStore, Worker, submit_next

    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    peak = [0]
    real_acquire = _budget.MemoryBudget.acquire

    def counting(self: _budget.MemoryBudget, timeout: float | None = 600.0) -> _budget.Slot:
        slot = real_acquire(self, timeout)
        peak[0] = max(peak[0], self.in_use)
        return slot

    _budget.MemoryBudget.acquire = counting  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="webjobs-bench-") as scratch:
        home = Path(scratch) / "iplos-data"
        if args.home is not None:
            # A tree of symlinks to the shared register: what the bench writes (case store,
            # deliveries, spill) lands in the scratch copy, never in the register's own folder.
            shutil.copytree(args.home.resolve(), home, symlinks=False, copy_function=os.symlink)
            register = f"existing register {args.home}"
        settings = Settings.from_env(home)
        if args.home is None:
            t = time.perf_counter()
            register = _register(settings, args.scale, args.seed, lambda *_a: None)
            timings["synthetic_register_s"] = time.perf_counter() - t
        service = CaseService.from_settings(settings)
        cast = Cast()
        direct = [] if args.no_direct else [_case(service, cast, lambda _m: None) for _ in range(2)]
        queued = [_case(service, cast, lambda _m: None) for _ in range(2)]
        cases = direct + queued

        processor = Processor(settings, service, cast.processor)
        if direct:
            t = time.perf_counter()
            for cid in direct:
                processor.next_step(cid)
            timings["direct_propose_2_cases_s"] = time.perf_counter() - t
            for cid in direct:
                service.agree_anonymisation(cid, cast.applicant)
            t = time.perf_counter()
            for cid in direct:
                processor.next_step(cid)
            timings["direct_deliver_2_cases_s"] = time.perf_counter() - t

        store = JobStore(service.engine)
        progress_rows: dict[str, int] = {}

        def count(_f: float, _s: str, _d: str) -> None:
            progress_rows["n"] = progress_rows.get("n", 0) + 1

        worker = Worker(
            settings, service, store, concurrency=2, heartbeat=5.0, stale_after=60.0, on_progress=count
        )
        t = time.perf_counter()
        jobs = [submit_next(service, store, cid, cast.processor) for cid in queued]
        worker.run(once=True, poll=0.05)
        timings["jobs_propose_2_cases_s"] = time.perf_counter() - t
        for cid in queued:
            service.agree_anonymisation(cid, cast.applicant)
        t = time.perf_counter()
        jobs += [submit_next(service, store, cid, cast.processor) for cid in queued]
        worker.run(once=True, poll=0.05)
        timings["jobs_deliver_2_cases_s"] = time.perf_counter() - t
        ended = [store.get(j.id) for j in jobs]
        statuses = [j.status for j in ended]
        overlaps = sum(
            1
            for a in ended
            for b in ended
            if a.id < b.id
            and a.started_at is not None
            and b.started_at is not None
            and a.finished_at is not None
            and b.finished_at is not None
            and a.started_at < b.finished_at
            and b.started_at < a.finished_at
        )
        delivered = {cid: service.get(cid).status for cid in cases}
        service.close()

    out: dict[str, Any] = {
        "benchmark": "jobs",
        "git_revision": _rev(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale if args.home is None else "national (1.0)",
        "register": register,
        "engine_slots": settings.engine_slots,
        "memory_limit_bytes": settings.memory_limit,
        "job_statuses": statuses,
        "overlapping_job_pairs": overlaps,
        "case_statuses": delivered,
        "progress_reports": progress_rows.get("n", 0),
        "peak_slots_in_use": peak[0],
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "note": "2-core machine shared with other engineers' work while measured",
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / (f"jobs-{args.scale:g}.json" if args.home is None else "jobs-national.json")
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
