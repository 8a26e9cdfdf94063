"""Generalization hierarchies for the kommune quasi-identifier of one year's classification.

* `kommune_hierarchy(year)`: kommune -> fylke (of that year) -> landsdel -> all.
* `kommune_centrality_hierarchy(year)`: kommune -> sentralitetsklasse (SSB KLASS 128, 1-6) -> all.

Landsdel (5 regions: Nord-Norge, Trøndelag, Vestlandet, Agder, Østlandet) is given for the 2024
kommuner (data/kommuner_2024.csv). A fylke of an earlier year gets the landsdel that most of its
population (in that year) ends up in by 2024, and each of its kommuner gets its fylke's landsdel,
so that the levels nest. Fylker keep their landsdel through the reforms; the one kommune that
changed fylke across a landsdel border (1567 Rindal, Møre og Romsdal -> Trøndelag 2019) therefore
counts as Vestlandet up to 2018, as its fylke did.

KLASS 128 carries a class for current and historic codes (historic codes get the class of the
kommune they became part of); a code it lacks gets the class of its largest 2024 successor.
"""

from __future__ import annotations

from functools import cache

from iplos.catalog.hierarchy import Hierarchy
from iplos.catalog.regions import _classification, _data, _harmonise, _population
from iplos.errors import IplosError

ALL = "*"


@cache
def _landsdel_2024() -> dict[str, str]:
    return {r["code"]: r["landsdel_name"] for r in _data.read_csv("kommuner_2024.csv")}


@cache
def _sentralitet() -> dict[str, str]:
    return {r["code"]: r["class"] for r in _data.read_csv("sentralitet.csv")}


def _check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise IplosError(f"hierarchy year must be an integer year, not {year!r}")
    _classification.as_date(year)
    return year


@cache
def fylke_landsdel(year: int) -> dict[str, str]:
    """Landsdel of each fylke of `year` (by where most of its population is in 2024)."""
    _check_year(year)
    landsdel = _landsdel_2024()
    totals = _population.population_total(year)
    votes: dict[str, dict[str, float]] = {}
    for m in _classification.municipalities(year):
        for cand in _harmonise.harmonise(m.code, year, _data.LAST_YEAR):
            weight = totals[m.code] * (cand.share if cand.share is not None else 1.0)
            ballot = votes.setdefault(m.fylke_code, {})
            ballot[landsdel[cand.code]] = ballot.get(landsdel[cand.code], 0.0) + weight
    return {fylke: max(ballot, key=lambda k: (ballot[k], k)) for fylke, ballot in votes.items()}


@cache
def kommune_hierarchy(year: int) -> Hierarchy:
    """kommune -> fylke (of `year`) -> landsdel -> all, over every kommune valid on 1 January `year`.

    >>> h = kommune_hierarchy(2019)
    >>> h.generalize("0101", "fylke"), h.generalize("0101", "landsdel")
    ('01', 'Østlandet-Austlandet')
    """
    landsdel = fylke_landsdel(year)
    rows = [(m.code, m.fylke_code, landsdel[m.fylke_code], ALL) for m in _classification.municipalities(year)]
    return Hierarchy.from_rows(
        f"kommune_{year}",
        rows,
        level_names=["kommune", "fylke", "landsdel", "all"],
        description=f"Kommune (KLASS 131, {year}) -> fylke {year} -> landsdel -> all. Kilde: SSB, KLASS.",
    )


@cache
def kommune_centrality_hierarchy(year: int) -> Hierarchy:
    """kommune -> sentralitetsklasse (1 most central .. 6 least) -> all, for the kommuner of `year`.

    >>> kommune_centrality_hierarchy(2024).generalize("0301", "sentralitetsklasse")
    '1'
    """
    _check_year(year)
    classes = _sentralitet()
    rows = []
    for m in _classification.municipalities(year):
        cls = classes.get(m.code)
        if cls is None:
            best = _harmonise.harmonise(m.code, year, _data.LAST_YEAR)[0]
            cls = classes.get(best.code)
        if cls is None:
            raise IplosError(f"kommune {m.code} ({year}) has no sentralitetsklasse in KLASS 128")
        rows.append((m.code, cls, ALL))
    return Hierarchy.from_rows(
        f"kommune_sentralitet_{year}",
        rows,
        level_names=["kommune", "sentralitetsklasse", "all"],
        description=f"Kommune (KLASS 131, {year}) -> sentralitetsklasse (KLASS 128) -> all. Kilde: SSB, KLASS.",
    )
