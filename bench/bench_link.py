"""Benchmark the linkage alone on an existing register (the national synthetic one, say).

`--case demo` links the demo's case (home-dwelling 80+ with services, hours, two functional scores
and the cause of death register, 2007-2017 unless --years says otherwise) `--repeat` times on DuckDB;
`--case home-nursing` files issue 12's home-nursing case in a case store of the home and has the
processor link it `--repeat` times (`Processor.link_all`, as propose, answer and deliver do: the
first links, later ones reuse the kept linkage). Prints, per run, wall time, CPU seconds of this
process (all its threads) and peak RSS so far, with the load. The first run of a fresh home computes
the key holder's pseudonym tables; later runs reuse them.

    .venv/bin/python bench/bench_link.py --home /tmp/<you>-home --repeat 2
    .venv/bin/python bench/bench_link.py --home /tmp/<you>-home --case home-nursing --repeat 2

The home must be writable in `keyholder/` (a `cp -rs` copy of the national register is).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--years", default="2007-2017")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--case", choices=("demo", "home-nursing"), default="demo")
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    years = tuple(range(int(first), int(last or first) + 1))

    from iplos.config import Settings
    from iplos.delivery._hierarchies import institution_services
    from iplos.engine import connect
    from iplos.ident import KeyStore
    from iplos.linkage import LinkageRequest, Population, link

    settings = Settings.from_env(args.home)
    keys = KeyStore.open(settings)
    population = Population(min_age=80, home_dwelling=True, institution_services=institution_services())
    request = LinkageRequest.build("BENCH", years, VARIABLES, population, approvals=("iplos", "dar"))
    link_once = _processor_link(settings) if args.case == "home-nursing" else None
    runs = []
    for _ in range(args.repeat):
        load = os.getloadavg()
        t, c = time.perf_counter(), time.process_time()
        if link_once is not None:
            report = link_once()
        else:
            with connect(settings, "duckdb") as engine:
                report = link(engine, keys, request).report
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        runs.append(
            {
                "case": args.case,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rows": report.rows,
                "persons": report.persons,
                "load_before": [round(v, 1) for v in load],
            }
        )
        print(json.dumps(runs[-1]), flush=True)


def _processor_link(settings: Any) -> Callable[[], Any]:
    """The home-nursing case filed, reviewed and accepted; a function linking it as the processor."""
    from datetime import timedelta

    from iplos.cases import CaseService
    from iplos.cases.examples import Cast, decide_home_nursing, home_nursing_application
    from iplos.cases.model import EstimateLine
    from iplos.delivery._process import Processor

    db = settings.home / "cases-bench-link.db"
    db.unlink(missing_ok=True)
    service = CaseService(f"sqlite:///{db}")
    cast = Cast()
    today = service.now().date()
    cid = service.create_draft(cast.applicant, content=home_nursing_application(today)).case_id
    service.submit(cid, cast.applicant)
    decide_home_nursing(service, cid, cast)
    service.make_offer(
        cid, cast.processor, [EstimateLine("radgiver", 5, "bench")], today + timedelta(days=40)
    )
    service.accept_offer(cid, cast.applicant)
    processor = Processor(settings, service, cast.processor)

    def link_once() -> Any:
        extract, _, _ = processor.link_all(service.get(cid))
        return extract.report

    return link_once


if __name__ == "__main__":
    main()
