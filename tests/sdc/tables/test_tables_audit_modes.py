"""The audit's shortcuts (implied bounds, witnesses, verdict-only intervals) against plain LPs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from test_tables_properties import _table, tables

from iplos.errors import IplosError
from iplos.sdc.tables import MinCount, ProtectionLevels, audit, protect
from iplos.sdc.tables._bounds import implied_bounds


def _reference(a: sp.csr_matrix, values: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One plain LP per bound over the whole table: no components, no bounds, no witnesses."""
    cells = np.flatnonzero(hidden)
    a_s = a[:, cells]
    b = -(a @ np.where(hidden, 0.0, values))
    lo = np.full(values.shape[0], np.nan)
    hi = np.full(values.shape[0], np.nan)
    for k, c in enumerate(cells):
        cost = np.zeros(cells.size)
        cost[k] = 1.0
        res = linprog(cost, A_eq=a_s, b_eq=b, bounds=(0, None), method="highs")
        lo[c] = res.fun
        res = linprog(-cost, A_eq=a_s, b_eq=b, bounds=(0, None), method="highs")
        hi[c] = np.inf if res.status == 3 else -res.fun
    return lo, hi


hidden_tables = st.tuples(tables, st.integers(0, 2**16), st.floats(0.1, 0.7))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_tables)
def test_exact_intervals_equal_plain_linear_programs(
    case: tuple[tuple[np.ndarray, bool], int, float],
) -> None:
    (leaves, hierarchical), seed, share = case
    t = _table(leaves, hierarchical)
    hidden = np.random.default_rng(seed).random(t.n_cells) < share
    result = audit(t.constraints, t.values, hidden, intervals="exact")
    lo, hi = _reference(t.constraints, t.values, hidden)
    assert np.allclose(result.lower[hidden], lo[hidden], atol=1e-6)
    assert np.allclose(result.upper[hidden], hi[hidden], atol=1e-6)  # inf == inf
    assert result.exact_cells is not None and (result.exact_cells == hidden).all()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_tables, st.floats(0.0, 60.0), st.floats(0.0, 3.0))
def test_witnessed_audit_gives_the_exact_verdict(
    case: tuple[tuple[np.ndarray, bool], int, float], percent: float, absolute: float
) -> None:
    (leaves, hierarchical), seed, share = case
    t = _table(leaves, hierarchical)
    rng = np.random.default_rng(seed)
    hidden = rng.random(t.n_cells) < share
    sensitive = hidden & (rng.random(t.n_cells) < 0.6)
    levels = ProtectionLevels(percent, percent, absolute, absolute)
    kwargs = {
        "sensitive": sensitive,
        "upper_required": levels.upper(t.values),
        "lower_required": levels.lower(t.values),
    }
    exact = audit(t.constraints, t.values, hidden, intervals="exact", **kwargs)  # type: ignore[arg-type]
    fast = audit(t.constraints, t.values, hidden, intervals="witnessed", **kwargs)  # type: ignore[arg-type]
    assert fast.passed == exact.passed
    assert (fast.ok == exact.ok).all()
    assert fast.linear_programs <= exact.linear_programs + exact.components
    # witnessed intervals lie inside the exact ones, and equal them where marked exact
    assert (fast.lower[hidden] >= exact.lower[hidden] - 1e-6).all()
    assert (fast.upper[hidden] <= exact.upper[hidden] + 1e-6).all()
    assert fast.exact_cells is not None
    marked = fast.exact_cells
    assert np.allclose(fast.lower[marked], exact.lower[marked], atol=1e-6)
    assert np.allclose(fast.upper[marked], exact.upper[marked], atol=1e-6)
    # a failing cell's interval is always its exact one
    failing = fast.failing
    assert np.allclose(fast.upper[failing], exact.upper[failing], atol=1e-6) or (
        np.allclose(fast.lower[failing], exact.lower[failing], atol=1e-6)
    )
    # the truth is inside every interval
    assert (fast.lower[hidden] <= t.values[hidden] + 1e-6).all()
    assert (t.values[hidden] <= fast.upper[hidden] + 1e-6).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_tables, st.sampled_from([0.0, 0.5, 2.0, 5.0]))
def test_witnessed_width_audit_gives_the_exact_verdict(
    case: tuple[tuple[np.ndarray, bool], int, float], min_width: float
) -> None:
    (leaves, hierarchical), seed, share = case
    t = _table(leaves, hierarchical)
    hidden = np.random.default_rng(seed).random(t.n_cells) < share
    exact = audit(t.constraints, t.values, hidden, min_width=min_width, intervals="exact")
    fast = audit(t.constraints, t.values, hidden, min_width=min_width, intervals="witnessed")
    assert (fast.ok == exact.ok).all()
    assert set(fast.exact.tolist()) <= set(exact.exact.tolist())


