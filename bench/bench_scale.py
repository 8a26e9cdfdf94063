"""Benchmark one case delivered end to end on DuckDB and on the Spark standalone cluster, side by side.

Generates a synthetic register at the given scale (or reuses ``--home``), then runs the same case on
each backend in a fresh child process: the processor links, proposes the optimal plan, the applicant
agrees, the processor delivers (`iplos.delivery.Processor`). For each backend it prints wall time
(link + propose + deliver; the Spark session's start is timed apart), peak memory of the driver (the
child process and its JVM, sampled) and of the workers (the worker daemons and their executor JVMs,
sampled from /proc), and rows per second (linked rows / wall time).

    .venv/bin/python bench/bench_scale.py --scale 0.2
    .venv/bin/python bench/bench_scale.py --scale 1.0 --years 2007-2024 --case home-nursing   # later

The case is a parameter: a name from `CASES` or ``package.module:function`` returning the
application content (`iplos.cases` `Application`) for ``(today, years)``. The cluster is the one of
tools/spark_cluster.sh (started for the run and stopped after unless it was running already).
Writes bench/results/scale-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "tools" / "spark_cluster.sh"
PAGE = os.sysconf("SC_PAGE_SIZE")


def demo_case(today: dt.date, years: tuple[int, ...]) -> Any:
    """The demo's application (home-dwelling recipients 80+ linked with causes of death) for `years`."""
    from iplos.cases.examples import example_application

    return dataclasses.replace(example_application(today), aarganger=years)


def home_nursing_case(today: dt.date, years: tuple[int, ...]) -> Any:
    """Home nursing (tjeneste 15) for persons 67+ with a functional assessment in the årgang: age, sex,
    kommune, services and hours, functional scores, and (from 2017) KPR's contacts per årgang."""
    from iplos.cases.examples import example_application
    from iplos.cases.model import VariableRequest
    from iplos.cases.population import AgeRange, Population, ServiceCriterion

    why = "needed to describe {} of home nursing recipients 67+ for the research question"
    wanted = [
        ("fodselsaar", "age", "iplos"),
        ("kjonn", "sex differences", "iplos"),
        ("kommune", "regional variation", "iplos"),
        ("tjeneste", "the services received", "iplos"),
        ("timer_per_uke", "the hours of home nursing", "iplos"),
        ("personlig_hygiene", "functional level", "iplos"),
        ("hukommelse", "cognitive function", "iplos"),
    ]
    if any(y >= 2017 for y in years):
        wanted.append(("antall_kontakter", "contacts with the municipal health service", "kpr"))
    variables = tuple(VariableRequest(n, why.format(w), r, "forskning") for n, w, r in wanted)
    population = Population(
        age=AgeRange(min_age=67),
        services=(ServiceCriterion(codes=(15,)),),
        functional_assessment=True,
        description="Persons 67+ who received home nursing (tjeneste 15) and were assessed in the årgang",
    )
    return dataclasses.replace(
        example_application(today), aarganger=years, variables=variables, population=population, linkages=()
    )


CASES: dict[str, Callable[[dt.date, tuple[int, ...]], Any]] = {
    "demo": demo_case,
    "home-nursing": home_nursing_case,
}


def case_factory(name: str) -> Callable[[dt.date, tuple[int, ...]], Any]:
    if name in CASES:
        return CASES[name]
    if ":" in name:
        module, function = name.split(":", 1)
        found: Callable[[dt.date, tuple[int, ...]], Any] = getattr(importlib.import_module(module), function)
        return found
    raise SystemExit(f"unknown case {name!r}: use one of {', '.join(CASES)} or package.module:function")


def _years(text: str) -> tuple[int, ...]:
    if "-" in text:
        first, last = text.split("-", 1)
        return tuple(range(int(first), int(last) + 1))
    return tuple(int(y) for y in text.split(","))


def _rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ----- memory sampling from /proc ----------------------------------------------------------------
def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        out.setdefault(ppid, []).append(int(entry))
    return out


def _tree(roots: list[int], children: dict[int, list[int]]) -> list[int]:
    seen, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo.extend(children.get(pid, []))
    return seen


def _worker_pids() -> list[int]:
    """The worker daemons of tools/spark_cluster.sh, from its pid files."""
    state = Path(
        os.environ.get("IPLOS_SPARK_CLUSTER_DIR", Path(tempfile.gettempdir()) / "iplos-spark-cluster")
    )
    pids = []
    for path in sorted((state / "pids").glob("*deploy.worker.Worker-*.pid")):
        try:
            pids.append(int(path.read_text().strip()))
        except (OSError, ValueError):
            continue
    return pids


