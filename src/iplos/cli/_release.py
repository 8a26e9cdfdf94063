"""`iplos anonymise --person-key` and `iplos assess --person-key`: the release path on a file.

The file is read by the engine (DuckDB, or Spark as configured), the person signatures are grouped
there, and `iplos.release` searches and applies the plan: the same code and the same answer as a
delivery on the same data and plan. Suppressed persons keep their rows with '*' in every
quasi-identifier (`--suppress blank`, the default here) or lose them (`--suppress remove`, as a
delivery does).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iplos.catalog.hierarchy import Hierarchy
from iplos.cli import _microdata_io as io
from iplos.errors import IplosError
from iplos.release import (
    Criteria,
    Plan,
    QuasiIdentifier,
    release_table,
    released_risk,
    search_plan,
)


def person_plan(
    qis: list[str],
    hierarchies: Mapping[str, Hierarchy],
    sensitive: list[str],
    criteria: Criteria,
    metric: str,
    min_levels: Mapping[str, int],
    max_levels: Mapping[str, int],
    person_key: str | None,
    attacker: list[str],
    *,
    method: str = "global",
    local_suppression: bool = False,
) -> Plan:
    """The release plan the options describe."""
    return Plan(
        criteria=criteria,
        quasi_identifiers=tuple(
            QuasiIdentifier(q, hierarchies[q].name, int(min_levels.get(q, 0)), max_levels.get(q)) for q in qis
        ),
        levels={q: int(min_levels.get(q, 0)) for q in qis},
        sensitive=tuple(sensitive),
        metric=metric,
        attacker=tuple(attacker),
        person_key=person_key,
        method=method,  # type: ignore[arg-type]  # Plan checks it against its closed set
        local_suppression=local_suppression,
    )


def _engine() -> Any:
    from iplos.engine import connect

    return connect()


def run_release(
    *,
    input: Path,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    out: Path,
    suppress: str,
    all_nodes: bool,
    sep: str | None,
    started: float,
) -> dict[str, Any]:
    """Search the plan's optimum on the file, write the release, return the report."""
    if suppress not in ("blank", "remove"):
        raise IplosError(f"--suppress {suppress!r}: choose blank or remove")
    key = plan.person_key
    columns = [*plan.columns, *plan.sensitive, *([key] if key else [])]
    table = io.read_table(input, sep, columns=None)
    io.require_columns(table, columns, str(input))
    loaded = time.perf_counter()
    engine = _engine()
    try:
        outcome = search_plan(engine, table, plan, hierarchies, list_all=all_nodes)
        searched = time.perf_counter()
        released = release_table(
            table, outcome, hierarchies, mode="blank" if suppress == "blank" else "remove"
        )
        kept = released if suppress == "remove" else release_table(table, outcome, hierarchies, mode="remove")
        risk_after = released_risk(
            engine, kept, list(plan.known), key if plan.criteria.unit == "person" else None
        )
        risk_before = released_risk(
            engine, table, list(plan.known), key if plan.criteria.unit == "person" else None
        )
    finally:
        engine.close()
    io.write_table(released, out, sep)
    finished = time.perf_counter()
    report: dict[str, Any] = {
        "input": str(input),
        "output": str(out),
        "unit": plan.criteria.unit,
        "person_key": key,
        "records": outcome.n_records,
        "persons": outcome.n_persons,
        "quasi_identifiers": {
            q: {"hierarchy": hierarchies[q].name, "level": lv, "level_name": hierarchies[q].level_names[lv]}
            for q, lv in zip(plan.columns, outcome.levels, strict=True)
        },
        "sensitive": list(plan.sensitive),
        "criteria": plan.criteria.describe(),
        "attacker_knows": list(plan.known),
        "max_suppression": plan.criteria.max_suppressed,
        "metric": plan.metric,
        "method": plan.method,
        "suppressed_records": outcome.suppressed_records,
        "suppressed_persons": outcome.suppressed_persons,
        "suppression": suppress,
        "achieved": {"k": int(outcome.class_sizes_after.min()) if outcome.class_sizes_after.size else None},
        "metrics_after": dict(outcome.node.metrics),
        "risk_before": {name: fig.to_dict() for name, fig in risk_before.items()},
        "risk_after": {name: fig.to_dict() for name, fig in risk_after.items()},
        "elapsed_seconds": finished - started,
        "timings": {"load": loaded - started, "search": searched - loaded, "write": finished - searched},
    }
    if outcome.local is not None:
        # Per quasi-identifier, records released at each level (local methods mix levels in a column).
        local = outcome.local.to_dict()
        local["records_by_level"] = _records_by_level(outcome, hierarchies)
        report["local"] = local
        report["local_suppression"] = (
            {
                "cells_suppressed": outcome.local.cells_blanked,
                "cells_by_attribute": outcome.local.cells_blanked_by_attribute,
                "records_fully_blanked": outcome.suppressed_records,
            }
            if plan.local_suppression
            else None
        )
    result = outcome.search
    if result is not None:
        report["metrics_before"] = result.metrics_before
        if outcome.local is None:
            report["metrics_after"] = result.metrics
        report["search"] = {
            "lattice_size": result.lattice_size,
            "evaluated": result.evaluated,
            "satisfying": [
                {
                    "levels": list(n.levels),
                    "suppressed": n.suppressed_records,
                    "suppressed_persons": n.suppressed_persons,
                    "metrics": n.metrics,
                }
                for n in result.satisfying
            ],
        }
    return report


def _records_by_level(outcome: Any, hierarchies: Mapping[str, Hierarchy]) -> dict[str, dict[str, int]]:
    import numpy as np

    local, table = outcome.local, outcome.table
    weights = np.bincount(table.detail_signature, weights=table.detail_count, minlength=table.n_signatures)
    released = ~local.suppressed_signatures
    out: dict[str, dict[str, int]] = {}
    for j, q in enumerate(local.quasi_identifiers):
        names = hierarchies[q].level_names
        per = np.bincount(
            local.signature_levels[released, j], weights=weights[released], minlength=len(names)
        )
        out[q] = {names[lv]: int(n) for lv, n in enumerate(per) if n}
    return out


def person_risk(
    input: Path, qis: list[str], person_key: str, sep: str | None, acquaintance: Mapping[str, str]
) -> dict[str, Any]:
    """Record-level, person-level and acquaintance risk of a file as it stands."""
    table = io.read_table(input, sep, columns=None)
    io.require_columns(table, [*qis, person_key, *acquaintance], str(input))
    engine = _engine()
    try:
        figures = released_risk(engine, table, qis, person_key, acquaintance)
    finally:
        engine.close()
    return {name: fig.to_dict() for name, fig in figures.items()}