@settings(max_examples=30, deadline=None)
@given(hidden_tables)
def test_implied_bounds_contain_the_attacker_intervals(
    case: tuple[tuple[np.ndarray, bool], int, float],
) -> None:
    (leaves, hierarchical), seed, share = case
    t = _table(leaves, hierarchical)
    hidden = np.random.default_rng(seed).random(t.n_cells) < share
    if not hidden.any():
        return
    cells = np.flatnonzero(hidden)
    b = -(t.constraints @ np.where(hidden, 0.0, t.values))
    lower, upper = implied_bounds(t.constraints[:, cells].tocsr(), b)
    lo, hi = _reference(t.constraints, t.values, hidden)
    assert (lower <= lo[cells] + 1e-6).all()
    assert (upper >= hi[cells] - 1e-6).all()


def test_protect_reports_which_intervals() -> None:
    t = _table(np.array([[1.0, 7.0, 9.0], [8.0, 2.0, 6.0], [9.0, 9.0, 3.0]]), False)
    for mode in ("witnessed", "exact"):
        result = protect(t, [MinCount(5)], audit_intervals=mode)  # type: ignore[arg-type]
        report = result.report()["audit"]
        assert report["intervals"] == mode
        assert report["passed"]
        assert all(isinstance(c["exact"], bool) for c in report["cells"])
        if mode == "exact":
            assert all(c["exact"] for c in report["cells"])


def test_unknown_interval_mode_is_refused() -> None:
    t = _table(np.array([[1.0, 7.0], [8.0, 2.0]]), False)
    with pytest.raises(IplosError, match="interval mode"):
        audit(t.constraints, t.values, t.values < 5, intervals="rough")  # type: ignore[arg-type]


def test_contradictory_table_is_refused_by_the_bounds() -> None:
    # x0 = x1 + x2 with x0 published as 1 and x1 published as 3: x2 would be -2
    a = sp.csr_matrix(np.array([[1.0, -1.0, -1.0]]))
    with pytest.raises(IplosError, match="not additive"):
        audit(a, np.array([1.0, 3.0, 0.0]), np.array([False, False, True]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden_tables, st.floats(0.0, 60.0), st.floats(0.0, 3.0))
def test_regional_programs_give_the_exact_verdict(
    case: tuple[tuple[np.ndarray, bool], int, float], percent: float, absolute: float
) -> None:
    """The small programs around the true table (used on large components) on every component."""
    from iplos.sdc.tables import _lp

    (leaves, hierarchical), seed, share = case
    t = _table(leaves, hierarchical)
    rng = np.random.default_rng(seed)
    hidden = rng.random(t.n_cells) < share
    sensitive = hidden & (rng.random(t.n_cells) < 0.6)
    levels = ProtectionLevels(percent, percent, absolute, absolute)
    kwargs = {
        "sensitive": sensitive,
        "upper_required": levels.upper(t.values),
        "lower_required": levels.lower(t.values),
    }
    exact = audit(t.constraints, t.values, hidden, intervals="exact", **kwargs)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lp, "LOCAL_FROM", 0)
        fast = audit(t.constraints, t.values, hidden, intervals="witnessed", **kwargs)  # type: ignore[arg-type]
    assert (fast.ok == exact.ok).all()
    assert (fast.lower[hidden] >= exact.lower[hidden] - 1e-6).all()
    assert (fast.upper[hidden] <= exact.upper[hidden] + 1e-6).all()


def test_an_audit_seeded_by_the_last_one_and_by_witnesses_checks_them() -> None:
    """A previous audit seeds only a pattern that contains its own; a witness that breaks a sum
    or moves a published cell is ignored; the verdict equals the unseeded one."""
    t = _table(np.array([[5.0, 1.0, 7.0], [2.0, 6.0, 4.0], [8.0, 3.0, 9.0]]), False)
    hidden = np.zeros(t.n_cells, dtype=bool)
    rng = np.random.default_rng(3)
    hidden[rng.choice(t.n_cells, t.n_cells // 2, replace=False)] = True
    levels = ProtectionLevels()
    kwargs = {
        "sensitive": hidden,
        "upper_required": levels.upper(t.values),
        "lower_required": levels.lower(t.values),
        "intervals": "witnessed",
    }
    first = audit(t.constraints, t.values, hidden, **kwargs)  # type: ignore[arg-type]
    more = hidden.copy()
    more[np.flatnonzero(~hidden)[:2]] = True
    plain = audit(t.constraints, t.values, more, **kwargs)  # type: ignore[arg-type]
    seeded = audit(t.constraints, t.values, more, previous=first, **kwargs)  # type: ignore[arg-type]
    assert (seeded.ok == plain.ok).all()
    with pytest.raises(IplosError, match="still suppressed"):
        audit(t.constraints, t.values, hidden, previous=plain, **kwargs)  # type: ignore[arg-type]
    cell = int(np.flatnonzero(more)[0])
    broken = (np.array([cell]), np.array([100.0]))  # moves one cell alone: breaks its sums
    published = int(np.flatnonzero(~more)[0])
    moves_published = (np.array([published, cell]), np.array([1.0, -1.0]))
    ignored = audit(t.constraints, t.values, more, witnesses=[broken, moves_published], **kwargs)  # type: ignore[arg-type]
    assert (ignored.ok == plain.ok).all()
    assert not np.isclose(ignored.upper[cell], t.values[cell] + 100.0)