class Sampler(threading.Thread):
    """Peak RSS (bytes) of a process tree (the driver) and of the worker daemons' trees, every 0.2 s,
    and the CPU seconds each tree used meanwhile (a figure the machine's load does not inflate)."""

    def __init__(self, driver: int, workers: list[int]) -> None:
        super().__init__(daemon=True)
        self.driver, self.workers = driver, workers
        self.peak_driver = self.peak_workers = 0
        self._baseline = {pid: _cpu_ticks(pid) for pid in _tree(workers, _children())}
        self._ticks: dict[str, dict[int, int]] = {"driver": {}, "workers": {}}
        self._done = threading.Event()

    def cpu_s(self, which: str) -> float:
        ticks = self._ticks[which]
        return sum(t - self._baseline.get(pid, 0) for pid, t in ticks.items()) / TICKS

    def _sample(self, which: str, pids: list[int]) -> int:
        seen = self._ticks[which]
        for pid in pids:
            seen[pid] = max(seen.get(pid, 0), _cpu_ticks(pid))
        return sum(map(_rss, pids))

    def run(self) -> None:
        while not self._done.is_set():
            children = _children()
            self.peak_driver = max(self.peak_driver, self._sample("driver", _tree([self.driver], children)))
            if self.workers:
                rss = self._sample("workers", _tree(self.workers, children))
                self.peak_workers = max(self.peak_workers, rss)
            self._done.wait(0.2)

    def stop(self) -> None:
        self._done.set()
        self.join()


