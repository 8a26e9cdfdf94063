"""Region hierarchies: kommune -> fylke -> landsdel -> all, and kommune -> centrality -> all."""

from __future__ import annotations

from pathlib import Path

import pytest

from iplos.catalog import regions
from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError

YEARS = range(2006, 2025)


@pytest.mark.parametrize("year", YEARS)
def test_kommune_hierarchy_nests_and_covers(year: int) -> None:
    h = regions.kommune_hierarchy(year)
    assert h.level_names == ("kommune", "fylke", "landsdel", "all")
    codes = [m.code for m in regions.municipalities(year)]
    assert sorted(h.leaves) == codes
    assert all(h.generalize(c, "fylke") == c[:2] for c in codes)
    assert set(h.values("fylke")) == {c.code for c in regions.counties(year)}
    assert len(h.values("landsdel")) == 5 and h.values("all") == ("*",)
    # Rebuilding from the rows re-checks strict nesting.
    Hierarchy.from_rows(h.name, h.rows, level_names=h.level_names)


@pytest.mark.parametrize("year", YEARS)
def test_centrality_hierarchy_nests_and_covers(year: int) -> None:
    h = regions.kommune_centrality_hierarchy(year)
    assert h.level_names == ("kommune", "sentralitetsklasse", "all")
    assert sorted(h.leaves) == [m.code for m in regions.municipalities(year)]
    assert set(h.values("sentralitetsklasse")) <= {"1", "2", "3", "4", "5", "6"}


def test_landsdel_of_known_kommuner() -> None:
    assert regions.kommune_hierarchy(2010).generalize("1902", "landsdel").startswith("Nord-Norge")
    assert regions.kommune_hierarchy(2017).generalize("1601", "landsdel").startswith("Trøndelag")
    assert regions.kommune_hierarchy(2024).generalize("4204", "landsdel") == "Agder"
    assert regions.kommune_centrality_hierarchy(2024).generalize("0301", 1) == "1"


def test_cached() -> None:
    assert regions.kommune_hierarchy(2015) is regions.kommune_hierarchy(2015)


def test_arx_round_trip(tmp_path: Path) -> None:
    h = regions.kommune_hierarchy(2019)
    path = tmp_path / "kommune.csv"
    h.to_arx_csv(path)
    back = Hierarchy.read_arx_csv(path, name=h.name, level_names=h.level_names)
    assert back.rows == h.rows


def test_year_outside_range() -> None:
    with pytest.raises(IplosError, match="2005"):
        regions.kommune_hierarchy(2005)
