"""Reading the package data of `iplos.catalog.regions` (see data/README.md), each file once."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from iplos.errors import IplosError

FIRST_YEAR = 2006
LAST_YEAR = 2024
FIRST_DATE = dt.date(FIRST_YEAR, 1, 1)
LAST_DATE = dt.date(LAST_YEAR, 12, 31)


def data_file(name: str) -> Traversable:
    """A file of the package data folder."""
    return resources.files("iplos.catalog.regions").joinpath("data", name)


def read_csv(name: str) -> list[dict[str, str]]:
    """All rows of a package CSV file as dicts; a missing file is an error naming it."""
    path = data_file(name)
    try:
        with path.open("r", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise IplosError(
            f"package data file regions/data/{name} is missing; rebuild it with tools/build_regions_data.py"
        ) from None


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Version:
    """One version of KLASS 131 (Standard for kommuneinndeling): valid from its start to its end."""

    valid_from: dt.date
    valid_to: dt.date | None
    size: int


@dataclass(frozen=True)
class Interval:
    """An unbroken run of versions in which a code carried one name."""

    code: str
    name: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class Change:
    """One row of the KLASS 131 change table."""

    date: dt.date
    old_code: str
    old_name: str
    new_code: str
    new_name: str


@cache
def versions() -> tuple[Version, ...]:
    rows = read_csv("versions.csv")
    out = []
    for r in rows:
        start = _date(r["valid_from"])
        assert start is not None
        out.append(Version(start, _date(r["valid_to"]), int(r["kommuner"])))
    return tuple(sorted(out, key=lambda v: v.valid_from))


@cache
def intervals() -> tuple[Interval, ...]:
    out = []
    for r in read_csv("kommuneinndeling.csv"):
        start = _date(r["valid_from"])
        assert start is not None
        out.append(Interval(r["code"], r["name"], start, _date(r["valid_to"])))
    return tuple(out)


@cache
def intervals_by_code() -> dict[str, tuple[Interval, ...]]:
    grouped: dict[str, list[Interval]] = {}
    for iv in intervals():
        grouped.setdefault(iv.code, []).append(iv)
    return {code: tuple(sorted(ivs, key=lambda i: i.valid_from)) for code, ivs in grouped.items()}


@cache
def changes() -> tuple[Change, ...]:
    out = []
    for r in read_csv("changes.csv"):
        date = _date(r["date"])
        assert date is not None
        out.append(Change(date, r["old_code"], r["old_name"], r["new_code"], r["new_name"]))
    return tuple(out)


@cache
def fylke_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in read_csv("fylker.csv")}


@cache
def version_members(index: int) -> dict[str, str]:
    """Code -> name of every kommune in version `index` (position in `versions()`)."""
    start = versions()[index].valid_from
    return {
        iv.code: iv.name
        for iv in intervals()
        if iv.valid_from <= start and (iv.valid_to is None or start < iv.valid_to)
    }
