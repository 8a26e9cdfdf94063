"""Roll-ups: judging a node on the distinct signatures of a finer node gives the leaf table's classes.

For random longitudinal extracts, every node is grouped from the leaf table and, through
`RollUps`, from whichever rolled table of an evaluated node lies below it, in a random order of
nodes; the partitions of persons and the class sizes must be the same.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import extract, hierarchies, plan

from iplos.config import Settings
from iplos.engine import Engine, connect
from iplos.release import Criteria, signatures
from iplos.release._person import person_classes
from iplos.release._rollup import RollUps
from iplos.sdc import encode_hierarchy

QIS = ("aargang", "alder", "kjonn", "fylke")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = connect(Settings(home=Path(tmp_path_factory.mktemp("rollup"))), "duckdb")
    yield e
    e.close()


def _canonical(of_signature: np.ndarray) -> list[int]:
    """Class labels renumbered by first appearance, so equal partitions compare equal."""
    seen: dict[int, int] = {}
    return [seen.setdefault(int(c), len(seen)) for c in of_signature]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), persons=st.integers(1, 60), order=st.integers(0, 1_000))
def test_rolled_classes_equal_leaf_classes(engine: Engine, seed: int, persons: int, order: int) -> None:
    hs = hierarchies()
    table = signatures(engine, extract(seed, persons), plan(Criteria(k=2)), hs)
    encoded = [encode_hierarchy(hs[q]) for q in table.quasi_identifiers]
    rollups = RollUps(table, encoded)
    nodes = list(itertools.product(*(range(hs[q].height) for q in table.quasi_identifiers)))
    random.Random(order).shuffle(nodes)
    for node in nodes:
        leaf = person_classes(table, encoded, node, ())
        of_signature, sizes = rollups.classes(node)
        assert _canonical(of_signature) == _canonical(leaf.of_signature), node
        assert sorted(sizes.tolist()) == sorted(leaf.sizes.tolist()), node
        assert np.array_equal(np.bincount(of_signature, weights=table.persons), sizes), node


def test_high_nodes_are_judged_on_a_roll_up(engine: Engine) -> None:
    hs = hierarchies()
    table = signatures(engine, extract(7, 60), plan(Criteria(k=2)), hs)
    rollups = RollUps(table, [encode_hierarchy(hs[q]) for q in table.quasi_identifiers])
    middle = (0, *(hs[q].height - 1 for q in table.quasi_identifiers[1:]))
    rollups.classes(middle)
    assert (
        rollups.kept
        and rollups.base(tuple(hs[q].height - 1 for q in table.quasi_identifiers)) is not rollups.root
    )
