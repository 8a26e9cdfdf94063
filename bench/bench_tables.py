"""Benchmark: protect and audit a three-dimensional hierarchical table of about 20,000 cells.

kommune within fylke (real 2024 classification, a few fylker) x 1-year age within 10-year groups
x service within SSB service group, from generated records with realistic skew (or from the
synthetic register when $IPLOS_HOME/registers exists and --register is given). Times building,
primary + fast secondary suppression and the audit (witnessed intervals, the default, and exact
intervals), and the optimal method on smaller tables (Vestfold, 196 cells; Telemark, 504 cells;
10-year age groups x service groups), and writes JSON to bench/results/tables.json.

    .venv/bin/python bench/bench_tables.py [--persons 60000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from iplos.catalog import hierarchy_for
from iplos.sdc.tables import Dimension, GroupDisclosure, MinCount, build_table, protect

FYLKER = ("40", "15", "39")  # Telemark, Møre og Romsdal, Vestfold (2024)
AGES = (67, 96)
SERVICES = ("3", "4", "6", "13", "15", "20", "21", "31", "33")


def generate(persons: int, seed: int) -> tuple[pd.DataFrame, list[Dimension]]:
    rng = np.random.default_rng(seed)
    region = hierarchy_for("kommune")
    kommuner = [row[0] for row in region.rows if row[1] in FYLKER]
    age = hierarchy_for("alder")
    ages = [str(a) for a in range(AGES[0], AGES[1] + 1)]
    service = hierarchy_for("tjeneste")
    services = [s for s in SERVICES if s in service]
    # kommune sizes follow a Zipf-like law; ages rise then fall; services are skewed
    k_weight = 1.0 / np.arange(1, len(kommuner) + 1) ** 0.9
    rng.shuffle(k_weight)
    a = np.arange(len(ages))
    a_weight = np.exp(-((a - 18) ** 2) / 120.0)
    s_weight = 1.0 / np.arange(1, len(services) + 1) ** 1.2
    person_k = rng.choice(len(kommuner), persons, p=k_weight / k_weight.sum())
    person_a = rng.choice(len(ages), persons, p=a_weight / a_weight.sum())
    n_services = rng.choice([1, 2, 3], persons, p=[0.6, 0.3, 0.1])
    idx = np.repeat(np.arange(persons), n_services)
    svc = rng.choice(len(services), idx.size, p=s_weight / s_weight.sum())
    frame = pd.DataFrame(
        {
            "pseudonym": np.char.add("p", idx.astype(str)),
            "kommune": np.array(kommuner)[person_k[idx]],
            "alder": np.array(ages)[person_a[idx]],
            "tjeneste": np.array(services)[svc],
            "timer_per_uke": rng.gamma(1.5, 6.0, idx.size),
        }
    ).drop_duplicates(["pseudonym", "tjeneste"])
    dims = [
        Dimension.from_hierarchy(region, "kommune", name="kommune", values=kommuner, subtotals=["fylke"]),
        Dimension.from_hierarchy(age, "age", name="alder", values=ages, subtotals=["10 years"]),
        Dimension.from_hierarchy(service, "service", name="tjeneste", values=services),
    ]
    return frame, dims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tables.json")
    args = parser.parse_args()

    frame, dims = generate(args.persons, args.seed)
    t0 = time.perf_counter()
    table = build_table(frame, dims, count="persons")
    t_build = time.perf_counter() - t0
    rules = [MinCount(5), GroupDisclosure()]
    t0 = time.perf_counter()
    result = protect(table, rules, secondary="fast", run_audit=False)
    t_secondary = time.perf_counter() - t0
    from iplos.sdc.tables._audit import audit as run_audit

    audits = {}
    for mode in ("witnessed", "exact"):
        t0 = time.perf_counter()
        checked = run_audit(
            table.constraints,
            table.values,
            result.suppressed,
            sensitive=result.primary.mask if result.primary else None,
            upper_required=result.protection.upper(table.values) if result.protection else None,
            lower_required=result.protection.lower(table.values) if result.protection else None,
            intervals=mode,  # type: ignore[arg-type]
        )
        audits[mode] = (time.perf_counter() - t0, checked)
    t_audit, checked = audits["witnessed"]
    exact_seconds, exact = audits["exact"]
    same = bool((checked.ok == exact.ok).all())
    counts = result.counts()

    optimal = {}
    for fylke in ("39", "40"):  # Vestfold, Telemark
        small_dims = [
            Dimension.from_hierarchy(
                hierarchy_for("kommune"),
                "kommune",
                name="kommune",
                values=[k for k in dims[0].leaf_of if k.startswith(fylke)],
                subtotals=["fylke"],
            ),
            Dimension.from_hierarchy(
                hierarchy_for("alder"), "10 years", name="alder", values=list(dims[1].leaf_of)
            ),
            Dimension.from_hierarchy(
                hierarchy_for("tjeneste"), "SSB group", name="tjeneste", values=list(dims[2].leaf_of)
            ),
        ]
        small = build_table(frame[frame["kommune"].str.startswith(fylke)], small_dims, count="persons")
        t0 = time.perf_counter()
        opt = protect(small, rules, secondary="optimal", time_limit=60)
        t_opt = time.perf_counter() - t0
        fast_small = protect(small, rules, secondary="fast")
        optimal[str(small.n_cells)] = {
            "fylke": fylke,
            "cells": small.n_cells,
            "method": opt.method,
            "primary": opt.counts()["primary"],
            "secondary_optimal": opt.counts()["secondary"],
            "secondary_fast": fast_small.counts()["secondary"],
            "cost_optimal": opt.details["cost"]["suppressed"],
            "cost_fast": fast_small.details["cost"]["suppressed"],
            "details": opt.details.get("optimal"),
            "secondary_seconds": opt.details["secondary_seconds"],
            "seconds_with_audit": round(t_opt, 3),
            "audit_passed": opt.audit.passed if opt.audit else None,
        }

    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        rev = ""
    out = {
        "benchmark": "tables",
        "git_revision": rev,
        "machine": platform.platform(),
        "input_rows": len(frame),
        "persons": args.persons,
        "cells": table.n_cells,
        "shape": list(table.shape),
        "constraints": int(table.constraints.shape[0]),
        "primary": counts["primary"],
        "secondary": counts["secondary"],
        "build_seconds": round(t_build, 3),
        "fast_secondary_seconds": round(t_secondary, 3),
        "lp_fallbacks": result.details.get("fast", {}).get("lp_fallbacks"),
        "audit_seconds": round(t_audit, 3),
        "audit_intervals": "witnessed",
        "audit_linear_programs": checked.linear_programs,
        "audit_components": checked.components,
        "audit_passed": checked.passed,
        "secondary_plus_audit_seconds": round(t_secondary + t_audit, 3),
        "exact_audit_seconds": round(exact_seconds, 3),
        "exact_audit_linear_programs": exact.linear_programs,
        "exact_audit_passed": exact.passed,
        "exact_and_witnessed_verdicts_equal": same,
        "secondary_plus_exact_audit_seconds": round(t_secondary + exact_seconds, 3),
        "optimal": optimal,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
