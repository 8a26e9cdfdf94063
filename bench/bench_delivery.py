"""Benchmark linkage and delivery (issue 7) on a synthetic register.

Generates IPLOS 2012-2016 with the linkable registers at the given scale in a scratch data folder
(or, with --home, uses an existing register, e.g. a `cp -rs` copy of the national one, 2007-2017 by
default), then times each step of a delivery on DuckDB, wall and CPU seconds of this process: the
key holder's pseudonym tables (computed on a home's first run, then only checked), the linkage
(population 80+ living at home, linked with the cause of death register), the optimal search, the
plan's evaluation and the gated, atomic write of every file. Peak RSS is this process's.

    .venv/bin/python bench/bench_delivery.py --scale 0.2
    .venv/bin/python bench/bench_delivery.py --home /tmp/<you>-home --scale 1.0

Writes bench/results/delivery-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
YEARS = (2012, 2013, 2014, 2015, 2016)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="an existing register (not generated)")
    parser.add_argument(
        "--years", default=None, help="e.g. 2007-2017 (default: 2012-2016, with --home 2007-2017)"
    )
    args = parser.parse_args()
    span = args.years or ("2007-2017" if args.home else None)
    years = YEARS
    if span:
        first, _, last = span.partition("-")
        years = tuple(range(int(first), int(last or first) + 1))

    from iplos.config import Settings
    from iplos.delivery import Criteria, forbidden_columns, write_delivery
    from iplos.delivery._anonymise import evaluate, propose
    from iplos.delivery._build import build_release, disclosure_report
    from iplos.delivery._case import anonymisation_setup
    from iplos.delivery._hierarchies import institution_services
    from iplos.engine import connect
    from iplos.ident import KeyStore
    from iplos.linkage import LinkageRequest, Population, link
    from iplos.linkage._keyholder import pseudonym_tables
    from iplos.synth import generate

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    load = [round(v, 1) for v in os.getloadavg()]

    def step(name: str, since: tuple[float, float]) -> None:
        timings[name] = time.perf_counter() - since[0]
        cpu[name] = time.process_time() - since[1]

    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    with tempfile.TemporaryDirectory() as scratch:
        summary_rows: dict[str, int] = {}
        if args.home is None:
            settings = Settings(home=Path(scratch) / "iplos-data")
            t = now()
            summary = generate(settings, scale=args.scale, seed=args.seed, years=years)
            step("synthetic_register_s", t)
            summary_rows = dict(summary.rows)
        else:
            settings = Settings.from_env(args.home)
        keys = KeyStore.open(settings)

        t = now()
        paths = pseudonym_tables(settings.keyholder_dir, keys, ("iplos", "dar"))
        step("keyholder_tables_s", t)
        persons = pq.ParquetFile(paths["iplos"]).metadata.num_rows

        request = LinkageRequest.build(
            "BENCH",
            years,
            VARIABLES,
            Population(min_age=80, home_dwelling=True, institution_services=institution_services()),
            approvals=("iplos", "dar"),
        )
        with connect(settings, "duckdb") as engine:
            t = now()
            extract = link(engine, keys, request)
            step("link_s", t)
            setup = anonymisation_setup(extract.columns, years, {"kommune": "fylke"})
            t = now()
            plan, outcome = propose(engine, extract.table, setup, Criteria(k=5, max_suppressed=0.05))
            step("search_s", t)
            t = now()
            evaluation = evaluate(engine, extract.table, plan, setup.hierarchies)
            step("evaluate_s", t)
        result = outcome.search
        assert result is not None
        release = build_release(extract, evaluation, setup.hierarchies, "d001", years)
        report = disclosure_report(release, evaluation, setup.hierarchies, [])
        t = now()
        delivered = write_delivery(
            release,
            Path(scratch) / "deliveries" / "BENCH" / "d001",
            disclosure=report,
            keys_hex=[keys.key(r).secret_hex() for r in keys.registers],
            forbidden_columns=forbidden_columns(),
            linkage_report=extract.report.to_dict(),
        )
        step("write_and_gate_s", t)
        sizes = {p.name: p.stat().st_size for p in delivered.path.iterdir()}

    out = {
        "benchmark": "delivery",
        "git_revision": _rev(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "home": str(args.home) if args.home else None,
        "years": list(years),
        "identities": persons,
        "register_rows": summary_rows,
        "extract_rows": extract.report.rows,
        "extract_persons": extract.report.persons,
        "levels": result.levels_by_name,
        "lattice_nodes": result.lattice_size,
        "evaluated_nodes": result.evaluated,
        "suppressed": evaluation.applied.suppressed,
        "delivered_rows": len(release.data),
        "file_bytes": sizes,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "cpu": {k: round(v, 3) for k, v in cpu.items()},
        "load_before": load,
        "load_after": [round(v, 1) for v in os.getloadavg()],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "note": "2-core machine shared with other processes while measured",
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"delivery-{args.scale:g}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
