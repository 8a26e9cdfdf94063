"""Properties on generated tables: after secondary suppression the audit finds no primary cell
recoverable within its protection interval."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iplos.catalog.hierarchy import Hierarchy
from iplos.sdc.tables import Dimension, MinCount, Table, audit, protect
from iplos.sdc.tables._build import _roll_up


def _table(leaves: np.ndarray, hierarchical: bool) -> Table:
    n_r, n_c = leaves.shape
    if hierarchical:
        rows = [[f"r{i}", f"g{i % 2}", "*"] for i in range(n_r)]
        dim_r = Dimension.from_hierarchy(Hierarchy.from_rows("r", rows, ["r", "g", "all"]), "r")
    else:
        dim_r = Dimension.flat("r", [f"r{i}" for i in range(n_r)])
    dim_c = Dimension.flat("c", [f"c{j}" for j in range(n_c)])
    dims = (dim_r, dim_c)
    full = np.zeros((dim_r.size, dim_c.size))
    for i in range(n_r):
        for j in range(n_c):
            full[dim_r.leaf_of[f"r{i}"], dim_c.leaf_of[f"c{j}"]] = leaves[i, j]
    values = _roll_up(full.reshape(-1), dims)
    return Table(dimensions=dims, values=values, contributors=values.astype(np.int64))


tables = st.tuples(st.integers(2, 4), st.integers(2, 4), st.booleans()).flatmap(
    lambda s: st.tuples(
        st.lists(st.integers(0, 15), min_size=s[0] * s[1], max_size=s[0] * s[1]).map(
            lambda v: np.array(v, dtype=float).reshape(s[0], s[1])
        ),
        st.just(s[2]),
    )
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_fast_and_optimal_patterns_pass_the_audit(case: tuple[np.ndarray, bool]) -> None:
    leaves, hierarchical = case
    t = _table(leaves, hierarchical)
    for method in ("fast", "optimal"):
        result = protect(t, [MinCount(5)], secondary=method)
        assert result.audit is not None
        assert result.audit.passed, (method, leaves.tolist())
        assert (result.suppressed >= result.primary.mask).all()  # type: ignore[union-attr]


@settings(max_examples=25, deadline=None)
@given(tables)
def test_primary_suppression_alone_fails_where_it_should(case: tuple[np.ndarray, bool]) -> None:
    leaves, hierarchical = case
    t = _table(leaves, hierarchical)
    result = protect(t, [MinCount(5)], secondary="none")
    assert result.audit is not None
    # a primary cell alone in some sum (every other cell of it published) is recomputed exactly
    a = t.constraints.tocsr()
    supp = result.suppressed
    alone = np.zeros(t.n_cells, dtype=bool)
    for r in range(a.shape[0]):
        members = a.indices[a.indptr[r] : a.indptr[r + 1]]
        hidden = members[supp[members]]
        if hidden.size == 1:
            alone[hidden[0]] = True
    if alone.any():
        assert not result.audit.passed
        assert set(np.flatnonzero(alone)) <= set(result.audit.exact.tolist())


@settings(max_examples=20, deadline=None)
@given(tables, st.integers(0, 2**16))
def test_audit_intervals_contain_the_truth(case: tuple[np.ndarray, bool], seed: int) -> None:
    leaves, hierarchical = case
    t = _table(leaves, hierarchical)
    rng = np.random.default_rng(seed)
    hidden = rng.random(t.n_cells) < 0.4
    result = audit(t.constraints, t.values, hidden)
    inside = (result.lower[hidden] <= t.values[hidden] + 1e-6) & (
        t.values[hidden] <= result.upper[hidden] + 1e-6
    )
    assert inside.all()
