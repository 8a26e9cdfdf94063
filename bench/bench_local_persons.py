"""Person-level local recoding and local suppression against the global optimum on a linked extract.

The small registers of the linkage tests (`tests/linkage/linkage_fixtures.py`, N persons over three
årganger) are linked for the example application; the processor's plan (k = 5 persons, at most 5 %
suppressed, the reviewer's coarsening as lower bounds) is carried out three ways through
`iplos.release.search_plan`: the global optimum, local recoding (`method: local_recoding`) and the
global optimum with person-level local suppression. Prints per-cell loss (ARX's Loss, record
weighted), suppressed persons, the smallest class, seconds, and the levels each method uses.

    .venv/bin/python bench/bench_local_persons.py [--persons 3000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "linkage"))

import linkage_fixtures as registers  # noqa: E402  (the tests' small registers)

from iplos.cases import CaseService  # noqa: E402
from iplos.cases.examples import Cast, drive, example_application  # noqa: E402
from iplos.config import Settings  # noqa: E402
from iplos.delivery._anonymise import from_case_plan  # noqa: E402
from iplos.delivery._process import Processor  # noqa: E402
from iplos.engine import connect  # noqa: E402
from iplos.release import search_plan  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=3000)
    args = parser.parse_args()
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="iplos-local-persons-")) / "iplos-data")
    registers.write_small_registers(settings, n=args.persons)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    case_id = drive(service, "accepted", cast, application=content).case_id
    processor = Processor(settings, service, cast.processor)
    proposed = processor.next_step(case_id)
    extract, setup = processor.link(service.get(case_id))
    plan = from_case_plan(proposed.plan, setup)
    plan = dataclasses.replace(
        plan, levels={q.column: q.min_level for q in plan.quasi_identifiers}, metric="loss"
    )
    print(
        f"{extract.table.num_rows} rows; quasi-identifiers {', '.join(plan.columns)}; {plan.criteria.describe()}"
    )
    engine = connect(settings)
    try:
        for label, p in (
            ("global optimum", plan),
            ("local recoding", dataclasses.replace(plan, method="local_recoding")),
            ("global + local suppression", dataclasses.replace(plan, local_suppression=True)),
        ):
            started = time.perf_counter()
            o = search_plan(engine, extract.table, p, setup.hierarchies)
            seconds = time.perf_counter() - started
            hs = setup.hierarchies
            if o.local is None:
                used = {q: hs[q].level_names[v] for q, v in zip(p.columns, o.levels, strict=True)}
            else:
                used = {q: ",".join(hs[q].level_names[v] for v in o.local.levels_used(q)) for q in p.columns}
            blanked = f", {o.local.cells_blanked} cells blanked" if o.local is not None else ""
            print(
                f"{label}: per-cell loss {o.node.metrics['loss']:.4f}, suppressed persons "
                f"{o.suppressed_persons} of {o.n_persons}, smallest class {o.node.smallest_class}{blanked}, "
                f"{seconds:.2f} s"
            )
            print("    levels: " + "; ".join(f"{q} {v}" for q, v in used.items()))
    finally:
        engine.close()


if __name__ == "__main__":
    main()
