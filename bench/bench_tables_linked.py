"""Benchmark: three linked tables of about 20,000 cells each, protected and audited jointly.

Records of services received (one row per person and service, counted as records so that every
record falls in one category of each dimension) in the kommuner of three fylker (2024
classification), with ages 67-96, sex and service, with realistic skew. Three tables with other
groupings and margins of the same records are released one after another, each protected jointly
with the ones before it (`protect_linked`, as `iplos tables make` does with the release log):

1. kommune (+ fylke) x 1-year age (+ 10-year groups) x service (+ SSB group)
2. kommune (+ fylke) x 5-year age groups x service (+ SSB group) x sex
3. kommune (+ fylke) x 1-year age (+ 20-year groups) x sex x SSB service group

Times each release (protection alone, then the joint rounds with the joint audit; wall and CPU
seconds, with the load average beside them: the machine is shared) and a final
joint audit of all three from the published cells alone (`audit_linked`), and writes JSON to
bench/results/tables_linked.json.

    .venv/bin/python bench/bench_tables_linked.py [--persons 60000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from iplos.catalog import hierarchy_for
from iplos.sdc.tables import (
    Dimension,
    GroupDisclosure,
    MinCount,
    Release,
    audit_linked,
    build_table,
    protect_linked,
)

FYLKER = ("40", "15", "39")  # Telemark, Møre og Romsdal, Vestfold (2024)
AGES = (67, 96)
SERVICES = ("3", "4", "6", "13", "15", "20", "21", "31", "33")


def generate(persons: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = hierarchy_for("kommune")
    kommuner = [row[0] for row in region.rows if row[1] in FYLKER]
    ages = [str(a) for a in range(AGES[0], AGES[1] + 1)]
    services = [s for s in SERVICES if s in hierarchy_for("tjeneste")]
    k_weight = 1.0 / np.arange(1, len(kommuner) + 1) ** 0.9
    rng.shuffle(k_weight)
    a = np.arange(len(ages))
    a_weight = np.exp(-((a - 18) ** 2) / 120.0)
    s_weight = 1.0 / np.arange(1, len(services) + 1) ** 1.2
    person_k = rng.choice(len(kommuner), persons, p=k_weight / k_weight.sum())
    person_a = rng.choice(len(ages), persons, p=a_weight / a_weight.sum())
    person_s = rng.choice(["1", "2"], persons)
    n_services = rng.choice([1, 2, 3], persons, p=[0.6, 0.3, 0.1])
    idx = np.repeat(np.arange(persons), n_services)
    svc = rng.choice(len(services), idx.size, p=s_weight / s_weight.sum())
    return pd.DataFrame(
        {
            "pseudonym": np.char.add("p", idx.astype(str)),
            "kommune": np.array(kommuner)[person_k[idx]],
            "alder": np.array(ages)[person_a[idx]],
            "kjonn": person_s[idx],
            "tjeneste": np.array(services)[svc],
        }
    ).drop_duplicates(["pseudonym", "tjeneste"])


def tables(frame: pd.DataFrame) -> list[tuple[str, list[Dimension]]]:
    region, age, service = hierarchy_for("kommune"), hierarchy_for("alder"), hierarchy_for("tjeneste")
    kommuner = sorted(frame["kommune"].unique())
    ages = sorted(frame["alder"].unique(), key=int)
    services = sorted(frame["tjeneste"].unique(), key=int)

    def kommune() -> Dimension:
        return Dimension.from_hierarchy(
            region, "kommune", name="kommune", values=kommuner, subtotals=["fylke"]
        )

    def sex() -> Dimension:
        return Dimension.flat("kjonn", ["1", "2"])

    return [
        (
            "kommune-age-service",
            [
                kommune(),
                Dimension.from_hierarchy(age, "age", name="alder", values=ages, subtotals=["10 years"]),
                Dimension.from_hierarchy(service, "service", name="tjeneste", values=services),
            ],
        ),
        (
            "kommune-age5-service-sex",
            [
                kommune(),
                Dimension.from_hierarchy(age, "5 years", name="alder", values=ages, subtotals=[]),
                Dimension.from_hierarchy(service, "service", name="tjeneste", values=services),
                sex(),
            ],
        ),
        (
            "kommune-age-sex-group",
            [
                kommune(),
                Dimension.from_hierarchy(age, "age", name="alder", values=ages, subtotals=["20 years"]),
                sex(),
                Dimension.from_hierarchy(service, "SSB group", name="tjeneste", values=services),
            ],
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tables_linked.json")
    args = parser.parse_args()

    frame = generate(args.persons, args.seed)
    rules = [MinCount(5), GroupDisclosure()]
    released: list[Release] = []
    steps = []
    t_all = time.perf_counter()
    for name, dims in tables(frame):
        t0 = time.perf_counter()
        table = build_table(frame, dims, count="records")
        t_build = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        result = protect_linked(frame, table, released, rules, name=name, count="records")
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        released.append(Release.of(name, result.table))
        joint = result.report()["joint_audit"]
        steps.append(
            {
                "table": name,
                "cells": table.n_cells,
                "shape": list(table.shape),
                "build_seconds": round(t_build, 3),
                "protect_seconds": round(seconds, 3),
                "protect_cpu_seconds": round(cpu, 3),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "alone_secondary_seconds": result.table.details.get("secondary_seconds"),
                "linked_seconds": result.table.details.get("linked_seconds"),
                "flags": result.table.counts(),
                "joint_passed": joint["passed"],
                "joint_variables": result.model.n_vars,
                "hidden_cells": joint["hidden_cells"],
                "deviations": joint["deviations"],
                "given_away_earlier": len(joint["given_away_earlier"]),
                "joint_audit_linear_programs": joint["linear_programs"],
                "joint_audit_seconds": joint["seconds"],
            }
        )
        print(json.dumps(steps[-1]), flush=True)
    t_protect = time.perf_counter() - t_all
    t0 = time.perf_counter()
    model, final = audit_linked(released, intervals="witnessed")
    t_final = time.perf_counter() - t0
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        rev = ""
    out = {
        "benchmark": "tables_linked",
        "git_revision": rev,
        "machine": platform.platform(),
        "input_rows": len(frame),
        "persons": args.persons,
        "tables": steps,
        "protect_all_seconds": round(t_protect, 3),
        "final_joint_audit_seconds": round(t_final, 3),
        "final_joint_audit_passed": final.passed,
        "final_joint_audit_linear_programs": final.linear_programs,
        "final_joint_variables": model.n_vars,
        "total_seconds": round(t_protect + t_final, 3),
        "total_cpu_seconds": round(time.process_time(), 3),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
