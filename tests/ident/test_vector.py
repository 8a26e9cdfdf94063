"""The vectorised validator agrees with the scalar one; bulk generation gives valid numbers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.errors import IplosError
from iplos.ident import generate_array, is_valid, is_valid_array, parse


def _near_valid(draw: st.DrawFn) -> str:
    return draw(st.text(alphabet="0123456789", min_size=11, max_size=11))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=11, max_size=11), min_size=1, max_size=300))
def test_array_agrees_with_scalar_on_random_digits(values: list[str]) -> None:
    expected = np.array([is_valid(v) for v in values])
    assert (is_valid_array(np.array(values)) == expected).all()
    assert (is_valid_array(pa.array(values)) == expected).all()
    strict = np.array([is_valid(v, allow_2032=False) for v in values])
    assert (is_valid_array(np.array(values), allow_2032=False) == strict).all()


def test_array_agrees_with_scalar_on_many_random_numbers() -> None:
    rng = np.random.default_rng(7)
    digits = rng.integers(0, 10, size=(200_000, 11)).astype(np.uint8) + 48
    values = digits.view("S11").reshape(-1).astype("U11")
    got = is_valid_array(values)
    sample = rng.choice(len(values), 5000, replace=False)
    valid_idx = np.flatnonzero(got)[:2000]
    for i in np.concatenate([sample, valid_idx]):
        assert got[i] == is_valid(str(values[i])), values[i]


def test_odd_inputs() -> None:
    values = ["15108695088", None, "1510869508", "151086950880", "15108695O88", "15108695088 ", "١٥١٠٨٦٩٥٠٨٨"]
    expected = [True, False, False, False, False, False, False]
    assert is_valid_array(np.array(values, dtype=object)).tolist() == expected
    assert is_valid_array(pa.chunked_array([values[:3], values[3:]])).tolist() == expected
    assert is_valid_array(np.array(values[2:4])).tolist() == [False, False]
    assert is_valid_array(np.array([b"15108695088", b"15108695077"])).tolist() == [True, False]
    assert is_valid_array(np.array([], dtype="U11")).tolist() == []
    assert is_valid_array(pa.array(values).slice(1, 3)).tolist() == [False, False, False]
    assert is_valid_array(np.array(["15108695088"]), kinds=frozenset({"dnr"})).tolist() == [False]
    with pytest.raises(IplosError):
        is_valid_array(np.array([1, 2]))
    with pytest.raises(IplosError):
        is_valid_array(np.array(["1"]), kinds=frozenset({"xnr"}))


def test_generate_array_valid_and_faithful() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    days = rng.integers(np.datetime64("1900-01-01").astype(int), np.datetime64("2024-12-31").astype(int), n)
    born = days.astype("datetime64[D]")
    sex = rng.integers(1, 3, n)
    dnr = rng.random(n) < 0.1
    numbers = generate_array(born, sex, rng, kind=dnr)
    assert numbers.dtype == np.dtype("U11")
    assert is_valid_array(numbers, allow_2032=False).all()
    for i in range(0, n, 97):
        p = parse(str(numbers[i]))
        assert p.birth_date is not None and np.datetime64(p.birth_date) == born[i]
        assert int(p.sex or 0) == sex[i]
        assert p.kind == ("dnr" if dnr[i] else "fnr")


def test_generate_array_rejects_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(IplosError):
        generate_array(np.array(["2050-01-01"], dtype="datetime64[D]"), np.array([1]), rng)
    with pytest.raises(IplosError):
        generate_array(np.array(["1950-01-01"], dtype="datetime64[D]"), np.array([3]), rng)
    with pytest.raises(IplosError):
        generate_array(np.array(["1950-01-01"], dtype="datetime64[D]"), np.array([1, 2]), rng)
