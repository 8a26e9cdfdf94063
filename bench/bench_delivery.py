"""Benchmark linkage and delivery (issue 7) on a synthetic register.

Generates IPLOS 2012-2016 with the linkable registers at the given scale in a scratch data folder,
then times each step of a delivery on DuckDB: the key holder's pseudonym mapping, the linkage
(population 80+ living at home, linked with the cause of death register), the optimal search, the
plan's evaluation and the gated, atomic write of every file. Peak RSS is this process's.

    .venv/bin/python bench/bench_delivery.py --scale 0.2

Writes bench/results/delivery-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    args = parser.parse_args()

    from iplos.config import Settings
    from iplos.delivery import Criteria, forbidden_columns, write_delivery
    from iplos.delivery._anonymise import evaluate, propose
    from iplos.delivery._build import build_release, disclosure_report
    from iplos.delivery._case import anonymisation_setup
    from iplos.delivery._hierarchies import institution_services
    from iplos.engine import connect
    from iplos.ident import KeyStore
    from iplos.linkage import LinkageRequest, Population, link
    from iplos.linkage._keyholder import write_mapping
    from iplos.synth import generate

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(home=Path(scratch) / "iplos-data")
        t = time.perf_counter()
        summary = generate(settings, scale=args.scale, seed=args.seed, years=YEARS)
        timings["synthetic_register_s"] = time.perf_counter() - t
        keys = KeyStore.open(settings)

        t = time.perf_counter()
        persons = write_mapping(
            settings.keyholder_dir / "identities.parquet",
            keys,
            ("iplos", "dar"),
            Path(scratch) / "map.parquet",
        )
        timings["keyholder_mapping_s"] = time.perf_counter() - t

        request = LinkageRequest.build(
            "BENCH",
            YEARS,
            VARIABLES,
            Population(min_age=80, home_dwelling=True, institution_services=institution_services()),
            approvals=("iplos", "dar"),
        )
        with connect(settings, "duckdb") as engine:
            t = time.perf_counter()
            extract = link(engine, keys, request)
            timings["link_s"] = time.perf_counter() - t
            setup = anonymisation_setup(extract.columns, YEARS, {"kommune": "fylke"})
            t = time.perf_counter()
            plan, outcome = propose(engine, extract.table, setup, Criteria(k=5, max_suppressed=0.05))
            timings["search_s"] = time.perf_counter() - t
            t = time.perf_counter()
            evaluation = evaluate(engine, extract.table, plan, setup.hierarchies)
            timings["evaluate_s"] = time.perf_counter() - t
        result = outcome.search
        assert result is not None
        release = build_release(extract, evaluation, setup.hierarchies, "d001", YEARS)
        report = disclosure_report(release, evaluation, setup.hierarchies, [])
        t = time.perf_counter()
        delivered = write_delivery(
            release,
            settings.deliveries_dir / "BENCH" / "d001",
            disclosure=report,
            keys_hex=[keys.key(r).secret_hex() for r in keys.registers],
            forbidden_columns=forbidden_columns(),
            linkage_report=extract.report.to_dict(),
        )
        timings["write_and_gate_s"] = time.perf_counter() - t
        sizes = {p.name: p.stat().st_size for p in delivered.path.iterdir()}

    out = {
        "benchmark": "delivery",
        "git_revision": _rev(),
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "years": list(YEARS),
        "identities": persons,
        "register_rows": summary.rows,
        "extract_rows": extract.report.rows,
        "extract_persons": extract.report.persons,
        "levels": result.levels_by_name,
        "lattice_nodes": result.lattice_size,
        "evaluated_nodes": result.evaluated,
        "suppressed": evaluation.applied.suppressed,
        "delivered_rows": len(release.data),
        "file_bytes": sizes,
        "timings": {k: round(v, 3) for k, v in timings.items()},
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
