from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.errors import IplosError
from iplos.linkage import draw_serial_numbers
from iplos.linkage._serial import HIGHEST, LOWEST


@given(n=st.integers(0, 3000), seed=st.binary(min_size=16, max_size=32))
@settings(max_examples=40, deadline=None)
def test_distinct_nine_digit_and_reproducible(n: int, seed: bytes) -> None:
    a = draw_serial_numbers(n, seed=seed)
    assert a.dtype == np.int32 and len(a) == n
    assert len(np.unique(a)) == n
    assert n == 0 or (a.min() >= LOWEST and a.max() <= HIGHEST)
    assert np.array_equal(a, draw_serial_numbers(n, seed=seed))


def test_fresh_seeds_give_unrelated_numbers() -> None:
    a, b = draw_serial_numbers(1000), draw_serial_numbers(1000)
    # Not a permutation of each other: a fresh seed per delivery draws new numbers.
    assert len(set(a.tolist()) & set(b.tolist())) < 10


@given(seed=st.binary(min_size=16, max_size=16))
@settings(max_examples=20, deadline=None)
def test_excluded_numbers_never_drawn(seed: bytes) -> None:
    first = draw_serial_numbers(2000, seed=seed)
    second = draw_serial_numbers(2000, seed=seed, exclude=first.tolist())
    assert not set(first.tolist()) & set(second.tolist())


def test_bad_arguments() -> None:
    with pytest.raises(IplosError, match="negative"):
        draw_serial_numbers(-1)
    with pytest.raises(IplosError, match="16 bytes"):
        draw_serial_numbers(3, seed=b"short")
