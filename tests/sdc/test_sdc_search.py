"""The search against brute force over every lattice node (tests/sdc/_oracle.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdc_builders import Case, cases, nested_hierarchy, sensitive_hierarchy
from sdc_oracle import evaluate_all

from iplos.errors import IplosError
from iplos.sdc import (
    AECS,
    Discernibility,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    FrequencyTable,
    HierarchicalTCloseness,
    KAnonymity,
    Loss,
    NonUniformEntropy,
    OrderedTCloseness,
    Precision,
    RecursiveCLDiversity,
    SearchConfig,
    search,
)

METRICS = [Loss(), NonUniformEntropy(), Discernibility(), AECS(), Precision()]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@st.composite
def configs(draw: st.DrawFn, case: Case) -> tuple[list[object], float, object, list[int], list[int]]:
    criteria: list[object] = [KAnonymity(draw(st.integers(1, 5)))]
    if case.sensitive is not None:
        kinds = ["none", "distinct", "entropy", "recursive", "equal", "ordered", "hierarchical"]
        kind = draw(st.sampled_from(kinds))
        if kind == "distinct":
            criteria.append(DistinctLDiversity(draw(st.integers(1, 3))))
        elif kind == "entropy":
            criteria.append(EntropyLDiversity(draw(st.sampled_from([1.0, 1.5, 2.0, 3.0]))))
        elif kind == "recursive":
            criteria.append(
                RecursiveCLDiversity(draw(st.sampled_from([1.0, 2.0, 3.0])), draw(st.integers(1, 3)))
            )
        elif kind == "equal":
            criteria.append(EqualTCloseness(draw(st.sampled_from([0.1, 0.3, 0.6]))))
        elif kind == "ordered":
            criteria.append(OrderedTCloseness(draw(st.sampled_from([0.1, 0.3, 0.6]))))
        elif kind == "hierarchical":
            h = sensitive_hierarchy(draw(st.booleans()))
            criteria.append(HierarchicalTCloseness(draw(st.sampled_from([0.1, 0.3, 0.6])), hierarchy=h))
    s = draw(st.sampled_from([0.0, 0.05, 0.1, 0.3, 1.0]))
    metric = draw(st.sampled_from(METRICS))
    lo, hi = [], []
    for h in case.hierarchies:
        a = draw(st.integers(0, h.height - 1))
        b = draw(st.integers(a, h.height - 1))
        if draw(st.booleans()):
            a, b = 0, h.height - 1
        lo.append(a)
        hi.append(b)
    return criteria, s, metric, lo, hi


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_search_equals_exhaustive_evaluation(data: st.DataObject) -> None:
    _compare_with_oracle(data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rollups_and_sorting_paths_equal_exhaustive_evaluation(data: st.DataObject) -> None:
    """Force every grouped node to be kept as a source, grouping by sorting, and other code packings."""
    from unittest import mock

    from iplos.sdc import _evaluate, _rollup

    with (
        mock.patch.object(_evaluate, "MIN_MATERIALISE", 0),
        mock.patch.object(_evaluate, "MATERIALISE_RATIO", 1.0),
        mock.patch.object(_evaluate, "CACHE_BUDGET", 100.0),
        mock.patch.object(_evaluate, "MEET_RATIO", 100.0),
        mock.patch.object(_rollup, "DENSE_LIMIT", data.draw(st.sampled_from([0, 1 << 22]))),
        mock.patch.object(_rollup, "DENSE_MAX", data.draw(st.sampled_from([0, 1 << 27]))),
        mock.patch.object(_rollup, "PACK_LIMIT", data.draw(st.sampled_from([1, 6, 1 << 16]))),
    ):
        _compare_with_oracle(data)


def _compare_with_oracle(data: st.DataObject) -> None:
    case = data.draw(cases())
    criteria, s, metric, lo, hi = data.draw(configs(case))
    names = case.names
    sens_names = ["diag"] if case.sensitive is not None else []
    freq = FrequencyTable.from_columns(case.columns(), names, case.hierarchies, sensitive=sens_names)
    config = SearchConfig(
        criteria=tuple(criteria),  # type: ignore[arg-type]
        max_suppressed=s,
        utility=metric,  # type: ignore[arg-type]
        min_levels=dict(zip(names, lo, strict=True)),
        max_levels=dict(zip(names, hi, strict=True)),
        list_all=True,
    )
    oracle = evaluate_all(
        list(case.rows),
        list(case.sensitive) if case.sensitive else None,
        case.hierarchies,
        criteria,
        s,
        lo,
        hi,
    )
    feasible = [o for o in oracle if o.satisfies]
    if not feasible:
        with pytest.raises(IplosError, match="no transformation"):
            search(freq, case.hierarchies, config)
        return
    result = search(freq, case.hierarchies, config)
    name = metric.name  # type: ignore[attr-defined]
    best = min(o.metrics[name] for o in feasible)
    tied = [o for o in feasible if _close(o.metrics[name], best)]
    by_levels = {o.levels: o for o in oracle}
    chosen = by_levels[result.levels]
    assert chosen.satisfies
    assert _close(chosen.metrics[name], best)
    if len(tied) == 1:
        assert result.levels == tied[0].levels
    else:
        assert result.levels in {o.levels for o in tied}
    assert result.suppressed == chosen.suppressed
    assert int(result.suppressed_rows.astype(int) @ freq.counts) == chosen.suppressed
    for metric_name, value in result.metrics.items():
        assert _close(value, chosen.metrics[metric_name]), metric_name
    # With list_all the satisfying nodes are exactly the oracle's, with the same metrics.
    assert {n.levels for n in result.satisfying} == {o.levels for o in feasible}
    for node in result.satisfying:
        for metric_name, value in node.metrics.items():
            assert _close(value, by_levels[node.levels].metrics[metric_name]), (node.levels, metric_name)


@settings(max_examples=60, deadline=None)
@given(
    case=cases(max_rows=60, with_sensitive=False), k=st.integers(2, 6), s=st.sampled_from([0.0, 0.05, 0.2])
)
def test_pruned_search_matches_listing_search(case: Case, k: int, s: float) -> None:
    """Without list_all (full pruning) the choice is the same as with every node evaluated."""
    freq = FrequencyTable.from_columns(case.columns(), case.names, case.hierarchies)
    try:
        full = search(freq, case.hierarchies, SearchConfig((KAnonymity(k),), s, list_all=True))
    except IplosError:
        with pytest.raises(IplosError):
            search(freq, case.hierarchies, SearchConfig((KAnonymity(k),), s))
        return
    pruned = search(freq, case.hierarchies, SearchConfig((KAnonymity(k),), s))
    assert pruned.levels == full.levels
    assert pruned.evaluated <= full.evaluated


def test_level_bounds_are_honoured() -> None:
    age = nested_hierarchy("age", 8, 4)
    sex = nested_hierarchy("sex", 2, 2)
    cols = {"age": [f"v{i % 8}" for i in range(40)], "sex": [f"v{i % 2}" for i in range(40)]}
    freq = FrequencyTable.from_columns(cols, ["age", "sex"], [age, sex])
    free = search(freq, [age, sex], SearchConfig((KAnonymity(10),), 0.0))
    assert free.levels == (2, 0)
    bounded = search(freq, [age, sex], SearchConfig((KAnonymity(10),), 0.0, max_levels={"age": 1}))
    assert bounded.levels == (1, 1)
    floor = search(freq, [age, sex], SearchConfig((KAnonymity(2),), 0.0, min_levels={"sex": 1}))
    assert floor.levels[1] == 1
    with pytest.raises(IplosError, match="no transformation"):
        search(freq, [age, sex], SearchConfig((KAnonymity(30),), 0.0, max_levels={"age": 1, "sex": 0}))
    with pytest.raises(IplosError, match="not a quasi-identifier"):
        search(freq, [age, sex], SearchConfig((KAnonymity(2),), 0.0, max_levels={"kommune": 1}))


def test_loss_matches_hand_computation() -> None:
    """Ages 20..39 by decade, 200 records: at level 1 each record covers 10 of 20 leaves."""
    age = _hierarchy_decades()
    sex = nested_hierarchy("sex", 2, 2)
    cols = {"age": [str(20 + i % 20) for i in range(200)], "sex": [f"v{i % 2}" for i in range(200)]}
    freq = FrequencyTable.from_columns(cols, ["age", "sex"], [age, sex])
    # Each (age, sex) pair holds 10 records, so k = 11 needs the decades.
    result = search(freq, [age, sex], SearchConfig((KAnonymity(11),), 0.0))
    # age: (200 * 10/20 - 200/20) / (200 - 200/20) = 90/190; sex level 0: 0.
    expected = math.sqrt(1 + 90 / 190) - 1
    assert result.levels == (1, 0)
    assert result.metrics["loss"] == pytest.approx(expected, rel=1e-12)
    assert result.metrics["precision"] == pytest.approx(0.25)
    assert result.metrics["aecs"] == pytest.approx(50.0)
    assert result.metrics["discernibility"] == pytest.approx(4 * 50**2)
    assert result.metrics_before["loss"] == 0.0


def test_suppression_follows_arx_semantics() -> None:
    """Failing classes are suppressed when they fit the limit; the loss counts them as fully lost."""
    h = nested_hierarchy("x", 4, 2)
    cols = {"x": ["v0"] * 19 + ["v1"]}
    freq = FrequencyTable.from_columns(cols, ["x"], [h])
    result = search(freq, [h], SearchConfig((KAnonymity(2),), 0.05))
    assert result.levels == (0,)
    assert result.suppressed == 1
    # leaves share 1/4 for 19 records, suppressed record 1: (19/4 + 1 - 20/4) / (20 - 20/4)
    assert result.metrics["loss"] == pytest.approx((19 / 4 + 1 - 5) / 15)
    strict = search(freq, [h], SearchConfig((KAnonymity(2),), 0.0))
    assert strict.levels == (1,)


def _hierarchy_decades() -> object:
    from iplos.catalog.hierarchy import Hierarchy

    return Hierarchy.from_rows(
        "age", [[str(a), f"{a // 10 * 10}-{a // 10 * 10 + 9}", "*"] for a in range(20, 40)]
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_release_passes_the_independent_check(data: st.DataObject) -> None:
    """Generalise the rows to the chosen levels, blank suppressed records: check_release agrees."""
    import pandas as pd

    from iplos.sdc import check_release

    case = data.draw(cases(with_sensitive=True))
    criteria, s, metric, lo, hi = data.draw(configs(case))
    names = case.names
    freq = FrequencyTable.from_columns(case.columns(), names, case.hierarchies, sensitive=["diag"])
    config = SearchConfig(
        tuple(criteria), s, metric, dict(zip(names, lo, strict=True)), dict(zip(names, hi, strict=True))
    )  # type: ignore[arg-type]
    try:
        result = search(freq, case.hierarchies, config)
    except IplosError:
        return
    suppressed = {
        (
            *(case.hierarchies[j].leaves[int(freq.codes[j][i])] for j in range(len(names))),
            freq.sensitive_labels[0][int(freq.sensitive_codes[0][i])],
        )
        for i in range(freq.n_rows)
        if result.suppressed_rows[i]
    }
    out = []
    for row, sens in zip(case.rows, case.sensitive or (), strict=True):
        if (*row, sens) in suppressed:
            out.append(["*"] * len(names) + [sens])
        else:
            out.append(
                [h.generalize(v, lv) for h, v, lv in zip(case.hierarchies, row, result.levels, strict=True)]
                + [sens]
            )
    df = pd.DataFrame(out, columns=[*names, "diag"])
    report = check_release(df, names, ["diag"], criteria)  # type: ignore[arg-type]
    # Records generalised to '*' everywhere count as suppressed in the check: they reveal the same.
    assert report.suppressed_records >= result.suppressed
    assert report.passed, report.failures
