"""Kommuner and fylker valid at a date (KLASS 131, 2006-2024)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iplos.catalog import regions
from iplos.catalog.regions import County
from iplos.errors import IplosError

KOMMUNER = {
    2006: 431, 2007: 431, 2008: 430, 2009: 430, 2010: 430, 2011: 430, 2012: 429, 2013: 428, 2014: 428,
    2015: 428, 2016: 428, 2017: 426, 2018: 422, 2019: 422, 2020: 356, 2021: 356, 2022: 356, 2023: 356,
    2024: 357,
}  # fmt: skip
FYLKER = {
    year: 19 if year <= 2017 else 18 if year <= 2019 else 11 if year <= 2023 else 15 for year in KOMMUNER
}


@pytest.mark.parametrize(("year", "expected"), sorted(KOMMUNER.items()))
def test_number_of_kommuner_per_year(year: int, expected: int) -> None:
    kommuner = regions.municipalities(year)
    assert len(kommuner) == expected
    assert len({m.code for m in kommuner}) == expected


@pytest.mark.parametrize(("year", "expected"), sorted(FYLKER.items()))
def test_number_of_fylker_per_year(year: int, expected: int) -> None:
    assert len(regions.counties(year)) == expected


def test_version_boundaries_are_exact() -> None:
    assert len(regions.municipalities("2007-12-31")) == 431
    assert len(regions.municipalities("2008-01-01")) == 430
    assert len(regions.municipalities(dt.date(2019, 12, 31))) == 422
    assert len(regions.municipalities(dt.datetime(2020, 1, 1, 12, 0))) == 356
    assert len(regions.municipalities("2024-12-31")) == 357


def test_year_string_means_first_of_january() -> None:
    assert regions.municipalities("2015") == regions.municipalities(2015)


def test_municipality_fields() -> None:
    halden = regions.municipality("0101", 2019)
    assert (halden.name, halden.fylke_code, halden.fylke_name) == ("Halden", "01", "Østfold")
    assert halden.valid_from == dt.date(2006, 1, 1)
    assert halden.valid_to == dt.date(2020, 1, 1)
    assert regions.municipality("3101", 2024).valid_to is None
    assert regions.municipality("301", 2024).code == "0301"


@pytest.mark.parametrize(
    ("code", "at", "county"),
    [
        ("0101", 2019, County("01", "Østfold")),
        ("3001", 2020, County("30", "Viken")),
        ("3101", 2024, County("31", "Østfold")),
        ("5001", 2018, County("50", "Trøndelag")),
        ("1601", 2017, County("16", "Sør-Trøndelag")),
        ("1567", 2018, County("15", "Møre og Romsdal")),
        ("5061", 2019, County("50", "Trøndelag")),
    ],
)
def test_county_of(code: str, at: int, county: County) -> None:
    assert regions.county_of(code, at) == county


def test_unknown_code_at_date_says_when_it_existed() -> None:
    with pytest.raises(IplosError) as err:
        regions.municipality("1601", 2019)
    message = str(err.value)
    assert "1601" in message and "2019-01-01" in message
    assert "2006-2017 as Trondheim" in message


def test_code_that_never_existed() -> None:
    with pytest.raises(IplosError, match="9998"):
        regions.municipality("9998", 2010)


@pytest.mark.parametrize("bad", ["12a4", "12345", "", "oslo"])
def test_malformed_code_is_named(bad: str) -> None:
    with pytest.raises(IplosError, match="not a kommune code"):
        regions.municipality(bad, 2010)


@pytest.mark.parametrize(
    ("at", "named"),
    [(2005, "2005"), (2025, "2025"), ("2005-12-31", "2005-12-31"), ("2025-01-01", "2025-01-01"),
     (dt.date(1999, 5, 1), "1999-05-01")],
)  # fmt: skip
def test_dates_outside_2006_2024_are_errors_naming_the_date(at: object, named: str) -> None:
    with pytest.raises(IplosError, match=named):
        regions.municipalities(at)  # type: ignore[arg-type]
    with pytest.raises(IplosError, match=named):
        regions.counties(at)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["next year", "2020-13-01", 3.5, True])
def test_not_a_date(bad: object) -> None:
    with pytest.raises(IplosError):
        regions.municipalities(bad)  # type: ignore[arg-type]


@given(st.dates(min_value=dt.date(2006, 1, 1), max_value=dt.date(2024, 12, 31)))
def test_any_date_matches_its_year_and_fylker_cover_kommuner(date: dt.date) -> None:
    kommuner = regions.municipalities(date)
    # Changes take effect on 1 January only, so a date gives its year's classification.
    assert kommuner == regions.municipalities(date.year)
    fylker = {c.code for c in regions.counties(date)}
    assert {m.fylke_code for m in kommuner} == fylker
    assert all(m.code[:2] == m.fylke_code for m in kommuner)
