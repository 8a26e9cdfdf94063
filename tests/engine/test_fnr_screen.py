"""The engine's fødselsnummer screen catches every number `iplos.ident` calls valid."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos import engine
from iplos.engine._fnr import looks_like_fnr
from iplos.ident import generate, is_valid


@settings(max_examples=200, deadline=None)
@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)),
    sex=st.sampled_from([1, 2]),
    kind=st.sampled_from(["fnr", "dnr", "hnr"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_generated_number_is_caught(birth: dt.date, sex: int, kind: str, seed: int) -> None:
    number = generate(birth, sex, np.random.default_rng(seed), kind=kind)  # type: ignore[arg-type]
    assert looks_like_fnr([number]).tolist() == [True]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=11, max_size=11), min_size=1, max_size=50))
def test_screen_is_a_superset_of_ident(values: list[str]) -> None:
    flags = looks_like_fnr(values)
    for value, flag in zip(values, flags.tolist(), strict=True):
        if is_valid(value):
            assert flag, "a valid number slipped through"


def test_random_numbers_are_mostly_not_flagged() -> None:
    rng = np.random.default_rng(1)
    values = [f"{v:011d}" for v in rng.integers(0, 10**11, size=20_000)]
    share = looks_like_fnr(values).mean()
    assert share < 0.02  # date plausibility and both control digits reject most random numbers
    assert looks_like_fnr([]).shape == (0,)


def test_public_api_is_pinned() -> None:
    assert engine.__all__ == [
        "GAPS",
        "RULES",
        "Engine",
        "ExtractRejected",
        "LoadSummary",
        "RegisterStore",
        "TableData",
        "ValidationReport",
        "connect",
        "load_extract",
        "validate_extract",
    ]
