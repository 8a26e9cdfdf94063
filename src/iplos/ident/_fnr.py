"""Fødselsnummer, D-, H- and FH-numbers: parse, validate and generate one number.

An 11-digit Norwegian identity number is ``DDMMYY III K1 K2``: birth date, a three-digit
individnummer and two mod-11 control digits (forskrift om folkeregistrering § 2-2-1; Skatteetaten,
"Nytt fødselsnummer fra 2032").

| kind | how to recognise it | birth date | sex |
|---|---|---|---|
| ``fnr`` | DD 01-31, MM 01-12 | yes (century from the individnummer) | 9th digit odd = mann |
| ``dnr`` | first digit + 4 (DD 41-71) | yes | yes |
| ``hnr`` | third digit + 4 (MM 41-52) | yes | yes |
| ``fhnr`` | first digit 8 or 9 | no | no |

Control digits: ``K1`` has weights 3,7,6,1,8,9,4,5,2 and ``K2`` weights 5,4,3,2,7,6,5,4,3,2 (over the
first nine digits and ``K1``); a computed digit of 10 means the individnummer cannot be used. From
2032 (numbers issued from 1 January 2032, whatever the birth year) ``K1`` may take four values, the
classic one plus 0-3 modulo 11 (never 10); such numbers carry no sex and their individnummer no
century. A number whose ``K1`` is the classic one is read the classic way.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Literal

import numpy as np

from iplos.errors import IplosError, Problem, redact

__all__ = [
    "K1_WEIGHTS",
    "K2_WEIGHTS",
    "NumberKind",
    "PersonNumber",
    "Sex",
    "century_of",
    "control_digits",
    "generate",
    "is_valid",
    "parse",
]

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

NumberKind = Literal["fnr", "dnr", "hnr", "fhnr"]
ALL_KINDS: frozenset[str] = frozenset({"fnr", "dnr", "hnr", "fhnr"})


class Sex(enum.IntEnum):
    """Sex as coded in the registers (kjonn): 1 mann, 2 kvinne."""

    MANN = 1
    KVINNE = 2


@dataclass(frozen=True)
class PersonNumber:
    """What a valid identity number says about its holder.

    ``birth_date`` and ``sex`` are None where the number does not carry them (FH-numbers; numbers
    issued under the 2032 rule, whose individnummer gives no century and whose 9th digit no sex).
    ``rule_2032`` is True when the first control digit is valid only under the 2032 rule, or the
    individnummer fits no classic century series.
    """

    kind: NumberKind
    birth_date: dt.date | None
    sex: Sex | None
    rule_2032: bool = False

    def __repr__(self) -> str:  # the number itself is never kept, so nothing to hide
        return (
            f"PersonNumber(kind={self.kind!r}, birth_date={self.birth_date!r}, "
            f"sex={self.sex!r}, rule_2032={self.rule_2032!r})"
        )


def control_digits(first9: str, offset: int = 0) -> tuple[int, int] | None:
    """Control digits ``(K1, K2)`` for nine digits, or None when either computes to 10.

    ``offset`` (0-3) picks one of the four first control digits the 2032 rule allows.

    >>> control_digits("020132999")
    (9, 7)
    >>> control_digits("301082999", offset=1)
    (3, 9)
    """
    digits = [int(c) for c in first9]
    k1 = (11 - sum(w * d for w, d in zip(K1_WEIGHTS, digits, strict=True)) % 11 + offset) % 11
    if k1 == 10:
        return None
    k2 = (11 - sum(w * d for w, d in zip(K2_WEIGHTS, [*digits, k1], strict=True)) % 11) % 11
    if k2 == 10:
        return None
    return k1, k2


def century_of(individnummer: int, yy: int) -> int | None:
    """Century (1800, 1900, 2000) the classic individnummer series gives, or None if none fits.

    Series (forskrift om folkeregistrering § 2-2-1): 1854-1899 use 749-500, 1900-1999 use 499-000,
    1940-1999 also 999-900, 2000-2039 use 999-500.
    """
    if individnummer < 500:
        return 1900
    if individnummer < 750 and yy >= 54:
        return 1800
    if yy < 40:
        return 2000
    if individnummer >= 900:
        return 1900
    return None


def _fail(number: str, message: str, rule: str) -> IplosError:
    # Never echo the number: the error carries its length and a mask only.
    return IplosError(
        "not a valid identity number",
        [Problem(message=message, column="fnr", value=redact(number), rule=rule)],
    )


def _check(number: object, allow_2032: bool) -> PersonNumber:
    if not isinstance(number, str):
        raise IplosError(
            "not a valid identity number",
            [Problem(message=f"expected a string, got {type(number).__name__}", rule="type")],
        )
    if len(number) != 11 or not number.isascii() or not number.isdigit():
        raise _fail(number, f"must be 11 digits (got {len(number)} characters)", "format")
    d = [int(c) for c in number]
    s1 = sum(w * x for w, x in zip(K1_WEIGHTS, d[:9], strict=True)) + d[9]
    r1 = s1 % 11
    if r1 != 0 and not (allow_2032 and r1 <= 3):
        raise _fail(number, "first control digit does not match", "control-digit-1")
    if sum(w * x for w, x in zip(K2_WEIGHTS, d[:10], strict=True)) % 11 != (11 - d[10]) % 11:
        raise _fail(number, "second control digit does not match", "control-digit-2")
    new_rule = r1 != 0
    day, month, yy, ind = d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5], d[6] * 100 + d[7] * 10 + d[8]
    if d[0] >= 8:
        return PersonNumber("fhnr", None, None, new_rule)
    kind: NumberKind = "fnr"
    if day > 40:
        kind, day = "dnr", day - 40
    if month > 40:
        if kind == "dnr":
            raise _fail(number, "both day and month are shifted (D- and H-number at once)", "date")
        kind, month = "hnr", month - 40
    century = None if new_rule else century_of(ind, yy)
    if century is None and not allow_2032:
        raise _fail(number, "individnummer fits no century series for the year", "century")
    # A 2032-rule number gives no century: accept 29 February when any century allows it.
    year = (century if century is not None else 2000) + yy
    try:
        born = dt.date(year, month, day)
    except ValueError:
        raise _fail(number, "digits 1-6 are not a calendar date", "date") from None
    if century is None:
        return PersonNumber(kind, None, None, True)
    return PersonNumber(kind, born, Sex.MANN if d[8] % 2 else Sex.KVINNE, False)


def parse(number: str, *, allow_2032: bool = True) -> PersonNumber:
    """Read kind, birth date and sex from an identity number; IplosError if it is not valid.

    With ``allow_2032=False`` only numbers valid before 2032 are accepted.

    >>> parse("30108299920")
    PersonNumber(kind='fnr', birth_date=datetime.date(1982, 10, 30), sex=<Sex.MANN: 1>, rule_2032=False)
    >>> parse("30108299939").rule_2032
    True
    """
    return _check(number, allow_2032)


def is_valid(number: object, *, kinds: frozenset[str] = ALL_KINDS, allow_2032: bool = True) -> bool:
    """True when ``number`` is a valid identity number of one of ``kinds``.

    >>> is_valid("02013299997"), is_valid("02013299998")
    (True, False)
    """
    try:
        return _check(number, allow_2032).kind in kinds
    except IplosError:
        return False


def _series(year: int, kind: str) -> tuple[int, int]:
    if kind not in ("fnr", "dnr", "hnr"):
        raise IplosError(f"cannot generate numbers of kind {kind!r}; use 'fnr', 'dnr' or 'hnr'")
    if 1854 <= year <= 1899:
        return 500, 749
    if 1900 <= year <= 1999:
        return 0, 499
    if 2000 <= year <= 2039:
        return 500, 999
    raise IplosError(f"no classic individnummer series for birth year {year} (1854-2039)")


def generate(
    birth_date: dt.date,
    sex: Sex | int,
    rng: np.random.Generator,
    kind: Literal["fnr", "dnr", "hnr"] = "fnr",
) -> str:
    """A random valid number of ``kind`` for a person born ``birth_date`` of ``sex`` (1 or 2).

    The individnummer is drawn from the classic series of the birth year, with an odd last digit
    for men and even for women; numbers whose control digit would be 10 are drawn again.
    """
    if int(sex) not in (1, 2):
        raise IplosError(f"sex must be 1 (mann) or 2 (kvinne), not {sex!r}")
    lo, hi = _series(birth_date.year, kind)
    day = birth_date.day + (40 if kind == "dnr" else 0)
    month = birth_date.month + (40 if kind == "hnr" else 0)
    prefix = f"{day:02d}{month:02d}{birth_date.year % 100:02d}"
    for _ in range(1000):
        ind = int(rng.integers(lo, hi + 1))
        ind = ind - ind % 2 + (1 if int(sex) == Sex.MANN else 0)
        if ind > hi:
            ind -= 2
        first9 = f"{prefix}{ind:03d}"
        ks = control_digits(first9)
        if ks is not None:
            return f"{first9}{ks[0]}{ks[1]}"
    raise IplosError("could not draw a valid individnummer")  # pragma: no cover - p < 1e-80
