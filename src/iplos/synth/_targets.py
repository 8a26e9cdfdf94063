"""The published figures the synthetic register is calibrated to, and the yearly targets made from them.

Sources (Helsedirektoratet / SSB, pleie- og omsorgsstatistikk and KOSTRA, as collected in issue 3):

| figure | value | year |
|---|---|---|
| persons with services during the year | 306,919 / 342,216 / 349,419 / 355,635 / 361,471 / 364,587 / 371,319 / 390,369 / 399,263 | 2007 / 2014 / 2015 / 2016 / 2017 / 2018 / 2020 / 2022 / 2024 |
| age mix of those persons | 0-17 5.0 %, 18-49 22.0 %, 50-66 14.1 %, 67-79 21.2 %, 80-89 24.6 %, 90+ 12.9 % | 2022 |
| women among them | 57.6 % | |
| home services (praktisk bistand and/or hjemmesykepleie) | 174,275: both 62,286, hjemmesykepleie only 66,898, praktisk bistand only 45,091 | 2009 |
| institution residents / of whom long-term stays | about 43,500 / about 34,500 | 2007-2010 |
| BPA, avlastning, støttekontakt, omsorgslønn (omsorgsstønad) | 2,023 / 7,135 / 23,174 / 8,048 | 2007 |
| service decisions (vedtak) in the year | 814,872 | 2017 |

How each figure is measured is fixed here too (`MEASURES`), so that the generator and the report
(which measures the written files) agree: persons are counted in an årgang's ``person`` table; a
service "during the year" is a ``tjeneste`` row of the årgang; institution residents are persons with
an institutional stay (codes 18-22) not ended on 31 December; age is årgang minus birth year.

Years between published ones are interpolated linearly; figures published for one year only are
carried to other years in proportion to the persons with services (service counts) or unchanged
(institution residents, shares).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "AGE_GROUPS",
    "AGE_MIX_2022",
    "MEASURES",
    "PERSONS_PUBLISHED",
    "WOMEN_SHARE",
    "YearTargets",
    "age_group_of",
    "persons_target",
    "year_targets",
]

PERSONS_PUBLISHED: dict[int, int] = {
    2007: 306_919,
    2014: 342_216,
    2015: 349_419,
    2016: 355_635,
    2017: 361_471,
    2018: 364_587,
    2020: 371_319,
    2022: 390_369,
    2024: 399_263,
}

AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("0-17", 0, 17),
    ("18-49", 18, 49),
    ("50-66", 50, 66),
    ("67-79", 67, 79),
    ("80-89", 80, 89),
    ("90+", 90, 200),
)
AGE_MIX_2022 = (0.050, 0.220, 0.141, 0.212, 0.246, 0.129)
WOMEN_SHARE = 0.576
# Women's share rises with age among recipients (women live longer); the shape is ours, the
# level is shifted so that the total is the published 57.6 %.
_WOMEN_SHAPE = (0.42, 0.46, 0.50, 0.57, 0.65, 0.74)

HOME_2009 = {"both": 62_286, "hjemmesykepleie_only": 66_898, "praktisk_bistand_only": 45_091}
INSTITUTION_RESIDENTS = 43_500
LONG_TERM_RESIDENTS = 34_500
INSTITUTION_YEARS = range(2007, 2011)
SERVICES_2007 = {"bpa": 2_023, "avlastning": 7_135, "stottekontakt": 23_174, "omsorgsstonad": 8_048}
DECISIONS_2017 = 814_872
LIVING_ALONE_SHARE = 0.5

# measure -> (label, definition); the report prints these.
MEASURES: dict[str, tuple[str, str]] = {
    "persons": ("Persons with services", "rows of the årgang's person table"),
    "age_share": ("Age group share", "share of persons by årgang minus fodselsaar"),
    "women_share": ("Women", "share of persons with kjonn = 2"),
    "home_both": ("Praktisk bistand and hjemmesykepleie", "persons with codes 1/2 and 15 in the årgang"),
    "home_hjemmesykepleie_only": ("Hjemmesykepleie only", "persons with code 15, not 1/2"),
    "home_praktisk_bistand_only": ("Praktisk bistand only", "persons with codes 1/2, not 15"),
    "institution_residents": ("Institution residents 31.12", "persons with codes 18-22 not ended by 31 Dec"),
    "long_term_residents": ("Long-term residents 31.12", "persons with code 21 not ended by 31 Dec"),
    "bpa": ("BPA", "persons with code 3"),
    "avlastning": ("Avlastning", "persons with codes 7/8"),
    "stottekontakt": ("Støttekontakt", "persons with code 9"),
    "omsorgsstonad": ("Omsorgslønn/omsorgsstønad", "persons with code 11"),
    "decisions": ("Service decisions", "rows of the årgang's tjeneste table"),
    "living_alone": (
        "Living alone, of those at home",
        "husstand = 1 among persons not in an institution 31.12",
    ),
}


def persons_target(year: int) -> float:
    """Persons with services in ``year``: published, or interpolated between published years."""
    years = sorted(PERSONS_PUBLISHED)
    return float(np.interp(year, years, [PERSONS_PUBLISHED[y] for y in years]))


def age_group_of(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index into `AGE_GROUPS` for each age (negative ages count as 0-17)."""
    edges = np.array([g[1] for g in AGE_GROUPS[1:]])
    return np.searchsorted(edges, age, side="right").astype(np.int64)


@dataclass(frozen=True)
class YearTargets:
    """Unscaled targets of one årgang, as floats (a chunk takes its share and rounds)."""

    year: int
    persons: float
    cells: npt.NDArray[np.float64]  # (6 age groups, 2 sexes: mann, kvinne) persons
    home_both: float
    home_hn_only: float
    home_ph_only: float
    institution_residents: float
    long_term_residents: float
    bpa: float
    avlastning: float
    stottekontakt: float
    omsorgsstonad: float
    decisions: float
    living_alone_share: float


def _women_by_group() -> npt.NDArray[np.float64]:
    mix = np.array(AGE_MIX_2022) / sum(AGE_MIX_2022)
    shape = np.array(_WOMEN_SHAPE)
    return shape + (WOMEN_SHARE - float(mix @ shape))


def year_targets(year: int) -> YearTargets:
    """Targets for ``year`` from the published figures (see the module docstring)."""
    n = persons_target(year)
    mix = np.array(AGE_MIX_2022) / sum(AGE_MIX_2022)
    women = _women_by_group()
    cells = np.stack([n * mix * (1 - women), n * mix * women], axis=1)
    by_2009 = n / persons_target(2009)
    by_2007 = n / persons_target(2007)
    return YearTargets(
        year=year,
        persons=n,
        cells=cells,
        home_both=HOME_2009["both"] * by_2009,
        home_hn_only=HOME_2009["hjemmesykepleie_only"] * by_2009,
        home_ph_only=HOME_2009["praktisk_bistand_only"] * by_2009,
        institution_residents=float(INSTITUTION_RESIDENTS),
        long_term_residents=float(LONG_TERM_RESIDENTS),
        bpa=SERVICES_2007["bpa"] * by_2007,
        avlastning=SERVICES_2007["avlastning"] * by_2007,
        stottekontakt=SERVICES_2007["stottekontakt"] * by_2007,
        omsorgsstonad=SERVICES_2007["omsorgsstonad"] * by_2007,
        decisions=DECISIONS_2017 / PERSONS_PUBLISHED[2017] * n,
        living_alone_share=LIVING_ALONE_SHARE,
    )
