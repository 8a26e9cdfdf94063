"""Benchmark a person-level delivery (issue 11): linkage, search, gate on the national synthetic register.

Uses a register made by `bench/bench_synth.py --home DIR --keep` (IPLOS 2007-2017 with the linkable
registers), then on DuckDB: links the case (the demo's: home-based services 80+, with the cause of
death register; or the wide one: everyone 67+ with services), groups the person signatures and
searches the person-level optimum (k = 5 persons, at most 5 % of persons suppressed, kommune at least
fylke), carries the plan out, writes every file with the release gate inside, and runs the gate once
more on its own to time it. Peak RSS is this process's (DuckDB runs in-process).

    .venv/bin/python bench/bench_synth.py --scale 1.0 --home /tmp/iplos-national --keep
    .venv/bin/python bench/bench_release.py --home /tmp/iplos-national --case demo
    .venv/bin/python bench/bench_release.py --home /tmp/iplos-national --case wide

Writes bench/results/release-<case>-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = (
    "iplos.person.fodselsaar",
    "iplos.person.kjonn",
    "iplos.person.kommune",
    "iplos.person.husstand",
    "iplos.tjeneste.tjeneste",
    "iplos.tjeneste.timer_per_uke",
    "iplos.funksjon.personlig_hygiene",
    "iplos.funksjon.hukommelse",
    "dar.dodsfall.dodsdato",
    "dar.dodsfall.underliggende_dodsarsak",
)


def _rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True, help="data folder made by bench_synth.py --keep")
    parser.add_argument("--case", choices=("demo", "wide"), default="demo")
    parser.add_argument("--years", default="2007-2017")
    parser.add_argument("--scale", default="?", help="the register's scale, for the result's name")
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB's budget, e.g. 1.5GB (default: the engine's)"
    )
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    years = tuple(range(int(first), int(last or first) + 1))

    from iplos.config import Settings, parse_size
    from iplos.delivery import Criteria, forbidden_columns, write_delivery
    from iplos.delivery._anonymise import evaluate, propose
    from iplos.delivery._build import build_release, disclosure_report
    from iplos.delivery._case import anonymisation_setup
    from iplos.delivery._gate import measure_data_files
    from iplos.delivery._hierarchies import institution_services
    from iplos.engine import connect
    from iplos.ident import KeyStore
    from iplos.linkage import LinkageRequest, Population, link

    settings = Settings(home=args.home)
    if args.memory_limit:
        settings = dataclasses.replace(settings, memory_limit=parse_size(args.memory_limit), engine_slots=1)
    keys = KeyStore.open(settings)
    if args.case == "demo":
        population = Population(min_age=80, home_dwelling=True, institution_services=institution_services())
        registers = ("iplos", "dar")
        variables = VARIABLES
    else:
        population = Population(min_age=67)
        registers = ("iplos",)
        variables = tuple(v for v in VARIABLES if not v.startswith("dar."))
    request = LinkageRequest.build("BENCH", years, variables, population, approvals=registers)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of this process (all its threads): less swayed by load
    started = time.perf_counter()
    with connect(settings, "duckdb") as engine:
        t, c = time.perf_counter(), time.process_time()
        extract = link(engine, keys, request)
        timings["link_s"] = time.perf_counter() - t
        cpu["link_s"] = time.process_time() - c
        rss_link = _rss_mb()
        setup = anonymisation_setup(extract.columns, years, {"kommune": "fylke"})
        t, c = time.perf_counter(), time.process_time()
        plan, outcome = propose(engine, extract.table, setup, Criteria(k=5, max_suppressed=0.05))
        timings["search_s"] = time.perf_counter() - t
        cpu["search_s"] = time.process_time() - c
        assert outcome.search is not None
        t = time.perf_counter()
        evaluation = evaluate(engine, extract.table, plan, setup.hierarchies, outcome.table)
        timings["evaluate_s"] = time.perf_counter() - t
    release = build_release(extract, evaluation, setup.hierarchies, "d001", years)
    report = disclosure_report(release, evaluation, setup.hierarchies, [])
    target = settings.deliveries_dir / f"BENCH-{args.case}" / time.strftime("d%Y%m%d%H%M%S")
    t = time.perf_counter()
    delivered = write_delivery(
        release,
        target,
        disclosure=report,
        keys_hex=[keys.key(r).secret_hex() for r in keys.registers],
        forbidden_columns=forbidden_columns(),
        linkage_report=extract.report.to_dict(),
    )
    timings["write_with_gate_s"] = time.perf_counter() - t
    judged = plan.criteria.l is not None or plan.criteria.t is not None
    t, c = time.perf_counter(), time.process_time()
    _, failures = measure_data_files(
        delivered.path,
        columns=[c.name for c in release.columns],
        quasi_identifiers=release.quasi_identifiers,
        sensitive=release.sensitive if judged else (),
        criteria=release.criteria,
        records_before=release.records_before,
        persons_before=release.persons_before,
    )
    timings["gate_alone_s"] = time.perf_counter() - t
    cpu["gate_alone_s"] = time.process_time() - c
    cpu["link_search_gate_s"] = sum(cpu.values())
    timings["total_s"] = time.perf_counter() - started
    timings["link_search_gate_s"] = timings["link_s"] + timings["search_s"] + timings["gate_alone_s"]
    out = {
        "benchmark": "release",
        "case": args.case,
        "git_revision": _rev(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "years": [years[0], years[-1]],
        "extract_rows": extract.report.rows,
        "extract_persons": extract.report.persons,
        "distinct_signatures": int(outcome.class_sizes_before.size),
        "levels": outcome.search.levels_by_name,
        "lattice_nodes": outcome.search.lattice_size,
        "evaluated_nodes": outcome.search.evaluated,
        "suppressed_persons": evaluation.outcome.suppressed_persons,
        "suppressed_records": evaluation.applied.suppressed,
        "smallest_person_class": int(evaluation.applied.class_sizes.min()),
        "gate_passed": delivered.gate.passed and not failures,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "peak_rss_mb_after_link": rss_link,
        "peak_rss_mb": _rss_mb(),
        "duckdb_memory_limit": settings.memory_limit // settings.engine_slots,
        "note": "2-core machine shared with other processes while measured",
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"release-{args.case}-{args.scale}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
