"""Play the attacker on the synthetic truth: match every person's trajectory to the release.

The attacker knows the quasi-identifiers of everyone in the population in every year (the
prosecutor model) and the published levels (the codebook names them). For each person of the
population they generalise the person's true rows to those levels, and look for the persons of the
release whose rows match as a whole (same years, same values). Success for a person is 1 / the
number of matches when the person is in the release (0 when suppressed). The attack is plain Python
over the rows and shares no code with the release package.

The same attack on a release that is k-anonymous per person-year (the old record-level path)
re-identifies persons with certainty; the person-level release must not.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from iplos.cases import CaseService
from iplos.cases.examples import Cast
from iplos.catalog import Hierarchy
from iplos.cli.demo import _case, _register
from iplos.config import Settings
from iplos.delivery._anonymise import from_case_plan
from iplos.delivery._process import Processor
from iplos.engine import connect
from iplos.release import leaf_text, release_table, search_plan


def _signatures(
    rows: list[dict[str, Any]], key: str, columns: Sequence[str], value: Any
) -> dict[Any, tuple[Any, ...]]:
    by_person: dict[Any, list[tuple[str, ...]]] = defaultdict(list)
    for r in rows:
        by_person[r[key]].append(tuple(value(c, r[c]) for c in columns))
    return {p: tuple(sorted(v)) for p, v in by_person.items()}


def attack(
    truth: pa.Table,
    released: pa.Table,
    columns: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    levels: Mapping[str, int],
    key: str = "lopenr",
) -> dict[str, float]:
    """Average success, certain re-identifications and the smallest released person class."""
    known = _signatures(
        truth.to_pylist(), key, columns, lambda c, v: hierarchies[c].generalize(leaf_text(v), levels[c])
    )
    shown = _signatures(released.to_pylist(), key, columns, lambda c, v: leaf_text(v))
    matches: dict[tuple[Any, ...], int] = defaultdict(int)
    for sig in shown.values():
        matches[sig] += 1
    success = 0.0
    certain = 0
    partial = 0
    for person, sig in known.items():
        if person not in shown:
            continue
        if shown[person] != sig:
            # Only record-level suppression removes some of a person's rows; an exact-trajectory
            # attacker then misses them (a subset-matching one would not: the figure is a floor).
            partial += 1
            continue
        success += 1.0 / matches[sig]
        certain += matches[sig] == 1
    return {
        "persons": len(known),
        "released": len(shown),
        "average_success": success / len(known),
        "certain": certain,
        "partly_suppressed": partial,
        "smallest_class": min(matches.values()) if matches else 0,
    }


def _world(tmp: Path, scale: float) -> tuple[Any, ...]:
    settings = Settings(home=tmp / "data")
    _register(settings, scale, 11, lambda *_: None)
    service = CaseService.from_settings(settings)
    cast = Cast()
    cid = _case(service, cast, lambda _msg: None)
    processor = Processor(settings, service, cast.processor)
    processor.next_step(cid)
    service.agree_anonymisation(cid, cast.applicant)
    case = service.get(cid)
    extract, setup = processor.link(case)
    plan = from_case_plan(case.agreed_plan or {}, setup)
    return settings, processor, extract, setup, plan


@pytest.mark.slow
@pytest.mark.parametrize("scale", [0.02, 0.1])
def test_attacker_on_the_truth(tmp_path: Path, scale: float) -> None:
    settings, processor, extract, setup, plan = _world(tmp_path, scale)
    columns = list(plan.columns)
    k = plan.criteria.k
    after = processor._evaluate(extract, plan, setup)
    released = pa.Table.from_pandas(after.applied.data, preserve_index=False)
    person = attack(extract.table, released, columns, setup.hierarchies, plan.levels)
    # Before: the old path, k-anonymous per person-year (record-level criteria, same bounds).
    record_plan = dataclasses.replace(
        plan,
        criteria=dataclasses.replace(plan.criteria, unit="record"),
        levels={q.column: q.min_level for q in plan.quasi_identifiers},
    )
    engine = connect(settings)
    try:
        old = search_plan(engine, extract.table, record_plan, setup.hierarchies)
        old_release = release_table(extract.table, old, setup.hierarchies)
    finally:
        engine.close()
    record = attack(extract.table, old_release, columns, setup.hierarchies, old.plan.levels)
    print(f"scale {scale}: record-level release {record}; person-level release {person}")
    assert person["smallest_class"] >= k
    assert person["certain"] == 0 and person["partly_suppressed"] == 0
    assert person["average_success"] <= 1 / k
    assert record["certain"] > person["certain"]  # the attack is real: it finds persons in the old release
