"""Population by kommune (classification of the year), age and sex, 2006-2024."""

from __future__ import annotations

import pytest

from iplos.catalog import regions
from iplos.errors import IplosError

YEARS = range(2006, 2025)


@pytest.mark.parametrize("year", YEARS)
def test_population_covers_every_kommune_and_sums_to_norway(year: int) -> None:
    frame = regions.population(year)
    assert list(frame.columns) == ["kommune", "age", "sex", "persons"]
    codes = {m.code for m in regions.municipalities(year)}
    assert set(frame["kommune"]) == codes
    assert len(frame) == len(codes) * 106 * 2
    assert set(frame["age"]) == set(range(106)) and set(frame["sex"]) == {1, 2}
    assert (frame["persons"] >= 0).all()
    totals = regions.population_total(year)
    assert set(totals) == codes and min(totals.values()) > 0
    national = regions.national_population(year)
    assert abs(sum(totals.values()) - national) <= 0.01 * national


def test_totals_agree_with_the_long_table() -> None:
    frame = regions.population(2012)
    sums = frame.groupby("kommune")["persons"].sum().to_dict()
    assert sums == regions.population_total(2012)


def test_known_figures() -> None:
    # SSB 07459, 1 January 2024.
    assert regions.population_total(2024)["0301"] == 717710
    assert regions.national_population(2024) == 5550203
    by_sex = regions.population(2024).groupby("sex")["persons"].sum().to_dict()
    assert by_sex[1] > by_sex[2]


def test_returns_a_copy() -> None:
    frame = regions.population(2015)
    frame["persons"] = 0
    assert regions.population(2015)["persons"].sum() > 0


def test_sources_are_documented() -> None:
    sources = regions.population_sources(2010)
    assert set(sources) == {m.code for m in regions.municipalities(2010)}
    assert sources["0301"] == "b2024"
    assert sources["0719"].startswith("estimated")


@pytest.mark.parametrize("year", [2005, 2025])
def test_years_outside_range(year: int) -> None:
    with pytest.raises(IplosError, match=str(year)):
        regions.population(year)
    with pytest.raises(IplosError, match=str(year)):
        regions.population_total(year)


@pytest.mark.parametrize(
    ("year", "before", "after"),
    [
        (2020, ("0104", "0136"), ("3002",)),  # Moss + Rygge
        (2018, ("0722", "0723"), ("0729",)),  # Nøtterøy + Tjøme -> Færder
        (2024, ("1507",), ("1508", "1580")),  # Ålesund split
        (2017, ("0706", "0719", "0720", "0704"), ("0710", "0704")),  # Sandefjord, Andebu, Stokke (estimated)
    ],
)
def test_population_is_continuous_across_changes(
    year: int, before: tuple[str, ...], after: tuple[str, ...]
) -> None:
    """The same area a year apart differs by about a year's growth, not by a reform's artefact."""
    old = sum(regions.population_total(year - 1)[c] for c in before)
    new = sum(regions.population_total(year)[c] for c in after)
    assert abs(new - old) <= 0.03 * old
