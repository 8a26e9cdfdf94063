"""Local suppression reaches k without removing records."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdc_builders import Case, cases

from iplos.errors import IplosError
from iplos.sdc import FrequencyTable, local_suppression


@settings(max_examples=80, deadline=None)
@given(case=cases(max_rows=60, with_sensitive=False), k=st.integers(1, 6))
def test_every_class_reaches_k(case: Case, k: int) -> None:
    freq = FrequencyTable.from_columns(case.columns(), case.names, case.hierarchies)
    if freq.n_records < k:
        with pytest.raises(IplosError):
            local_suppression(freq, k)
        return
    result = local_suppression(freq, k)
    classes: dict[tuple[int, ...], int] = {}
    q = len(result.codes)
    for i in range(freq.n_rows):
        key = tuple(int(c[i]) for c in result.codes)
        extra = int(result.fully_blanked[i])
        classes[key] = classes.get(key, 0) + int(freq.counts[i]) - extra
        if extra:
            classes[(-1,) * q] = classes.get((-1,) * q, 0) + extra
    classes = {key: v for key, v in classes.items() if v}
    assert min(classes.values()) >= k
    assert sum(classes.values()) == freq.n_records  # no record removed
    # Only blanking: a kept value is the original value.
    for orig, new in zip(freq.codes, result.codes, strict=True):
        kept = new >= 0
        assert np.array_equal(orig[kept], new[kept])
    assert result.cells_suppressed == sum(result.cells_by_attribute.values())


def test_blanks_only_what_is_needed() -> None:
    from sdc_builders import nested_hierarchy

    a, b = nested_hierarchy("a", 4, 2), nested_hierarchy("b", 4, 2)
    cols = {"a": ["v0"] * 5 + ["v0"], "b": ["v0"] * 5 + ["v1"]}
    freq = FrequencyTable.from_columns(cols, ["a", "b"], [a, b])
    result = local_suppression(freq, 2)
    assert result.cells_suppressed <= 4
