"""The public API of iplos.catalog.regions is pinned."""

from __future__ import annotations

import iplos.catalog.regions as regions


def test_all_is_pinned() -> None:
    assert sorted(regions.__all__) == [
        "Candidate", "County", "HistoryEvent", "Municipality", "counties", "county_of", "harmonise",
        "harmonise_many", "history", "kommune_centrality_hierarchy", "kommune_hierarchy", "municipalities",
        "municipality", "national_population", "population", "population_sources", "population_total",
    ]  # fmt: skip
    for name in regions.__all__:
        assert hasattr(regions, name)
