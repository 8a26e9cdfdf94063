"""(k, k^m)-anonymity of persons over a person-year table and other tables (`release._items`).

The oracle shares nothing with the release package: it walks the rows in Python, builds each
person's trajectory P (sorted tuple of generalised person-year rows, with the set of other tables
they have rows in) and set E of generalised
other-table rows, and removes persons until everyone left has, for P and every subset S of E with
|S| <= m, at least k persons left with P and S among their rows.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import stacked_extract, stacked_hierarchies, stacked_plan

from iplos.config import Settings
from iplos.engine import Engine, connect
from iplos.errors import IplosError
from iplos.release import Criteria, evaluate_plan, search_plan, signatures
from iplos.release._search import PersonEvaluator

RELATIONAL_QIS = ("aargang", "alder", "kjonn", "fylke")
ALL_QIS = (*RELATIONAL_QIS, "spells.kode", "episodes.dato", "_tabell")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = connect(Settings(home=Path(tmp_path_factory.mktemp("items"))), "duckdb")
    yield e
    e.close()


def oracle(
    table: pa.Table, levels: dict[str, int], k: int, m: int, diversity: int | None = None
) -> tuple[set[int], int]:
    """(suppressed persons, smallest key support among the released) by plain counting.

    With `diversity` (l), the persons of equal trajectory left must show at least l distinct scores among the
    records of each of their generalised person-year rows (distinct l-diversity of that class)."""
    hs = stacked_hierarchies()
    trajectory: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    items: dict[int, set[tuple[str, ...]]] = defaultdict(set)
    scores: dict[int, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for r in table.to_pylist():
        gen = tuple(hs[q].generalize("" if r[q] is None else str(r[q]), levels[q]) for q in ALL_QIS)
        if r["_tabell"] == "person_year":
            trajectory[r["lopenr"]].append(gen)
            scores[r["lopenr"]].append((gen, str(r["score"])))
        else:
            items[r["lopenr"]].add(gen)
    persons = set(trajectory) | set(items)
    # The trajectory, and which other tables the person has rows in.
    p_of = {p: (tuple(sorted(trajectory[p])), frozenset(e[-1] for e in items[p])) for p in persons}
    kept = set(persons)

    def support(p: int, subset: tuple[tuple[str, ...], ...]) -> int:
        return sum(1 for q in kept if p_of[q] == p_of[p] and set(subset) <= items[q])

    def keys(p: int) -> Iterator[tuple[tuple[str, ...], ...]]:
        for r in range(0, m + 1):
            yield from itertools.combinations(sorted(items[p]), r)

    def diverse(p: int) -> bool:
        if diversity is None:
            return True
        values: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for q in kept:
            if p_of[q] == p_of[p]:
                for gen, v in scores[q]:
                    values[gen].add(v)
        return all(len(v) >= diversity for v in values.values())

    while True:
        failing = {p for p in kept if any(support(p, s) < k for s in keys(p)) or not diverse(p)}
        if not failing:
            break
        kept -= failing
    smallest = min((support(p, s) for p in kept for s in keys(p)), default=0)
    return persons - kept, smallest


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    persons=st.integers(1, 18),
    k=st.integers(1, 4),
    m=st.integers(0, 3),
    budget=st.sampled_from([0.0, 0.2, 0.6]),
    diversity=st.sampled_from([None, None, 2]),
)
def test_km_count_equals_brute_force(
    engine: Engine, seed: int, persons: int, k: int, m: int, budget: float, diversity: int | None
) -> None:
    """At every lattice node: the same suppressed persons and smallest key as the oracle; the search
    returns the least-loss node among those the oracle accepts."""
    table = stacked_extract(seed, persons)
    hs = stacked_hierarchies()
    criteria = Criteria(k=k, max_suppressed=budget, l=diversity)
    plan = stacked_plan(criteria, m)
    ptable = signatures(engine, table, plan, hs)
    evaluator = PersonEvaluator(ptable, hs, plan.sdc_criteria(), budget, m)
    n_persons = ptable.n_persons
    best: tuple[float, int, tuple[int, ...]] | None = None
    ranges = [range(1) if q in ("aargang", "_tabell") else range(hs[q].height) for q in ALL_QIS]
    for node in itertools.product(*ranges):
        levels = dict(zip(ALL_QIS, node, strict=True))
        out, smallest = oracle(table, levels, k, m, diversity)
        got, _ = evaluator.evaluate(node)
        assert got.suppressed_persons == len(out), node
        assert got.smallest_class == smallest, node
        ok = len(out) <= math.floor(budget * n_persons + 1e-9)
        assert got.satisfies == ok, node
        outcome = evaluate_plan(engine, table, plan.with_levels(levels), hs, table=ptable)
        assert set(outcome.suppressed.tolist()) == out, node
        if ok:
            key = (got.metrics["loss"], sum(node), tuple(node))
            if (
                best is None
                or key[0] < best[0] - 1e-12
                or (abs(key[0] - best[0]) <= 1e-12 and key[1:] < best[1:])
            ):
                best = key
    if best is None:
        with pytest.raises(IplosError, match="no transformation"):
            search_plan(engine, table, plan, hs, table=ptable)
        return
    found = search_plan(engine, table, plan, hs, table=ptable)
    assert found.levels == best[2]


def test_full_knowledge_is_the_multiset(engine: Engine) -> None:
    """items_known None judges the whole multiset: never fewer suppressed than any m."""
    table = stacked_extract(7, 40)
    hs = stacked_hierarchies()
    criteria = Criteria(k=3, max_suppressed=1.0)
    node = (0, 1, 0, 1, 1, 1, 0)
    full = PersonEvaluator(
        signatures(engine, table, stacked_plan(criteria, None), hs), hs, [*criteria.sdc_criteria(())], 1.0
    )
    ptable = signatures(engine, table, stacked_plan(criteria, 2), hs)
    counts = [
        PersonEvaluator(ptable, hs, criteria.sdc_criteria(()), 1.0, m).evaluate(node)[0].suppressed_persons
        for m in range(4)
    ]
    assert counts == sorted(counts)  # knowing more items never protects more persons
    assert full.evaluate(node)[0].suppressed_persons >= counts[-1]


def test_plan_refuses_a_negative_items_known() -> None:
    with pytest.raises(IplosError, match="items_known"):
        stacked_plan(Criteria(k=2), -1)
    with pytest.raises(IplosError, match="items_known"):
        stacked_plan(Criteria(k=2), 9)
