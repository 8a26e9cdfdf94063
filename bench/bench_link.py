"""Benchmark the linkage alone on an existing register (the national synthetic one, say).

Links the demo's case (home-dwelling 80+ with services, hours, two functional scores and the cause
of death register, 2007-2017 unless --years says otherwise) `--repeat` times on DuckDB and prints, per
run, wall time, CPU seconds of this process (all its threads) and peak RSS so far, with the load. The
first run of a fresh home computes the key holder's pseudonym tables; later runs reuse them.

    .venv/bin/python bench/bench_link.py --home /tmp/<you>-home --repeat 2

The home must be writable in `keyholder/` (a `cp -rs` copy of the national register is).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

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
    runs = []
    for _ in range(args.repeat):
        load = os.getloadavg()
        with connect(settings, "duckdb") as engine:
            t, c = time.perf_counter(), time.process_time()
            extract = link(engine, keys, request)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
        runs.append(
            {
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rows": extract.report.rows,
                "persons": extract.report.persons,
                "load_before": [round(v, 1) for v in load],
            }
        )
        print(json.dumps(runs[-1]), flush=True)


if __name__ == "__main__":
    main()
