"""Primary and secondary suppression on hand-checked tables, and the audit that proves them."""

from __future__ import annotations

import numpy as np
import pytest
from tables_builders import records, region_hierarchy, two_by_three

import iplos.sdc.tables as tables
from iplos.sdc.tables import (
    Dimension,
    GroupDisclosure,
    MinCount,
    ProtectionLevels,
    audit,
    build_table,
    protect,
)


def test_public_api_is_pinned() -> None:
    assert set(tables.__all__) == {
        "FLAG_NAMES",
        "TOTAL",
        "AuditResult",
        "Dimension",
        "DimensionRequest",
        "Dominance",
        "LinkedResult",
        "GroupDisclosure",
        "MinCount",
        "PPercent",
        "PerturbationTable",
        "PrimaryResult",
        "ProducedTable",
        "ProtectedTable",
        "ProtectionLevels",
        "Release",
        "Rule",
        "Table",
        "TableFile",
        "TableRequest",
        "audit",
        "audit_file",
        "audit_linked",
        "build_table",
        "data_version",
        "file_audit_report",
        "linked_audit_report",
        "perturb_table",
        "produce_tables",
        "protect",
        "protect_linked",
        "read_table_csv",
        "release_of_file",
        "table_csv",
        "write_report",
        "write_table",
    }


def test_two_by_three_values_and_constraints() -> None:
    t = two_by_three()
    assert t.values.reshape(t.shape).tolist() == [
        [49, 18, 12, 19],
        [25, 10, 3, 12],
        [24, 8, 9, 7],
    ]
    # 4 column sums + 3 row sums, and the true values satisfy them
    assert t.constraints.shape == (7, 12)
    assert np.allclose(t.constraints @ t.values, 0)


def test_primary_alone_is_recomputable() -> None:
    t = two_by_three()
    result = protect(t, [MinCount(5)], secondary="none")
    assert result.counts()["primary"] == 1
    assert result.audit is not None and not result.audit.passed
    cell = t.cell_at(r="a", c="y")
    assert result.audit.lower[cell] == pytest.approx(3) and result.audit.upper[cell] == pytest.approx(3)


@pytest.mark.parametrize("method", ["optimal", "fast"])
def test_one_small_cell_needs_one_complement_in_its_row_and_column(method: str) -> None:
    t = two_by_three()
    result = protect(t, [MinCount(5)], secondary=method)  # type: ignore[arg-type]
    grid = result.flags.reshape(t.shape)
    # no margin is suppressed; the pattern is a rectangle: one more cell in row a, one in
    # column y, and the corner that closes it
    assert (grid[0, :] == 0).all() and (grid[:, 0] == 0).all()
    inner = grid[1:, 1:] > 0
    assert inner.sum() == 4
    assert inner[0].sum() == 2 and inner[:, 1].sum() == 2
    assert result.audit is not None and result.audit.passed
    # the cheapest rectangle (cost = value + 1) uses column x: 11 + 9 + 10 = 30 < 13 + 8 + 10
    assert result.details["cost"]["suppressed"] == pytest.approx(30)
    assert grid[1, 1] == grid[2, 1] == grid[2, 2] == 2


def test_optimal_is_never_costlier_than_fast() -> None:
    dims = [
        Dimension.from_hierarchy(region_hierarchy(), "kommune", name="region"),
        Dimension.flat("s", "123"),
    ]
    rng = np.random.default_rng(3)
    counts = {(k, s): int(rng.integers(0, 12)) for k in ("0101", "0102", "0201", "0202") for s in "123"}
    t = build_table(records(counts, ("region", "s")), dims)
    opt = protect(t, [MinCount(5)], secondary="optimal")
    fast = protect(t, [MinCount(5)], secondary="fast")
    assert opt.audit is not None and opt.audit.passed
    assert fast.audit is not None and fast.audit.passed
    assert opt.details["cost"]["suppressed"] <= fast.details["cost"]["suppressed"] + 1e-9
    assert opt.details["optimal"]["proven_optimal"]


