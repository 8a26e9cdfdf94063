"""Risk measures and SUDA on hand examples."""

from __future__ import annotations

import pytest
from sdc_builders import nested_hierarchy

from iplos.sdc import FrequencyTable, assess_risk, risk_from_class_sizes, suda


def _table(rows: list[tuple[str, str]], sens: list[str] | None = None) -> FrequencyTable:
    a, b = nested_hierarchy("a", 4, 2), nested_hierarchy("b", 4, 2)
    cols = {"a": [r[0] for r in rows], "b": [r[1] for r in rows]}
    sensitive = []
    if sens is not None:
        cols["s"] = sens
        sensitive = ["s"]
    return FrequencyTable.from_columns(cols, ["a", "b"], [a, b], sensitive=sensitive)


def test_prosecutor_journalist_marketer() -> None:
    # classes: (v0,v0) x3, (v0,v1) x1, (v1,v1) x2
    rows = [("v0", "v0")] * 3 + [("v0", "v1")] + [("v1", "v1")] * 2
    report = assess_risk(_table(rows), threshold=0.4)
    assert report.n_records == 6 and report.n_classes == 3
    assert report.k == 1
    assert report.sample_uniques == 1
    assert report.prosecutor.highest == pytest.approx(1.0)  # 1 / smallest class
    assert report.prosecutor.average == pytest.approx((3 * 1 / 3 + 1 + 2 * 1 / 2) / 6)
    assert report.prosecutor.share_above_threshold == pytest.approx(3 / 6)  # risks 1 and 1/2 > 0.4
    assert report.journalist == report.prosecutor
    assert report.marketer == pytest.approx(3 / 6)
    assert report.class_size_histogram == {1: 1, 2: 1, 3: 1}


def test_population_risk() -> None:
    sample = _table([("v0", "v0")] * 2 + [("v1", "v1")])
    population = _table([("v0", "v0")] * 10 + [("v1", "v1")] * 4 + [("v2", "v2")] * 7)
    report = assess_risk(sample, population)
    assert report.prosecutor.highest == pytest.approx(1.0)
    assert report.journalist.highest == pytest.approx(1 / 4)
    assert report.journalist.average == pytest.approx((2 / 10 + 1 / 4) / 3)
    assert report.marketer == pytest.approx((2 / 10 + 1 / 4) / 3)
    assert report.population_uniques == 0


def test_sensitive_report() -> None:
    rows = [("v0", "v0")] * 4
    report = assess_risk(_table(rows, ["1", "1", "2", "3"]))
    (s,) = report.sensitive
    assert s.distinct_l == 3
    assert s.entropy_l == pytest.approx(2**1.5)
    assert s.t_equal == pytest.approx(0.0)


def test_risk_from_class_sizes() -> None:
    report = risk_from_class_sizes([5, 10, 5])  # type: ignore[arg-type]
    assert report.k == 5 and report.n_records == 20
    assert report.prosecutor.highest == pytest.approx(0.2)


def test_suda_minimal_sample_uniques() -> None:
    # r0 = (v0,v0) unique on a alone? a=v0 appears in r0,r1 -> no. b=v0 appears only in r0 -> MSU {b}.
    # r1 = (v0,v1), r2 = (v1,v1), r3 = (v1,v1): r1 unique on (a,b) only -> MSU {a,b}.
    rows = [("v0", "v0"), ("v0", "v1"), ("v1", "v1"), ("v1", "v1")]
    report = suda(_table(rows))
    assert report.msu_by_subset == {"b": 1, "a+b": 1}
    assert report.records_with_msu == 2
    assert report.msu_count_by_size == {1: 1, 2: 1}
    assert report.contribution == {"a": pytest.approx(0.5), "b": pytest.approx(1.0)}


def test_sensitive_closeness_on_two_classes() -> None:
    rows = [("v0", "v0")] * 4 + [("v1", "v1")] * 4
    report = assess_risk(_table(rows, ["1", "1", "2", "3", "1", "1", "1", "1"]))
    (s,) = report.sensitive
    assert s.distinct_l == 1
    assert s.t_equal == pytest.approx(0.25)
    assert s.t_ordered == pytest.approx(3 / 16)
