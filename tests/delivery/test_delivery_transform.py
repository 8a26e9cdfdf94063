"""Properties of carrying out a plan: every released class holds k persons, and the gate agrees."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.catalog import Hierarchy
from iplos.delivery import Criteria, Plan, QuasiIdentifier
from iplos.delivery._gate import measure_file
from iplos.delivery._transform import apply_plan

AGE = Hierarchy.from_rows(
    "age",
    [[str(a), f"{a - a % 5}-{a - a % 5 + 4}", "80+" if a >= 80 else "<80", "*"] for a in range(70, 100)],
    level_names=["age", "5 years", "band", "all"],
)
SEX = Hierarchy.from_rows("kjonn", [["1", "*"], ["2", "*"]], level_names=["kjonn", "all"])

rows = st.lists(st.tuples(st.integers(70, 99), st.sampled_from(["1", "2"])), min_size=1, max_size=200)


@given(data=rows, k=st.integers(2, 6), age_level=st.integers(0, 3), sex_level=st.integers(0, 1))
@settings(max_examples=60, deadline=None)
def test_every_released_class_holds_k_persons(
    tmp_path_factory: object, data: list[tuple[int, str]], k: int, age_level: int, sex_level: int
) -> None:
    frame = pd.DataFrame(
        {"lopenr": range(1, len(data) + 1), "alder": [a for a, _ in data], "kjonn": [s for _, s in data]}
    )
    plan = Plan(
        Criteria(k=k, max_suppressed=1.0),
        (QuasiIdentifier("alder", "age"), QuasiIdentifier("kjonn", "codes")),
        {"alder": age_level, "kjonn": sex_level},
    )
    applied = apply_plan(frame, plan, {"alder": AGE, "kjonn": SEX})
    assert applied.suppressed + len(applied.data) == len(frame)
    if len(applied.data):
        sizes = applied.data.groupby(["alder", "kjonn"]).size()
        assert sizes.min() >= k
        assert sorted(sizes.tolist()) == sorted(applied.class_sizes.tolist())
    # The release gate's own counting on the written file agrees.
    path = Path(str(tmp_path_factory.mktemp("gate"))) / "extract.csv"
    applied.data.to_csv(path, index=False)
    measured = measure_file(path, ["alder", "kjonn"], [], len(frame))
    assert measured.records == len(applied.data)
    assert measured.records == 0 or measured.smallest_class >= k