def test_hierarchical_table_links_kommune_fylke_and_country() -> None:
    dim = Dimension.from_hierarchy(region_hierarchy(), "kommune", name="region")
    assert dim.labels == ("Total", "01", "0101", "0102", "02", "0201", "0202")
    assert dim.parents == (-1, 0, 1, 1, 0, 4, 4)
    counts = {
        ("0101", "1"): 2,
        ("0102", "1"): 7,
        ("0201", "1"): 6,
        ("0202", "1"): 9,
        ("0101", "2"): 8,
        ("0102", "2"): 6,
        ("0201", "2"): 5,
        ("0202", "2"): 11,
    }
    t = build_table(records(counts, ("region", "kjonn")), [dim, Dimension.flat("kjonn", "12")])
    assert t.values[t.cell_at(region="01")] == 23
    assert t.values[t.cell_at(region="Total", kjonn="2")] == 30
    # rows: 2 region subtotals + country for each of 3 kjonn nodes, and 1 per region node
    assert t.constraints.shape[0] == 3 * 3 + 7
    result = protect(t, [MinCount(5)], secondary="fast")
    assert result.audit is not None and result.audit.passed
    assert result.flags[t.cell_at(region="0101", kjonn="1")] == 1


def test_zero_cells_are_not_sensitive_unless_asked() -> None:
    counts = {("a", "x"): 0, ("a", "y"): 9, ("b", "x"): 8, ("b", "y"): 9}
    df = records(counts, ("r", "c"))
    t = build_table(df, [Dimension.flat("r", "ab"), Dimension.flat("c", "xy")])
    assert not MinCount(5).sensitive(t)[t.cell_at(r="a", c="x")]
    assert MinCount(5, zero_sensitive=True).sensitive(t)[t.cell_at(r="a", c="x")]


def test_group_disclosure_flags_a_cell_equal_to_its_margin() -> None:
    # every person in row a is in column x: publishing (a, x) = (a, Total) reveals their category
    counts = {("a", "x"): 12, ("a", "y"): 0, ("b", "x"): 8, ("b", "y"): 9}
    t = build_table(records(counts, ("r", "c")), [Dimension.flat("r", "ab"), Dimension.flat("c", "xy")])
    hit = GroupDisclosure().sensitive(t)
    assert hit[t.cell_at(r="a", c="x")]
    assert not hit[t.cell_at(r="b", c="x")]
    # only along the named dimension when restricted
    assert not GroupDisclosure(dimensions=("r",)).sensitive(t)[t.cell_at(r="a", c="x")]


def test_protection_levels() -> None:
    levels = ProtectionLevels(upper_percent=50, lower_percent=20, upper_absolute=2, lower_absolute=1)
    values = np.array([0.0, 1.0, 10.0])
    assert levels.upper(values).tolist() == [2.0, 2.0, 5.0]
    assert levels.lower(values).tolist() == [0.0, 1.0, 2.0]


def test_audit_reports_unbounded_and_zero_lower_bounds() -> None:
    t = two_by_three()
    everything = np.ones(t.n_cells, dtype=bool)
    result = audit(t.constraints, t.values, everything)
    assert np.isinf(result.upper).all() and (result.lower == 0).all()
    assert result.passed  # nothing can be pinned down


def test_optimal_falls_back_to_fast_when_time_runs_out() -> None:
    result = protect(two_by_three(), [MinCount(5)], secondary="optimal", time_limit=0.0)
    assert result.method.startswith("fast")
    assert result.details["optimal"]["finished"] is False
    assert result.audit is not None and result.audit.passed


def test_default_protection_hides_a_one_between_zero_and_four() -> None:
    """The safe default (30 %, at least 3 persons each way): a suppressed 1 could be 0 or 4."""
    t = two_by_three(small=1)
    pt = protect(t, [MinCount(5)], audit_intervals="exact")
    cell = t.cell_at(r="a", c="y")
    assert pt.audit is not None and pt.audit.passed
    assert pt.audit.lower[cell] <= 0 and pt.audit.upper[cell] >= 4
    assert "max(30 % of the value, 3)" in pt.report()["protection"]["rule"]
    weak = protect(t, [MinCount(5)], protection=ProtectionLevels(30, 30, 1, 1), audit_intervals="exact")
    assert weak.audit is not None and weak.audit.passed
