"""Norway's regional classification 2006-2024 with its history: kommuner, fylker, population.

Map of the package:

* `municipalities(at)`, `municipality(code, at)`, `counties(at)`, `county_of(code, at)`: the
  kommuner and fylker valid at a date (SSB KLASS 131). A year means 1 January of that year: the
  IPLOS årgang Y is coded in the classification valid on 1 January Y.
* `harmonise(code, from_year, to_year)`, `harmonise_many(...)`: a kommune code of one year's
  classification expressed in another year's, across merges, renumbering and splits (forwards and
  backwards), with population shares where the data allow.
* `history(code)`: the names, validity and changes of a code.
* `population(year)`, `population_total(year)`, `national_population(year)`: residents on
  1 January by kommune, age and sex (SSB 07459).
* `kommune_hierarchy(year)`, `kommune_centrality_hierarchy(year)`: generalization hierarchies for
  the region quasi-identifier.

Kilde: Statistisk sentralbyrå (SSB), KLASS (classifications 131 and 128) and StatBank table 07459.
"""

from __future__ import annotations

from iplos.catalog.regions._classification import (
    County,
    Municipality,
    counties,
    county_of,
    municipalities,
    municipality,
)
from iplos.catalog.regions._harmonise import Candidate, harmonise, harmonise_many
from iplos.catalog.regions._hierarchies import kommune_centrality_hierarchy, kommune_hierarchy
from iplos.catalog.regions._history import HistoryEvent, history
from iplos.catalog.regions._population import (
    national_population,
    population,
    population_sources,
    population_total,
)

__all__ = [
    "Candidate",
    "County",
    "HistoryEvent",
    "Municipality",
    "counties",
    "county_of",
    "harmonise",
    "harmonise_many",
    "history",
    "kommune_centrality_hierarchy",
    "kommune_hierarchy",
    "municipalities",
    "municipality",
    "national_population",
    "population",
    "population_sources",
    "population_total",
]
