"""Local recoding and person-level local suppression in the release path, judged by the release gate.

Every released extract is read back as text and counted by the delivery gate's own plain count
(`measure_frame`, and its second opinion `check_release` on the (person signature, row) groups);
none of the recoder's code takes part in the judgement.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import extract, hierarchies, plan

from iplos.config import Settings
from iplos.delivery._gate import _second_opinion, measure_frame
from iplos.engine import Engine, connect
from iplos.errors import IplosError
from iplos.release import Criteria, Plan, evaluate_plan, from_case, release_table, search_plan, to_case

QIS = ("aargang", "alder", "kjonn", "fylke")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    e = connect(Settings(home=Path(tmp_path_factory.mktemp("local"))), "duckdb")
    yield e
    e.close()


def as_text(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    return pd.DataFrame({c: frame[c].map(lambda v: "" if v is None else str(v)) for c in frame.columns})


def gate_failures(released: pa.Table, source: pa.Table, p: Plan) -> list[str]:
    """What the gate's plain count finds wrong with the released extract (removed persons suppressed)."""
    text = as_text(released)
    persons = len(set(source.column("lopenr").to_pylist()))
    c = p.criteria
    m = measure_frame("x", text, QIS, list(p.sensitive), source.num_rows, c.unit, persons)
    failures = []
    if m.records and m.smallest_class < c.k:
        failures.append(f"smallest class {m.smallest_class} < k {c.k}")
    if (
        c.l is not None
        and c.l_variant == "distinct"
        and m.least_diverse is not None
        and m.least_diverse < c.l
    ):
        failures.append(f"least diverse {m.least_diverse} < l {c.l}")
    if m.suppressed_share > c.max_suppressed + 1e-12:
        failures.append(f"suppressed {m.suppressed_share} > {c.max_suppressed}")
    failures += list(_second_opinion(text, QIS, list(p.sensitive), c))
    return failures


criteria_options = st.fixed_dictionaries(
    {
        "k": st.integers(2, 6),
        "unit": st.sampled_from(["person", "record"]),
        "max_suppressed": st.sampled_from([0.0, 0.05, 0.2]),
        "diversity": st.sampled_from(
            [
                {},
                {"l": 2},
                {"l": 1.5, "l_variant": "entropy"},
                {"l": 2, "l_variant": "recursive", "c": 3.0},
                {"t": 0.6},
                {"t": 0.5, "t_variant": "ordered"},
            ]
        ),
    }
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    persons=st.integers(5, 120),
    options=criteria_options,
    method=st.sampled_from(["local_recoding", "local_suppression"]),
)
def test_local_release_meets_every_criterion_by_the_gates_count(
    engine: Engine, seed: int, persons: int, options: dict[str, object], method: str
) -> None:
    criteria = Criteria.from_dict(
        {k: v for k, v in options.items() if k != "diversity"} | dict(options["diversity"])  # type: ignore[call-overload]
    )
    if method == "local_recoding":
        p = plan(criteria, method="local_recoding")
    else:
        p = plan(criteria, local_suppression=True)
    source = extract(seed, persons)
    try:
        outcome = search_plan(engine, source, p, hierarchies())
    except IplosError as exc:
        # Refused honestly: nothing meets the criteria within the budget.
        assert "suppression" in str(exc) or "no transformation" in str(exc).lower(), str(exc)
        return
    assert outcome.local is not None
    released = release_table(source, outcome, hierarchies(), mode="remove")
    assert gate_failures(released, source, p) == []
    # Removed rows are exactly those the outcome counts as suppressed.
    assert source.num_rows - released.num_rows == outcome.suppressed_records
    assert outcome.suppressed_share <= criteria.max_suppressed + 1e-12
    # Blanked mode keeps every row; a row with every quasi-identifier '*' is a suppressed one.
    blanked = as_text(release_table(source, outcome, hierarchies(), mode="blank"))
    assert len(blanked) == source.num_rows
    every_star = int((blanked[list(QIS)] == "*").all(axis=1).sum())
    assert every_star == outcome.suppressed_records


