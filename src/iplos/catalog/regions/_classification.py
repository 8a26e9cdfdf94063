"""Kommuner and fylker valid at a date, from SSB's KLASS 131 versions 2006-2024.

A year stands for 1 January of that year: the IPLOS årgang Y is coded in the classification valid on
1 January Y (changes to the kommune structure take effect on 1 January, so that version is valid the
whole year). The fylke of a kommune is the first two digits of its code (KLASS 131 defines it so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from iplos.catalog.regions import _data
from iplos.errors import IplosError

DateLike = int | str | dt.date


@dataclass(frozen=True)
class Municipality:
    """A kommune as named in one run of KLASS versions.

    `valid_from`/`valid_to` bound the run of versions in which the code carried this name
    (`valid_to` exclusive, None while still valid). Runs are cut at 2006-01-01, the first version
    carried here, so an older kommune shows `valid_from` 2006-01-01.
    """

    code: str
    name: str
    fylke_code: str
    fylke_name: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class County:
    """A fylke: the first two digits of its kommuner's codes, and its name."""

    code: str
    name: str


def as_date(at: DateLike | dt.datetime) -> dt.date:
    """Resolve a year (1 January), an ISO date string or a date; outside 2006-2024 is an error.

    >>> as_date(2015)
    datetime.date(2015, 1, 1)
    >>> as_date("2020-06-30")
    datetime.date(2020, 6, 30)
    """
    if isinstance(at, dt.datetime):
        date = at.date()
    elif isinstance(at, dt.date):
        date = at
    elif isinstance(at, bool):
        raise IplosError(f"not a year or date: {at!r}")
    elif isinstance(at, int):
        date = _year_date(at)
    elif isinstance(at, str):
        text = at.strip()
        if text.isdigit() and len(text) == 4:
            date = _year_date(int(text))
        else:
            try:
                date = dt.date.fromisoformat(text)
            except ValueError:
                raise IplosError(f"not a year or an ISO date (YYYY-MM-DD): {at!r}") from None
    else:
        raise IplosError(f"not a year or date: {at!r}")
    if not _data.FIRST_DATE <= date <= _data.LAST_DATE:
        raise IplosError(
            f"date {date.isoformat()} is outside the regional classification carried by iplos "
            f"({_data.FIRST_YEAR}-01-01 to {_data.LAST_YEAR}-12-31)"
        )
    return date


def _year_date(year: int) -> dt.date:
    if not _data.FIRST_YEAR <= year <= _data.LAST_YEAR:
        raise IplosError(
            f"year {year} is outside the regional classification carried by iplos "
            f"({_data.FIRST_YEAR}-{_data.LAST_YEAR})"
        )
    return dt.date(year, 1, 1)


def version_index(at: DateLike | dt.datetime) -> int:
    """Position in `_data.versions()` of the KLASS version valid at `at`."""
    date = as_date(at)
    for i, version in enumerate(_data.versions()):
        if version.valid_from <= date and (version.valid_to is None or date < version.valid_to):
            return i
    raise IplosError(f"no KLASS 131 version is valid on {date.isoformat()}")  # pragma: no cover


def fylke_name(code: str) -> str:
    try:
        return _data.fylke_names()[code]
    except KeyError:
        raise IplosError(f"fylke {code} has no name in regions/data/fylker.csv") from None


@cache
def _municipalities(index: int) -> tuple[Municipality, ...]:
    start = _data.versions()[index].valid_from
    out = []
    for iv in _data.intervals():
        if iv.valid_from <= start and (iv.valid_to is None or start < iv.valid_to):
            fylke = iv.code[:2]
            out.append(Municipality(iv.code, iv.name, fylke, fylke_name(fylke), iv.valid_from, iv.valid_to))
    return tuple(sorted(out, key=lambda m: m.code))


def municipalities(at: DateLike | dt.datetime) -> list[Municipality]:
    """The kommuner valid at `at` (a year = 1 January of it), sorted by code.

    >>> len(municipalities(2007)), len(municipalities(2020)), len(municipalities(2024))
    (431, 356, 357)
    """
    return list(_municipalities(version_index(at)))


def codes(at: DateLike | dt.datetime) -> tuple[str, ...]:
    """Kommune codes valid at `at`, sorted."""
    return tuple(m.code for m in _municipalities(version_index(at)))


def counties(at: DateLike | dt.datetime) -> list[County]:
    """The fylker valid at `at`, sorted by code.

    >>> [len(counties(y)) for y in (2017, 2018, 2020, 2024)]
    [19, 18, 11, 15]
    """
    seen = dict.fromkeys(m.fylke_code for m in _municipalities(version_index(at)))
    return [County(code, fylke_name(code)) for code in sorted(seen)]


def municipality(code: str, at: DateLike | dt.datetime) -> Municipality:
    """The kommune with `code` at `at`; an unknown code is an error that says when it did exist."""
    date = as_date(at)
    text = normalise_code(code)
    for m in _municipalities(version_index(date)):
        if m.code == text:
            return m
    raise IplosError(not_valid_message(text, date))


def county_of(code: str, at: DateLike | dt.datetime) -> County:
    """The fylke that kommune `code` belonged to at `at`."""
    m = municipality(code, at)
    return County(m.fylke_code, m.fylke_name)


def normalise_code(code: object) -> str:
    """A kommune code as 4 digits ('301' -> '0301'); anything else is an error naming it."""
    text = str(code).strip()
    if text.isdigit() and len(text) == 3:
        text = "0" + text
    if not (text.isdigit() and len(text) == 4):
        raise IplosError(f"not a kommune code (4 digits): {code!r}")
    return text


def not_valid_message(code: str, date: dt.date) -> str:
    """'kommune 1234 did not exist on 2015-01-01; it existed 2006-2017 as X' (or never existed)."""
    runs = _data.intervals_by_code().get(code)
    head = f"kommune {code} did not exist on {date.isoformat()}"
    if not runs:
        return f"{head}; no kommune had that code {_data.FIRST_YEAR}-{_data.LAST_YEAR}"
    parts = []
    for run in runs:
        last = (run.valid_to - dt.timedelta(days=1)).year if run.valid_to else _data.LAST_YEAR
        parts.append(f"{run.valid_from.year}-{last} as {run.name}")
    return f"{head}; it existed " + ", ".join(parts)