# ----- one backend, in a child process -----------------------------------------------------------
def run_one(
    backend: str, home: Path, case: str, years: tuple[int, ...], master: str | None
) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from iplos.cases import CaseService
    from iplos.cases.examples import Cast, drive
    from iplos.config import Settings
    from iplos.delivery import Processor

    settings = dataclasses.replace(Settings.from_env(home), spark_master=master)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = case_factory(case)(service.now().date(), years)
    case_id = drive(service, "accepted", cast, application=content).case_id
    session_s = 0.0
    if backend == "spark":
        from iplos.engine._connect import shared_spark_session

        t = time.perf_counter()
        # The process's shared session, which the processor's engines then reuse (timed apart: a
        # processor service starts it once for all its cases).
        shared_spark_session(settings)
        session_s = time.perf_counter() - t
    started = time.perf_counter()

    def progress(message: str) -> None:  # where the time goes, on stderr
        print(f"[{backend} {time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    processor = Processor(settings, service, cast.processor, backend=backend, progress=progress)  # type: ignore[arg-type]
    t = time.perf_counter()
    proposed = processor.next_step(case_id)
    propose_s = time.perf_counter() - t
    if proposed.action != "proposed":
        raise SystemExit(f"{backend}: expected a proposal, got {proposed.action}: {proposed.message}")
    service.agree_anonymisation(case_id, cast.applicant)
    t = time.perf_counter()
    done = processor.next_step(case_id)
    deliver_s = time.perf_counter() - t
    if done.delivered is None:
        raise SystemExit(f"{backend}: expected a delivery, got {done.action}: {done.message}")
    summary = service.get(case_id).linkage_summary or {}
    delivered = pq.read_metadata(done.delivered.path / "extract.parquet").num_rows
    if backend == "spark":
        from iplos.engine._connect import stop_shared_spark_session

        stop_shared_spark_session()
    return {
        "backend": backend,
        "case_id": case_id,
        "session_start_s": round(session_s, 2),
        "propose_s": round(propose_s, 2),
        "deliver_s": round(deliver_s, 2),
        "wall_s": round(propose_s + deliver_s, 2),
        "linked_rows": summary.get("rows"),
        "linked_persons": summary.get("persons"),
        "delivered_rows": delivered,
        "self_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _cluster(command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(CLUSTER), command], env=env, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--years", default="2012-2016", help="årganger of the case, e.g. 2012-2016")
    parser.add_argument(
        "--register-years", default=None, help="IPLOS årganger to generate (default: --years)"
    )
    parser.add_argument("--kpr-years", default=None, help="KPR årganger to generate, e.g. 2017-2024")
    parser.add_argument("--case", default="demo", help="a name from CASES or package.module:function")
    parser.add_argument("--home", type=Path, default=None, help="reuse this generated data folder")
    parser.add_argument("--backends", default="duckdb,spark")
    parser.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--master", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    years = _years(args.years)

    if args.run_one:
        json.dump(run_one(args.run_one, args.home, args.case, years, args.master), sys.stdout)
        return

    from iplos.config import Settings
    from iplos.synth import generate

    scratch = None
    home = args.home
    generated: dict[str, Any] = {}
    if home is None or not (home / "synth.json").exists():
        if home is None:
            scratch = tempfile.TemporaryDirectory()
            home = Path(scratch.name) / "iplos-data"
        register_years = _years(args.register_years) if args.register_years else years
        iplos_years = [y for y in register_years if y <= 2017]
        kpr_years = _years(args.kpr_years) if args.kpr_years else [y for y in register_years if y > 2017]
        t = time.perf_counter()
        summary = generate(
            Settings(home=home), scale=args.scale, seed=args.seed, years=iplos_years, kpr_years=kpr_years
        )
        generated = {
            "seconds": round(time.perf_counter() - t, 1),
            "persons": summary.persons,
            "rows": summary.rows,
        }

    started_cluster = False
    master = None
    if "spark" in args.backends:
        master = _cluster("url").stdout.strip()
        if _cluster("status").returncode != 0:
            done = _cluster("start")
            if done.returncode != 0:
                raise SystemExit(f"the Spark cluster did not start:\n{done.stdout}{done.stderr}")
            started_cluster = True

    results = []
    try:
        for backend in args.backends.split(","):
            command = [sys.executable, __file__, "--run-one", backend, "--home", str(home), "--case", args.case,
                       "--years", args.years, *(["--master", master] if backend == "spark" and master else [])]  # fmt: skip
            t = time.perf_counter()
            load_before = list(os.getloadavg())
            child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            sampler = Sampler(child.pid, _worker_pids() if backend == "spark" else [])
            sampler.start()
            out, _ = child.communicate()
            sampler.stop()
            if child.returncode != 0:
                raise SystemExit(f"{backend} run failed (exit {child.returncode})")
            result = json.loads(out)
            result["process_s"] = round(time.perf_counter() - t, 2)
            result["driver_peak_rss_mb"] = round(sampler.peak_driver / 1024**2, 1)
            result["workers_peak_rss_mb"] = (
                round(sampler.peak_workers / 1024**2, 1) if sampler.workers else None
            )
            result["driver_cpu_s"] = round(sampler.cpu_s("driver"), 1)
            result["workers_cpu_s"] = round(sampler.cpu_s("workers"), 1) if sampler.workers else None
            result["load_before"] = load_before
            result["load_after"] = list(os.getloadavg())
            rows = result.get("linked_rows") or 0
            result["rows_per_s"] = round(rows / result["wall_s"]) if result["wall_s"] else None
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)  # kept even if a later backend fails
    finally:
        if started_cluster:
            _cluster("stop")
        if scratch is not None:
            scratch.cleanup()

    print(
        f"\n{'backend':8} {'wall s':>8} {'session s':>10} {'driver MB':>10} {'workers MB':>11} {'rows':>10} {'rows/s':>9}"
        f" {'driver cpu s':>13} {'workers cpu s':>14} {'load':>5}"
    )
    for r in results:
        workers = "-" if r["workers_peak_rss_mb"] is None else f"{r['workers_peak_rss_mb']:.0f}"
        wcpu = "-" if r["workers_cpu_s"] is None else f"{r['workers_cpu_s']:.0f}"
        print(f"{r['backend']:8} {r['wall_s']:8.1f} {r['session_start_s']:10.1f} {r['driver_peak_rss_mb']:10.0f} "
              f"{workers:>11} {r['linked_rows'] or 0:10d} {r['rows_per_s'] or 0:9d}"
              f" {r['driver_cpu_s']:13.0f} {wcpu:>14} {r['load_after'][1]:5.1f}")  # fmt: skip
    out = {
        "benchmark": "scale",
        "git_revision": _rev(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "case": args.case,
        "years": list(years),
        "generated": generated,
        "memory_limit": os.environ.get("IPLOS_MEMORY_LIMIT", "2GB (default)"),
        "results": results,
        "note": "2-core machine shared with other processes while measured; wall = link + propose + deliver",
    }
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"scale-{args.scale:g}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
