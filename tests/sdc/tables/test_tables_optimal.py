"""The optimal method: never worse than the fast pattern it starts from, and it passes the audit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from test_tables_properties import _table, tables

from iplos.sdc.tables import MinCount, protect


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_optimal_costs_no_more_than_fast(case: tuple[np.ndarray, bool]) -> None:
    leaves, hierarchical = case
    t = _table(leaves, hierarchical)
    fast = protect(t, [MinCount(5)], secondary="fast")
    opt = protect(t, [MinCount(5)], secondary="optimal", audit_intervals="exact")
    assert opt.method == "optimal"
    assert opt.audit is not None and opt.audit.passed
    assert opt.details["cost"]["suppressed"] <= fast.details["cost"]["suppressed"] + 1e-9


def test_optimal_beats_fast_on_a_hierarchical_table() -> None:
    leaves = np.array(
        [[3.0, 9.0, 11.0, 7.0], [8.0, 2.0, 6.0, 12.0], [9.0, 9.0, 4.0, 10.0], [5.0, 14.0, 8.0, 1.0]]
    )
    t = _table(leaves, True)
    fast = protect(t, [MinCount(5)], secondary="fast")
    opt = protect(t, [MinCount(5)], secondary="optimal")
    details = opt.details["optimal"]
    assert details["finished"] and details["proven_optimal"]
    assert opt.audit is not None and opt.audit.passed
    assert opt.details["cost"]["suppressed"] <= fast.details["cost"]["suppressed"]
