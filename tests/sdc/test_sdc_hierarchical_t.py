"""Hierarchical-distance t-closeness: by hand, against a transport LP and against the release check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sdc_builders import nested_hierarchy, sensitive_hierarchy

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc import FrequencyTable, HierarchicalTCloseness, check_release
from iplos.sdc._criteria import equal_distance, hierarchical_distance
from iplos.sdc._encoding import encode_hierarchy
from iplos.sdc._rollup import Source, group_node

FOUR = Hierarchy.from_rows(
    "s",
    [["1", "a", "*"], ["2", "a", "*"], ["3", "b", "*"], ["4", "b", "*"]],
    level_names=["value", "group", "all"],
)


def _view(groups: list[str], values: list[str]) -> object:
    h = nested_hierarchy("g", 4, 1)
    freq = FrequencyTable.from_columns({"g": groups, "s": values}, ["g"], [h], sensitive=["s"])
    dist = tuple(
        np.bincount(c, weights=freq.counts, minlength=len(lab)) / freq.n_records
        for c, lab in zip(freq.sensitive_codes, freq.sensitive_labels, strict=True)
    )
    source = Source((0,), freq.codes, freq.counts, freq.sensitive_codes)
    return group_node(source, (0,), [encode_hierarchy(h)], ("s",), dist, freq.sensitive_labels)


def test_hand_example() -> None:
    # Input uniform over 1..4. Class v0 holds {1, 2}: everything moves between the groups a and b,
    # at distance 2/2 = 1, half of the mass: EMD 1/2. Class v1 holds {1, 3}: a quarter moves
    # within a (2 -> 1 missing) and a quarter within b, each at distance 1/2: EMD 1/4.
    groups = ["v0", "v0", "v1", "v1", "v2", "v2", "v3", "v3"]
    values = ["1", "2", "1", "3", "3", "4", "2", "4"]
    d = hierarchical_distance(_view(groups, values), "s", FOUR)  # type: ignore[arg-type]
    assert d.tolist() == pytest.approx([0.5, 0.25, 0.5, 0.25])


def test_a_flat_hierarchy_is_equal_distance() -> None:
    flat = Hierarchy.from_rows("s", [[v, "*"] for v in "1234"], level_names=["value", "all"])
    view = _view(["v0", "v0", "v0", "v1", "v1"], ["1", "1", "2", "3", "4"])
    assert hierarchical_distance(view, "s", flat).tolist() == pytest.approx(  # type: ignore[arg-type]
        equal_distance(view, "s").tolist()  # type: ignore[arg-type]
    )


def _transport(p: list[float], q: list[float], distance: np.ndarray) -> float:
    """The EMD as its transportation problem (Rubner et al.), solved by linear programming."""
    m = len(p)
    a_eq = []
    b_eq = []
    for i in range(m):
        row = np.zeros((m, m))
        row[i, :] = 1
        a_eq.append(row.reshape(-1))
        b_eq.append(p[i])
    for j in range(m):
        col = np.zeros((m, m))
        col[:, j] = 1
        a_eq.append(col.reshape(-1))
        b_eq.append(q[j])
    result = linprog(distance.reshape(-1), A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None))
    assert result.success
    return float(result.fun)


def _ground(h: Hierarchy, values: list[str]) -> np.ndarray:
    top = h.height - 1
    single = len({h.generalize(v, top) for v in h.leaves}) == 1
    height = top if single else top + 1
    out = np.zeros((len(values), len(values)))
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            common = next(
                (lv for lv in range(h.height) if h.generalize(a, lv) == h.generalize(b, lv)), height
            )
            out[i, j] = common / height
    return out


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(st.sampled_from(["v0", "v1", "v2"]), min_size=1, max_size=30),
    data=st.data(),
    star_top=st.booleans(),
    t=st.sampled_from([0.05, 0.1, 0.2, 0.4]),
)
def test_distance_equals_the_transport_problem_and_the_release_check(
    groups: list[str], data: st.DataObject, star_top: bool, t: float
) -> None:
    values = data.draw(
        st.lists(st.sampled_from(["1", "2", "3", "5", "8"]), min_size=len(groups), max_size=len(groups))
    )
    h = sensitive_hierarchy(star_top)
    view = _view(groups, values)
    fast = hierarchical_distance(view, "s", h)  # type: ignore[arg-type]
    order = sorted(set(values), key=float)
    ground = _ground(h, order)
    df = pd.DataFrame({"g": groups, "s": values})
    n = len(values)
    q = [values.count(v) / n for v in order]
    for i, g in enumerate(sorted(set(groups))):
        members = [v for gg, v in zip(groups, values, strict=True) if gg == g]
        p = [members.count(v) / len(members) for v in order]
        assert fast[i] == pytest.approx(_transport(p, q, ground), abs=1e-9)
    criterion = HierarchicalTCloseness(t, hierarchy=h)
    passes = bool(np.all(criterion.passing(view, "s")))  # type: ignore[arg-type]
    assert passes == check_release(df, ["g"], ["s"], [criterion]).passed


def test_values_outside_the_hierarchy_are_named() -> None:
    view = _view(["v0", "v0"], ["1", "7"])
    with pytest.raises(IplosError, match="not in hierarchy"):
        HierarchicalTCloseness(0.3, hierarchy=FOUR).passing(view, "s")  # type: ignore[arg-type]
    assert HierarchicalTCloseness(0.3, "s", hierarchy=FOUR).describe() == (
        "hierarchical-distance t-closeness (t=0.3, on s)"
    )
