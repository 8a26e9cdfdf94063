"""Properties of carrying out a plan through the release path: every released class holds k persons,
suppressed persons leave whole, and the gate's own count agrees."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iplos.catalog import Hierarchy
from iplos.config import Settings
from iplos.delivery import Criteria, Plan, QuasiIdentifier
from iplos.delivery._anonymise import evaluate
from iplos.delivery._gate import measure_file
from iplos.engine import Engine, connect

AGE = Hierarchy.from_rows(
    "age",
    [[str(a), f"{a - a % 5}-{a - a % 5 + 4}", "80+" if a >= 80 else "<80", "*"] for a in range(70, 100)],
    level_names=["age", "5 years", "band", "all"],
)
SEX = Hierarchy.from_rows("kjonn", [["1", "*"], ["2", "*"]], level_names=["kjonn", "all"])
YEAR = Hierarchy.from_rows("aargang", [["2013", "*"], ["2014", "*"]], level_names=["aargang", "all"])

rows = st.lists(
    st.tuples(
        st.integers(1, 40), st.sampled_from([2013, 2014]), st.integers(70, 99), st.sampled_from(["1", "2"])
    ),
    min_size=1,
    max_size=150,
    unique_by=lambda r: (r[0], r[1]),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return connect(Settings(home=Path(tmp_path_factory.mktemp("transform"))), "duckdb")


@given(data=rows, k=st.integers(2, 5), age_level=st.integers(0, 3), sex_level=st.integers(0, 1))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_released_class_holds_k_persons(
    engine: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    data: list[tuple[int, int, int, str]],
    k: int,
    age_level: int,
    sex_level: int,
) -> None:
    table = pa.table(
        {
            "lopenr": pa.array([r[0] for r in data], pa.int32()),
            "aargang": pa.array([r[1] for r in data], pa.int16()),
            "alder": pa.array([r[2] for r in data], pa.int16()),
            "kjonn": [r[3] for r in data],
        }
    )
    plan = Plan(
        Criteria(k=k, max_suppressed=1.0),
        (
            QuasiIdentifier("aargang", "aargang", 0, 0),
            QuasiIdentifier("alder", "age"),
            QuasiIdentifier("kjonn", "codes"),
        ),
        {"aargang": 0, "alder": age_level, "kjonn": sex_level},
    )
    evaluation = evaluate(engine, table, plan, {"aargang": YEAR, "alder": AGE, "kjonn": SEX})
    released = evaluation.applied.data
    assert evaluation.applied.suppressed + len(released) == len(data)
    persons_in = {r[0] for r in data}
    kept = set(released["lopenr"].tolist())
    # Suppressed persons leave with all their rows.
    assert len(released) == sum(1 for r in data if r[0] in kept) and kept <= persons_in
    signatures: dict[int, list[tuple[str, ...]]] = {}
    for r in released.astype(str).itertuples(index=False):
        signatures.setdefault(int(r.lopenr), []).append((r.aargang, r.alder, r.kjonn))
    counts: dict[tuple[tuple[str, ...], ...], int] = {}
    for v in signatures.values():
        key = tuple(sorted(v))
        counts[key] = counts.get(key, 0) + 1
    assert not counts or min(counts.values()) >= k
    assert sorted(counts.values()) == sorted(evaluation.applied.class_sizes.tolist())
    # The release gate's own counting on the written file agrees.
    path = Path(str(tmp_path_factory.mktemp("gate"))) / "extract.csv"
    released.to_csv(path, index=False)
    measured = measure_file(path, ["aargang", "alder", "kjonn"], [], len(data), "person", len(persons_in))
    assert measured.records == len(released)
    assert measured.records == 0 or measured.smallest_class >= k
