"""Benchmark the applicant's previews (issue 14): how long a first and a repeated risk preview take.

Generates the synthetic register the web process would (scale `--scale`, default 0.003 of Norway),
then times `risk_preview` of the example application (12 IPLOS/DAR variables, 80+ home-dwelling,
2012-2016) and `counter_consequences` of a counter-proposal, each cold and then through `Previews`
(kept per case version). Prints the figures with the load average beside them.

    nice .venv/bin/python bench/bench_preview.py [--scale 0.003]

Writes bench/results/preview-<scale>.json with the git revision.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from iplos.cases import Case
from iplos.cases.examples import example_application, example_plan
from iplos.preview import Previews, SyntheticRegister, as_if_granted, counter_consequences, risk_preview

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.003)
    args = parser.parse_args()
    figures: dict[str, object] = {"scale": args.scale, "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as home:
        register = SyntheticRegister(args.scale, home=Path(home))
        t = time.perf_counter()
        register.settings()
        figures["generate_seconds"] = round(time.perf_counter() - t, 2)
        case = Case(case_id="bench", content=example_application(date(2026, 12, 1)))
        t = time.perf_counter()
        preview = risk_preview(case, register)
        figures["risk_preview_seconds"] = round(time.perf_counter() - t, 2)
        assert preview.as_requested is not None
        figures["persons"] = preview.as_requested.persons
        figures["records"] = preview.records
        figures["suggestion"] = preview.suggestion.to_dict() if preview.suggestion else None
        t = time.perf_counter()
        answer = counter_consequences(as_if_granted(case), example_plan(), register)
        figures["counter_seconds"] = round(time.perf_counter() - t, 2)
        figures["counter_acceptable"] = answer.coarsening.acceptable if answer.coarsening else None
        previews = Previews(register)
        previews.risk(case)
        t = time.perf_counter()
        previews.risk(case)
        figures["kept_preview_seconds"] = round(time.perf_counter() - t, 4)
    figures["load_after"] = os.getloadavg()
    figures["revision"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    out = ROOT / "bench" / "results" / f"preview-{args.scale}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
