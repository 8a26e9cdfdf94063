"""Fødselsnummer, D-, H-, FH-numbers and the 2032 rule: known numbers and properties of the control digits."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.errors import IplosError
from iplos.ident import Sex, control_digits, generate, is_valid, parse

# Published examples: Skatteetaten, "Nytt fødselsnummer fra 2032" (three worked examples), and the
# python-stdnum / dataprep documentation (15108695088 valid, 15108695077 invalid).
KNOWN_VALID = {
    "02013299997": ("fnr", dt.date(2032, 1, 2), Sex.MANN, False),
    "30108299920": ("fnr", dt.date(1982, 10, 30), Sex.MANN, False),
    "30108299939": ("fnr", None, None, True),
    "15108695088": ("fnr", dt.date(1986, 10, 15), Sex.KVINNE, False),
}
KNOWN_INVALID = ["15108695077", "02013299998", "30108299921", "1510869508", "151086950888", "1510869508a", ""]


@pytest.mark.parametrize(("number", "expected"), sorted(KNOWN_VALID.items()))
def test_known_valid(number: str, expected: tuple[object, ...]) -> None:
    p = parse(number)
    assert (p.kind, p.birth_date, p.sex, p.rule_2032) == expected
    assert is_valid(number)


@pytest.mark.parametrize("number", KNOWN_INVALID)
def test_known_invalid(number: str) -> None:
    assert not is_valid(number)
    with pytest.raises(IplosError):
        parse(number)


def test_skatteetaten_control_digit_examples() -> None:
    assert control_digits("020132999") == (9, 7)
    assert control_digits("301082999") == (2, 0)
    assert control_digits("301082999", offset=1) == (3, 9)


def test_constructed_d_h_fh_numbers() -> None:
    # Built from the algorithm: D-number = first digit + 4, H-number = third digit + 4.
    for prefix, kind in [("551086", "dnr"), ("155086", "hnr"), ("812345", "fhnr"), ("912345", "fhnr")]:
        p = parse(_make(prefix, 950))
        assert p.kind == kind
        if kind == "fhnr":
            assert p.birth_date is None and p.sex is None
        else:
            assert p.birth_date == dt.date(1986, 10, 15)
            assert p.sex == Sex.KVINNE


def _make(prefix: str, ind: int) -> str:
    """A valid number with the date digits ``prefix`` and the first usable individnummer from ``ind`` on."""
    for i in range(ind, ind + 40, 2):
        ks = control_digits(f"{prefix}{i:03d}")
        if ks is not None:
            return f"{prefix}{i:03d}{ks[0]}{ks[1]}"
    raise AssertionError(prefix)


def test_century_series() -> None:
    assert parse(_make("010160", 0)).birth_date == dt.date(1960, 1, 1)  # 000-499 -> 1900s
    assert parse(_make("010160", 950)).birth_date == dt.date(1960, 1, 1)  # 900-999, yy >= 40 -> 1900s
    assert parse(_make("010199", 600)).birth_date == dt.date(1899, 1, 1)  # 500-749, yy >= 54 -> 1800s
    assert parse(_make("010105", 600)).birth_date == dt.date(2005, 1, 1)  # 500-999, yy < 40 -> 2000s
    # 500-749 with yy 40-53 fits no classic series: valid only as a 2032-rule number.
    fifties = _make("010145", 600)
    assert not is_valid(fifties, allow_2032=False)
    p = parse(fifties)
    assert p.rule_2032 and p.birth_date is None and p.sex is None


def test_calendar_dates() -> None:
    assert parse(_make("290200", 500)).birth_date == dt.date(2000, 2, 29)
    assert not is_valid(_make("290200", 0))  # 000-499 reads as 1900, which was no leap year
    for prefix in ["300200", "320101", "011301", "000101", "010001", "415101"]:  # 415101: D and H at once
        assert not is_valid(_make(prefix, 0)), prefix


def test_kinds_filter() -> None:
    assert is_valid("15108695088", kinds=frozenset({"fnr"}))
    assert not is_valid("15108695088", kinds=frozenset({"dnr"}))
    assert not is_valid(15108695088)


def test_errors_never_echo_the_number() -> None:
    for number in ["15108695077", "1510869508x", "30028695081", "301082999"]:
        with pytest.raises(IplosError) as info:
            parse(number)
        text = str(info.value) + repr(info.value.problems)
        assert number not in text
        assert number[:6] not in text


birth_dates = st.dates(min_value=dt.date(1854, 1, 1), max_value=dt.date(2039, 12, 31))


@settings(max_examples=200, deadline=None)
@given(birth_dates, st.sampled_from([1, 2]), st.sampled_from(["fnr", "dnr", "hnr"]), st.integers(0, 2**32))
def test_generate_is_valid_and_round_trips(born: dt.date, sex: int, kind: str, seed: int) -> None:
    if born.year < 1900 and born.year % 100 < 54:
        return  # 1854-1899 only: the 500-749 series needs yy >= 54
    number = generate(born, sex, np.random.default_rng(seed), kind=kind)  # type: ignore[arg-type]
    p = parse(number, allow_2032=False)
    assert (p.kind, p.birth_date, p.sex, p.rule_2032) == (kind, born, Sex(sex), False)


@settings(max_examples=200, deadline=None)
@given(birth_dates, st.sampled_from([1, 2]), st.integers(0, 2**32), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_change_is_caught(born: dt.date, sex: int, seed: int, pos: int, delta: int) -> None:
    if born.year < 1900 and born.year % 100 < 54:
        return
    number = generate(born, sex, np.random.default_rng(seed))
    digits = list(number)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    changed = "".join(digits)
    # Classic rule: mod 11 with weights 1-9 and 10 != 0 catches every single-digit change.
    assert not is_valid(changed, allow_2032=False)
    if is_valid(changed):
        # Only the 2032 rule can accept it: the first control digit off by 1-3 (mod 11).
        d = [int(c) for c in changed]
        r1 = (sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d[:9], strict=True)) + d[9]) % 11
        assert 1 <= r1 <= 3
        assert parse(changed).rule_2032


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 3))
def test_2032_rule_accepts_four_first_control_digits(first9: str, offset: int) -> None:
    ks = control_digits(first9, offset=offset)
    if ks is None:
        return
    number = f"{first9}{ks[0]}{ks[1]}"
    classic = control_digits(first9)
    d0 = int(first9[0])
    if d0 >= 8:
        assert is_valid(number) and parse(number).kind == "fhnr"
        return
    if offset and (classic is None or classic[0] != ks[0]):
        assert not is_valid(number, allow_2032=False)
    if is_valid(number) and offset:
        p = parse(number)
        assert p.rule_2032 and p.sex is None and p.birth_date is None
