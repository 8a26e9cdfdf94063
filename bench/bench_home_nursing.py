"""Issue 12's home-nursing case delivered end to end on a synthetic register (linkage, search, gate, files).

    nice python bench/bench_home_nursing.py --home /tmp/<you>-home [--k 5 --max-suppressed 0.05]

The case is `iplos.cases.examples.home_nursing_application` (persons 67+ with home nursing and a
functional assessment, 2010-2016, service spells, NPR episode dates and main diagnosis), reviewed by
`decide_home_nursing`. The home must hold a register (for scale 1.0 a tree of symlinks of the
national one, `cp -rs /tmp/iplos-national /tmp/<you>-home`); the case store and the deliveries are
written there as new files. Prints the time of each step, the attacker model ((k, k^m) with `--items-known`, default 2, or
'all' for full knowledge), the suppression, the released levels, the gate's counts across the
tables (the enforced model and, beside it, full knowledge) and the load; run it under
`/usr/bin/time -v` for the peak memory. Settings come from the environment (IPLOS_MEMORY_LIMIT,
IPLOS_ENGINE_SLOTS, IPLOS_THREADS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

from iplos.cases import CaseService
from iplos.cases.examples import Cast, decide_home_nursing, home_nursing_application
from iplos.cases.model import EstimateLine
from iplos.config import Settings
from iplos.delivery._process import Processor
from iplos.errors import IplosError
from iplos.release import DEFAULT_ITEMS_KNOWN, Criteria


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--max-suppressed", type=float, default=0.05)
    parser.add_argument(
        "--items-known",
        default=str(DEFAULT_ITEMS_KNOWN),
        help="rows of the other tables the attacker knows ((k, k^m)-anonymity), or 'all' (full knowledge)",
    )
    args = parser.parse_args()
    items_known = None if args.items_known == "all" else int(args.items_known)
    settings = Settings.from_env(args.home)
    db = args.home / "cases-bench-home-nursing.db"
    db.unlink(missing_ok=True)
    shutil.rmtree(settings.deliveries_dir, ignore_errors=True)
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
    t0 = time.perf_counter()
    steps: list[tuple[float, str]] = []

    def progress(message: str) -> None:
        steps.append((round(time.perf_counter() - t0, 1), message))
        print(f"{steps[-1][0]:8.1f}s {message}", flush=True)

    criteria = Criteria(k=args.k, max_suppressed=args.max_suppressed)
    processor = Processor(
        settings, service, cast.processor, criteria=criteria, progress=progress, items_known=items_known
    )
    outcome: dict[str, object] = {
        "load_before": os.getloadavg(),
        "model": f"k={args.k}, m={'all (full knowledge)' if items_known is None else items_known}, "
        f"at most {args.max_suppressed:.1%} of the persons suppressed",
    }
    try:
        proposed = processor.next_step(cid)
        outcome["levels"] = proposed.plan.get("levels")
        service.agree_anonymisation(cid, cast.applicant)
        done = processor.next_step(cid)
        outcome["delivered"] = sorted(done.delivered.files) if done.delivered else None
        if done.delivered is not None:
            report = json.loads((done.delivered.path / "disclosure-report.json").read_text(encoding="utf-8"))
            outcome["attacker"] = report["attacker"]["model"]
            outcome["suppressed"] = {
                "persons": report["suppressed_persons"],
                "of_persons": report["persons_before"],
                "share": round(report["suppressed_share"], 4),
                "tables": report.get("tables"),
            }
            outcome["released_levels"] = {q["column"]: q["level_name"] for q in report["quasi_identifiers"]}
            outcome["gate_across_tables"] = [
                {
                    k: m[k]
                    for k in (
                        "file",
                        "persons",
                        "classes",
                        "smallest_class",
                        "uniques",
                        "expected_reidentification",
                    )
                }
                for m in report["gate"]["measures"]
                if m["file"].startswith("all tables .parquet")
            ]
    except IplosError as exc:
        outcome["refused"] = str(exc)
    outcome["seconds"] = round(time.perf_counter() - t0, 1)
    outcome["load_after"] = os.getloadavg()
    print(json.dumps(outcome, indent=2, default=str))


if __name__ == "__main__":
    main()
