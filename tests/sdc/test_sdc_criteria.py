"""Criteria on hand examples, and against the independent release check on random tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdc_builders import nested_hierarchy

from iplos.errors import IplosError
from iplos.sdc import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    FrequencyTable,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
    check_release,
)
from iplos.sdc._criteria import equal_distance, ordered_distance
from iplos.sdc._encoding import encode_hierarchy
from iplos.sdc._rollup import Source, group_node


def _classes(groups: list[str], values: list[str]) -> object:
    h = nested_hierarchy("g", 4, 1)
    freq = FrequencyTable.from_columns({"g": groups, "s": values}, ["g"], [h], sensitive=["s"])
    dist = tuple(
        np.bincount(c, weights=freq.counts, minlength=len(lab)) / freq.n_records
        for c, lab in zip(freq.sensitive_codes, freq.sensitive_labels, strict=True)
    )
    source = Source((0,), freq.codes, freq.counts, freq.sensitive_codes)
    return group_node(source, (0,), [encode_hierarchy(h)], ("s",), dist)


def test_hand_examples() -> None:
    # class v0: values 1,1,2,3 ; class v1: values 1,1,1,1
    view = _classes(["v0"] * 4 + ["v1"] * 4, ["1", "1", "2", "3", "1", "1", "1", "1"])
    assert list(KAnonymity(4).passing(view, None)) == [True, True]  # type: ignore[arg-type]
    assert list(DistinctLDiversity(3).passing(view, "s")) == [True, False]  # type: ignore[arg-type]
    # entropy of (1/2, 1/4, 1/4) = 1.5 ln 2 -> exp = 2.83
    assert list(EntropyLDiversity(2.8).passing(view, "s")) == [True, False]  # type: ignore[arg-type]
    assert list(EntropyLDiversity(2.9).passing(view, "s")) == [False, False]  # type: ignore[arg-type]
    # recursive (c,2): r = (2,1,1): 2 < c * (1 + 1) holds for c = 2 (4), fails for c = 1
    assert list(RecursiveCLDiversity(2, 2).passing(view, "s")) == [True, False]  # type: ignore[arg-type]
    assert list(RecursiveCLDiversity(1, 2).passing(view, "s")) == [False, False]  # type: ignore[arg-type]
    # overall q = (6/8, 1/8, 1/8); class v0 p = (1/2, 1/4, 1/4): equal EMD = 0.5*(1/4+1/8+1/8) = 1/4
    assert equal_distance(view, "s")[0] == pytest.approx(0.25)  # type: ignore[arg-type]
    assert equal_distance(view, "s")[1] == pytest.approx(0.25)  # type: ignore[arg-type]
    # ordered: cumulative differences (-1/4, -1/8) -> (1/4 + 1/8) / 2 = 3/16 ; v1: (1/4, 1/8) -> 3/16
    assert ordered_distance(view, "s")[0] == pytest.approx(3 / 16)  # type: ignore[arg-type]
    assert list(EqualTCloseness(0.25).passing(view, "s")) == [True, True]  # type: ignore[arg-type]
    assert list(OrderedTCloseness(0.1).passing(view, "s")) == [False, False]  # type: ignore[arg-type]


def test_entropy_l_diversity_exactly_at_threshold_passes() -> None:
    view = _classes(["v0"] * 2, ["1", "2"])
    assert EntropyLDiversity(2).passing(view, "s")[0]  # type: ignore[arg-type]


def test_invalid_parameters() -> None:
    with pytest.raises(IplosError):
        KAnonymity(0)
    with pytest.raises(IplosError):
        EqualTCloseness(1.5)
    with pytest.raises(IplosError):
        RecursiveCLDiversity(0, 2)


@settings(max_examples=80, deadline=None)
@given(
    groups=st.lists(st.sampled_from(["v0", "v1", "v2", "v3"]), min_size=1, max_size=40),
    data=st.data(),
    t=st.sampled_from([0.05, 0.2, 0.5]),
    l=st.integers(1, 3),
    c=st.sampled_from([1.0, 2.0, 3.0]),
)
def test_criteria_agree_with_release_check(
    groups: list[str],
    data: st.DataObject,
    t: float,
    l: int,  # noqa: E741
    c: float,
) -> None:
    values = data.draw(
        st.lists(st.sampled_from(["1", "2", "4", "9"]), min_size=len(groups), max_size=len(groups))
    )
    view = _classes(groups, values)
    df = pd.DataFrame({"g": groups, "s": values})
    for criterion in (
        DistinctLDiversity(l),
        EntropyLDiversity(float(l)),
        RecursiveCLDiversity(c, l),
        EqualTCloseness(t),
        OrderedTCloseness(t),
    ):
        fast = bool(np.all(criterion.passing(view, "s")))  # type: ignore[arg-type]
        slow = check_release(df, ["g"], ["s"], [criterion]).passed
        assert fast == slow, criterion
    eq = equal_distance(view, "s")  # type: ignore[arg-type]
    od = ordered_distance(view, "s")  # type: ignore[arg-type]
    assert np.all(eq <= 1 + 1e-12) and np.all(od <= 1 + 1e-12)
    assert not math.isnan(float(eq.sum() + od.sum()))
