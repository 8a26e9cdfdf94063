"""Play the (k, k^m) attacker on the synthetic truth of a multi-table extract.

The attacker knows each person's whole person-year trajectory (every year's quasi-identifiers and
which years they are present in), which other tables they have rows in, and any m of their rows in
the other tables, and the published levels. For every person of the population and EVERY choice S of at most m of their distinct
other-table rows, they generalise the truth to the published levels and look for the released
persons whose trajectory equals it and whose other-table rows include S. Success for (person, S)
is 1 / matches when the person is released and matches (0 otherwise); a person's success is the
worst case over their choices of S. Plain Python over the rows, sharing no code with the release.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import stacked_extract, stacked_hierarchies, stacked_plan

from iplos.catalog import Hierarchy
from iplos.config import Settings
from iplos.engine import Engine, connect
from iplos.release import Criteria, leaf_text, release_table, search_plan

RELATIONAL = ("aargang", "alder", "kjonn", "fylke")
ITEMS = ("spells.kode", "episodes.dato", "_tabell")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = connect(Settings(home=Path(tmp_path_factory.mktemp("attack-items"))), "duckdb")
    yield e
    e.close()


def _people(
    rows: list[dict[str, Any]], value: Any
) -> tuple[dict[Any, tuple[tuple[str, ...], ...]], dict[Any, set[tuple[str, ...]]]]:
    trajectory: dict[Any, list[tuple[str, ...]]] = defaultdict(list)
    items: dict[Any, set[tuple[str, ...]]] = defaultdict(set)
    for r in rows:
        if r["_tabell"] == "person_year":
            trajectory[r["lopenr"]].append(tuple(value(c, r[c]) for c in RELATIONAL))
        else:
            items[r["lopenr"]].add(tuple(value(c, r[c]) for c in ITEMS))
    persons = set(trajectory) | set(items)
    shape = {p: (tuple(sorted(trajectory[p])), frozenset(e[-1] for e in items[p])) for p in persons}
    return shape, {p: items[p] for p in persons}


def attack(
    truth: pa.Table,
    released: pa.Table,
    hierarchies: Mapping[str, Hierarchy],
    levels: Mapping[str, int],
    m: int,
) -> dict[str, float]:
    """Average (worst-case per person) success, certain re-identifications, persons attacked."""
    known_p, known_e = _people(
        truth.to_pylist(), lambda c, v: hierarchies[c].generalize(leaf_text(v), levels[c])
    )
    shown_p, shown_e = _people(released.to_pylist(), lambda c, v: leaf_text(v))
    by_trajectory: dict[tuple[tuple[str, ...], ...], list[Any]] = defaultdict(list)
    for q, sig in shown_p.items():
        by_trajectory[sig].append(q)
    total, certain = 0.0, 0
    for p in known_p:
        worst = 0.0
        for r in range(m + 1):
            for subset in itertools.combinations(sorted(known_e[p]), r):
                matches = [q for q in by_trajectory.get(known_p[p], []) if set(subset) <= shown_e[q]]
                if p in matches:
                    worst = max(worst, 1.0 / len(matches))
        total += worst
        certain += worst == 1.0
    return {"average": total / len(known_p), "certain": certain, "persons": len(known_p)}


@pytest.mark.parametrize("m", [1, 2])
def test_attacker_with_m_rows_fails(engine: Engine, m: int) -> None:
    truth = stacked_extract(11, 400, items=2)
    hs = stacked_hierarchies()
    criteria = Criteria(k=5, max_suppressed=0.5)
    outcome = search_plan(engine, truth, stacked_plan(criteria, m), hs)
    released = release_table(truth, outcome, hs)
    assert released.num_rows > truth.num_rows // 3  # most is released
    found = attack(truth, released, hs, outcome.plan.levels, m)
    assert found["certain"] == 0
    assert found["average"] <= 1 / criteria.k
    # The release path's own figure (the disclosure report's average risk) is exactly the attack's.
    assert outcome.key_support is not None
    assert found["average"] == pytest.approx(float((1.0 / outcome.key_support).sum()) / found["persons"])
    # The same release against an attacker who knows every row of every table of a person: the
    # disclosure report shows these figures beside the enforced ones; here they are worse.
    full = attack(truth, released, hs, outcome.plan.levels, 6)
    assert full["average"] >= found["average"]