def test_person_cells_are_generalised_alike_in_every_year(engine: Engine) -> None:
    source = extract(3, 300)
    p = plan(Criteria(k=5, unit="person"), method="local_recoding")
    outcome = search_plan(engine, source, p, hierarchies())
    released = as_text(release_table(source, outcome, hierarchies()))
    hs = hierarchies()
    for q in ("alder", "fylke"):
        level_of = {
            v: lv for lv in range(hs[q].height) for v in {hs[q].generalize(leaf, lv) for leaf in hs[q].leaves}
        }
        levels = released.assign(level=released[q].map(level_of)).groupby("lopenr")["level"].nunique()
        assert int(levels.max()) == 1, q  # one level per person and attribute
    # Cells of different levels stand in one column.
    assert released["alder"].map(lambda v: v in {str(a) for a in range(80, 90)}).any()
    assert (~released["alder"].map(lambda v: v in {str(a) for a in range(80, 90)})).any()


def test_local_recoding_keeps_more_than_the_global_optimum(engine: Engine) -> None:
    source = extract(5, 400)
    for unit in ("person", "record"):
        criteria = Criteria(k=5, unit=unit)
        global_ = search_plan(engine, source, plan(criteria), hierarchies())
        local = search_plan(engine, source, plan(criteria, method="local_recoding"), hierarchies())
        assert local.local is not None
        assert local.local.loss < global_.node.metrics["loss"], unit


def test_local_suppression_blanks_cells_instead_of_persons(engine: Engine) -> None:
    source = extract(7, 300)
    criteria = Criteria(k=5, unit="person", max_suppressed=0.1)
    global_ = search_plan(engine, source, plan(criteria), hierarchies())
    local = search_plan(engine, source, plan(criteria, local_suppression=True), hierarchies())
    assert local.local is not None and local.levels == global_.levels
    assert local.suppressed_persons <= global_.suppressed_persons
    assert local.local.cells_blanked == sum(local.local.cells_blanked_by_attribute.values())
    if global_.suppressed_persons:
        assert local.local.cells_blanked > 0


def test_a_local_plan_travels_through_the_case_and_is_carried_out_alike(engine: Engine) -> None:
    source = extract(11, 200)
    hs = hierarchies()
    p = plan(Criteria(k=4, unit="person", l=2, l_variant="distinct"), method="local_recoding")
    data = to_case(p, hs)
    assert data["method"] == "local_recoding"
    back = from_case(data, p.quasi_identifiers, hs, ["score"])
    assert back.method == "local_recoding"
    searched = search_plan(engine, source, p, hs)
    evaluated = evaluate_plan(engine, source, back, hs)
    assert searched.local is not None and evaluated.local is not None
    assert (searched.local.signature_levels == evaluated.local.signature_levels).all()
    assert list(searched.suppressed) == list(evaluated.suppressed)


def test_plans_refuse_what_local_recoding_cannot_do() -> None:
    with pytest.raises(IplosError, match="loss metric"):
        plan(Criteria(k=3), method="local_recoding", metric="entropy")
    with pytest.raises(IplosError, match="drop local_suppression"):
        plan(Criteria(k=3), method="local_recoding", local_suppression=True)
    with pytest.raises(IplosError, match="method must be one of"):
        plan(Criteria(k=3), method="mondrian")


def test_fully_blanked_persons_need_the_budget(engine: Engine) -> None:
    source = extract(2, 12)
    p = plan(Criteria(k=12, unit="person", max_suppressed=0.0), method="local_recoding")
    with pytest.raises(IplosError, match="suppression limit"):
        search_plan(engine, source, p, hierarchies())


def test_the_case_schema_knows_the_methods_the_release_carries_out() -> None:
    from iplos.cases.validation import PLAN_METHODS, validate_plan
    from iplos.release._plan import METHODS

    assert PLAN_METHODS == METHODS
    base = {"levels": {"alder": "year"}, "k": 5, "max_suppression": 0.05}
    assert validate_plan({**base, "method": "local_recoding"}) == []
    problems = validate_plan({**base, "method": "mondrian"})
    assert [p.column for p in problems] == ["plan.method"]
