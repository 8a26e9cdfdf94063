"""Local recoding: every released class meets every criterion, counted independently with pandas."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdc_builders import Case, cases, nested_hierarchy, sensitive_hierarchy

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc import (
    Criterion,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    FrequencyTable,
    HierarchicalTCloseness,
    KAnonymity,
    LocalRecoding,
    NonUniformEntropy,
    OrderedTCloseness,
    RecursiveCLDiversity,
    SearchConfig,
    check_release,
    local_recoding,
    search,
)
from iplos.sdc._encoding import encode_hierarchy
from iplos.sdc._recoding import recoding_loss

BLANK_OR_BUDGET = re.compile(r"every quasi-identifier '\*'|suppression")


def released_frame(freq: FrequencyTable, result: LocalRecoding) -> pd.DataFrame:
    """The released records (one row per record, frequency-table rows repeated by their counts)."""
    repeat = freq.counts
    data = {}
    for q in freq.quasi_identifiers:
        codes, labels = result.released(q)
        data[q] = np.asarray(labels, dtype=object)[codes].repeat(repeat)
    for s, codes, labels in zip(freq.sensitive, freq.sensitive_codes, freq.sensitive_labels, strict=True):
        data[s] = np.asarray(labels, dtype=object)[codes].repeat(repeat)
    return pd.DataFrame(data)


def generalises(h: Hierarchy, leaf: str, value: str) -> bool:
    return value == "*" or any(h.generalize(leaf, level) == value for level in range(h.height))


criteria_strategy = st.lists(
    st.one_of(
        st.builds(DistinctLDiversity, st.integers(1, 3)),
        st.builds(EntropyLDiversity, st.floats(1.0, 2.5)),
        st.builds(RecursiveCLDiversity, st.floats(1.0, 3.0), st.integers(1, 3)),
        st.builds(EqualTCloseness, st.floats(0.2, 1.0)),
        st.builds(OrderedTCloseness, st.floats(0.2, 1.0)),
        st.builds(
            HierarchicalTCloseness,
            st.floats(0.2, 1.0),
            hierarchy=st.builds(sensitive_hierarchy, st.booleans()),
        ),
    ),
    max_size=2,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cases(max_rows=60),
    k=st.integers(1, 6),
    extra=criteria_strategy,
    budget=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_released_records_meet_every_criterion(
    case: Case, k: int, extra: list[Criterion], budget: float
) -> None:
    sensitive = ("diag",) if case.sensitive is not None else ()
    criteria: list[Criterion] = [KAnonymity(k), *(extra if sensitive else [])]
    freq = FrequencyTable.from_columns(case.columns(), case.names, case.hierarchies, sensitive=sensitive)
    config = SearchConfig(criteria=criteria, max_suppressed=budget)
    try:
        result = local_recoding(freq, case.hierarchies, config)
    except IplosError as exc:
        assert BLANK_OR_BUDGET.search(str(exc)), str(exc)
        return
    df = released_frame(freq, result)
    qis = list(case.names)
    # The plain count, in the test: records with every value '*' are the suppressed ones ...
    blank = (df[qis] == "*").all(axis=1)
    assert int(blank.sum()) == result.suppressed
    assert result.suppressed <= budget * freq.n_records + 1e-9
    # ... and every other class holds at least k records.
    sizes = df[~blank].groupby(qis).size()
    assert sizes.empty or int(sizes.min()) >= k
    assert sorted(sizes.tolist()) == sorted(result.released_class_sizes.tolist())
    # The release gate's own count agrees on every criterion (l and t included).
    report = check_release(df, qis, list(sensitive), criteria)
    assert report.passed, report.failures
    # Every released value generalises the original one (or is '*' for a suppressed record).
    assert len(df) == freq.n_records
    for j, (h, q) in enumerate(zip(case.hierarchies, qis, strict=True)):
        codes, labels = result.released(q)
        leaves = [h.leaves[c] for c in freq.codes[j]]
        for leaf, code in zip(leaves, codes, strict=True):
            assert generalises(h, leaf, labels[code])


@settings(max_examples=60, deadline=None)
@given(case=cases(max_rows=40, with_sensitive=False), k=st.integers(1, 4), data=st.data())
def test_cell_loss_equals_loss_metric_on_a_global_node(case: Case, k: int, data: st.DataObject) -> None:
    freq = FrequencyTable.from_columns(case.columns(), case.names, case.hierarchies)
    try:
        result = search(freq, case.hierarchies, SearchConfig([KAnonymity(k)], max_suppressed=1.0))
    except IplosError:
        return
    encoded = [encode_hierarchy(h) for h in case.hierarchies]
    levels = [np.full(freq.n_rows, lv, dtype=np.int64) for lv in result.levels]
    codes = [h.leaf_codes[lv][c] for h, lv, c in zip(encoded, result.levels, freq.codes, strict=True)]
    value, _ = recoding_loss(encoded, freq.counts, levels, codes, result.suppressed_rows)
    assert value == pytest.approx(result.metrics["loss"], abs=1e-12)


def _town_table() -> tuple[FrequencyTable, tuple[Hierarchy, Hierarchy]]:
    age = Hierarchy.from_rows(
        "age",
        [[str(a), f"{a // 10 * 10}s", "*"] for a in range(20, 40)],
        level_names=["year", "decade", "all"],
    )
    sex = Hierarchy.from_rows("sex", [["1", "*"], ["2", "*"]], level_names=["sex", "all"])
    # Ten women aged 25 and four men in their thirties: the women keep their exact age.
    ages = ["25"] * 10 + ["31", "33", "35", "37"]
    sexes = ["2"] * 10 + ["1"] * 4
    freq = FrequencyTable.from_columns({"age": ages, "sex": sexes}, ["age", "sex"], [age, sex])
    return freq, (age, sex)


def test_classes_get_levels_of_their_own() -> None:
    freq, hs = _town_table()
    result = local_recoding(freq, hs, SearchConfig([KAnonymity(4)]))
    df = released_frame(freq, result)
    assert set(map(tuple, df[["age", "sex"]].to_numpy().tolist())) == {("25", "2"), ("30s", "1")}
    glob = search(freq, hs, SearchConfig([KAnonymity(4)]))
    assert result.loss < glob.metrics["loss"]
    assert result.suppressed == 0 and result.classes == 2


def test_weights_count_records_not_rows() -> None:
    freq, hs = _town_table()
    # The same table with each row standing for 3 records: k = 12 is now reachable by the men.
    heavy = FrequencyTable(freq.quasi_identifiers, freq.codes, freq.counts * 3)
    result = local_recoding(heavy, hs, SearchConfig([KAnonymity(12)]))
    assert sorted(result.released_class_sizes.tolist()) == [12, 30]


def test_level_bounds_are_kept() -> None:
    freq, hs = _town_table()
    result = local_recoding(
        freq, hs, SearchConfig([KAnonymity(4)], min_levels={"age": 1}, max_levels={"age": 1})
    )
    assert set(result.levels[0].tolist()) == {1}


def test_classes_failing_at_the_top_are_suppressed_within_the_budget() -> None:
    h = nested_hierarchy("q0", 4, 2, star_top=False)  # top level g1_0, g1_1: no '*'
    freq = FrequencyTable.from_columns({"q0": ["v0"] * 5 + ["v2"]}, ["q0"], [h])
    with pytest.raises(IplosError, match="suppression"):
        local_recoding(freq, [h], SearchConfig([KAnonymity(5)]))
    result = local_recoding(freq, [h], SearchConfig([KAnonymity(5)], max_suppressed=0.2))
    assert result.suppressed == 1
    codes, labels = result.released("q0")
    assert [labels[c] for c in codes] == ["v0", "*"]


def test_records_blanked_everywhere_need_the_budget() -> None:
    h = nested_hierarchy("q0", 4, 3)
    freq = FrequencyTable.from_columns({"q0": ["v0", "v1", "v2", "v3"]}, ["q0"], [h])
    with pytest.raises(IplosError, match=r"every quasi-identifier '\*'"):
        local_recoding(freq, [h], SearchConfig([KAnonymity(3)]))
    result = local_recoding(freq, [h], SearchConfig([KAnonymity(3)], max_suppressed=1.0))
    assert result.suppressed == 4 and result.classes == 0


def test_other_metrics_are_refused() -> None:
    freq, hs = _town_table()
    with pytest.raises(IplosError, match="loss metric"):
        local_recoding(freq, hs, SearchConfig([KAnonymity(2)], utility=NonUniformEntropy()))


def test_a_larger_table_keeps_more_than_the_global_optimum() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    age = Hierarchy.from_rows(
        "age",
        [[str(a), f"{a // 5 * 5}", f"{a // 20 * 20}s", "*"] for a in range(100)],
        level_names=["year", "5", "20", "all"],
    )
    place = Hierarchy.from_rows(
        "place", [[f"k{i}", f"f{i // 8}", "*"] for i in range(40)], level_names=["k", "f", "all"]
    )
    sex = Hierarchy.from_rows("sex", [["1", "*"], ["2", "*"]], level_names=["sex", "all"])
    columns = {
        "age": [str(a) for a in np.clip(rng.normal(75, 12, n), 0, 99).astype(int)],
        "place": [f"k{i}" for i in np.minimum(rng.zipf(1.5, n) - 1, 39)],
        "sex": [str(s) for s in rng.integers(1, 3, n)],
    }
    hs = [age, place, sex]
    freq = FrequencyTable.from_columns(columns, ["age", "place", "sex"], hs)
    config = SearchConfig([KAnonymity(5)], max_suppressed=0.05)
    result = local_recoding(freq, hs, config)
    df = released_frame(freq, result)
    sizes = df.groupby(["age", "place", "sex"]).size()
    assert int(sizes.min()) >= 5 and result.suppressed == 0
    assert result.loss < search(freq, hs, config).metrics["loss"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    persons=st.lists(
        st.lists(st.tuples(st.sampled_from(["v0", "v1", "v2", "v3"]), st.booleans()), min_size=2, max_size=2),
        min_size=1,
        max_size=40,
    ),
    k=st.integers(1, 4),
)
def test_person_signatures_meet_k_counted_by_person(persons: list[list[tuple[str, bool]]], k: int) -> None:
    """A person-level table: one row per distinct signature (age group and presence in each of two
    years), weighted by persons; every released signature is shared by at least k persons."""
    h_value = nested_hierarchy("value", 4, 3)
    h_present = Hierarchy.from_rows("present", [["yes", "*"], ["no", "*"]], level_names=["present", "all"])
    columns: dict[str, list[str]] = {"y1": [], "p1": [], "y2": [], "p2": []}
    for person in persons:
        for year, (value, present) in zip(("1", "2"), person, strict=True):
            columns[f"y{year}"].append(value if present else "v0")
            columns[f"p{year}"].append("yes" if present else "no")
    qis = ["y1", "p1", "y2", "p2"]
    hs = [h_value, h_present, h_value, h_present]
    freq = FrequencyTable.from_columns(columns, qis, hs)
    try:
        result = local_recoding(freq, hs, SearchConfig([KAnonymity(k)], max_suppressed=0.25))
    except IplosError as exc:
        assert BLANK_OR_BUDGET.search(str(exc)), str(exc)
        return
    released = released_frame(freq, result)
    blank = (released[qis] == "*").all(axis=1)
    per_signature = released[~blank].groupby(qis).size()
    assert per_signature.empty or int(per_signature.min()) >= k
    assert int(blank.sum()) == result.suppressed <= 0.25 * len(persons)
