"""The person-level search against a brute-force oracle over every lattice node (Hypothesis).

The oracle shares nothing with the release package: it walks the rows in Python, builds each
person's signature as a sorted tuple of generalised rows, and applies each criterion's definition
to the persons of each class and to the records of each (class, row) group.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import extract, hierarchies, plan

from iplos.config import Settings
from iplos.engine import Engine, connect
from iplos.errors import IplosError
from iplos.release import Criteria, evaluate_plan, search_plan, signatures
from iplos.release._search import PersonEvaluator

QIS = ("aargang", "alder", "kjonn", "fylke")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = connect(Settings(home=Path(tmp_path_factory.mktemp("release"))), "duckdb")
    yield e
    e.close()


def oracle(table: pa.Table, levels: dict[str, int], criteria: Criteria) -> tuple[bool, int, set[int]]:
    """(satisfies, suppressed persons, suppressed person keys) by plain counting."""
    hs = hierarchies()
    rows = table.to_pylist()
    by_person: dict[int, list[tuple[str, ...]]] = defaultdict(list)
    values: dict[int, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for r in rows:
        gen = tuple(hs[q].generalize(str(r[q]), levels[q]) for q in QIS)
        by_person[r["lopenr"]].append(gen)
        values[r["lopenr"]].append((gen, str(r["score"])))
    signature = {p: tuple(sorted(v)) for p, v in by_person.items()}
    persons_of: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for p, s in signature.items():
        persons_of[s].append(p)
    overall = Counter(str(r["score"]) for r in rows)
    n_rec = len(rows)
    order = sorted(overall, key=float)
    out: set[int] = set()
    for members in persons_of.values():
        ok = len(members) >= criteria.k
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for p in members:
            for gen, v in values[p]:
                groups[gen].append(v)
        for vals in groups.values():
            counts = Counter(vals)
            if criteria.l is not None:
                if criteria.l_variant == "distinct":
                    ok &= len(counts) >= criteria.l
                elif criteria.l_variant == "entropy":
                    total = len(vals)
                    h = -sum(c / total * math.log(c / total) for c in counts.values())
                    ok &= h >= math.log(criteria.l) - 1e-9 * max(1.0, math.log(criteria.l))
                else:
                    r = sorted(counts.values(), reverse=True)
                    ok &= r[0] < (criteria.c or 0) * sum(r[int(criteria.l) - 1 :])
            if criteria.t is not None:
                p_share = {v: counts.get(v, 0) / len(vals) for v in order}
                q_share = {v: overall[v] / n_rec for v in order}
                if criteria.t_variant == "equal":
                    d = 0.5 * sum(abs(p_share[v] - q_share[v]) for v in order)
                else:
                    run, acc = 0.0, 0.0
                    for v in order[:-1]:
                        run += p_share[v] - q_share[v]
                        acc += abs(run)
                    d = acc / (len(order) - 1) if len(order) > 1 else 0.0
                ok &= d <= criteria.t + 1e-9
        if not ok:
            out.update(members)
    budget = math.floor(criteria.max_suppressed * len(signature) + 1e-9)
    return len(out) <= budget, len(out), out


criteria_strategy = st.one_of(
    st.builds(
        lambda k, s: Criteria(k=k, max_suppressed=s), st.integers(1, 4), st.sampled_from([0.0, 0.05, 0.2])
    ),
    st.builds(
        lambda k, div, s: Criteria(k=k, l=div, max_suppressed=s),
        st.integers(1, 3),
        st.integers(1, 3),
        st.sampled_from([0.0, 0.1, 0.3]),
    ),
    st.builds(lambda t: Criteria(k=2, t=t, max_suppressed=0.3), st.sampled_from([0.2, 0.4, 0.7])),
    st.builds(
        lambda t: Criteria(k=2, t=t, t_variant="ordered", max_suppressed=0.3), st.sampled_from([0.2, 0.5])
    ),
    st.builds(
        lambda div: Criteria(k=1, l=div, l_variant="entropy", max_suppressed=0.3), st.sampled_from([1.5, 2.0])
    ),
    st.builds(
        lambda c: Criteria(k=1, l=2, l_variant="recursive", c=c, max_suppressed=0.3),
        st.sampled_from([1.0, 3.0]),
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), persons=st.integers(1, 40), criteria=criteria_strategy)
def test_search_equals_brute_force(engine: Engine, seed: int, persons: int, criteria: Criteria) -> None:
    table = extract(seed, persons)
    hs = hierarchies()
    p = plan(criteria)
    ptable = signatures(engine, table, p, hs)
    evaluator = PersonEvaluator(ptable, hs, p.sdc_criteria(), criteria.max_suppressed)
    best: tuple[float, int, tuple[int, ...]] | None = None
    for node in itertools.product(range(1), *(range(hs[q].height) for q in QIS[1:])):
        levels = dict(zip(QIS, node, strict=True))
        ok, n_out, keys = oracle(table, levels, criteria)
        got, _ = evaluator.evaluate(node)
        assert (got.satisfies, got.suppressed_persons) == (ok, n_out), node
        outcome = evaluate_plan(engine, table, p.with_levels(levels), hs, table=ptable)
        assert set(outcome.suppressed.tolist()) == keys
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
            search_plan(engine, table, p, hs, table=ptable)
        return
    found = search_plan(engine, table, p, hs, table=ptable)
    assert found.levels == best[2]
    assert found.class_sizes_after.size == 0 or found.class_sizes_after.min() >= criteria.k


def test_signature_counts_years_present(engine: Engine) -> None:
    """Two persons alike in every year they share differ when one misses a year."""
    table = pa.table(
        {
            "lopenr": pa.array([1, 1, 2, 2, 2], pa.int32()),
            "aargang": pa.array([2012, 2013, 2012, 2013, 2014], pa.int16()),
            "alder": pa.array([80, 81, 80, 81, 82], pa.int16()),
            "kjonn": pa.array([1, 1, 1, 1, 1], pa.int8()),
            "fylke": ["03"] * 5,
            "score": pa.array([0] * 5, pa.int8()),
        }
    )
    hs = hierarchies()
    ptable = signatures(engine, table, plan(Criteria(k=2, max_suppressed=0.0)), hs)
    assert ptable.n_signatures == 2 and ptable.n_persons == 2 and ptable.n_records == 5
    record = signatures(engine, table, plan(Criteria(k=2, max_suppressed=0.0, unit="record")), hs)
    assert record.n_persons == 5
