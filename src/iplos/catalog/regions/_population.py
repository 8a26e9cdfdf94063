"""Population on 1 January by kommune (in that year's classification), age and sex, 2006-2024.

The table is derived from SSB StatBank 07459 at build time (tools/build_regions_data.py); how each
kommune-year was obtained, and the caveats, are in data/README.md and data/population_sources.csv.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from iplos.catalog.regions import _data
from iplos.errors import IplosError

MAX_AGE = 105  # the oldest age group is "105 years or older"


def _check_year(year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise IplosError(f"population year must be an integer year, not {year!r}")
    if not _data.FIRST_YEAR <= year <= _data.LAST_YEAR:
        raise IplosError(
            f"population year {year} is outside the years iplos carries ({_data.FIRST_YEAR}-{_data.LAST_YEAR})"
        )
    return year


@cache
def _table() -> pd.DataFrame:
    """The whole long table, read once (about 0.1 s)."""
    path = _data.data_file("population.parquet")
    with path.open("rb") as fh:
        frame = pd.read_parquet(fh)
    return frame


@cache
def _year(year: int) -> pd.DataFrame:
    table = _table()
    wide = table[table["year"] == year]
    long = wide.melt(
        id_vars=["kommune", "age"], value_vars=["male", "female"], var_name="sex_name", value_name="persons"
    )
    long["sex"] = long["sex_name"].map({"male": 1, "female": 2}).astype("int8")
    out = (
        long[["kommune", "age", "sex", "persons"]]
        .astype({"kommune": "string", "age": "int8", "persons": "int64"})
        .sort_values(["kommune", "age", "sex"], kind="stable")
        .reset_index(drop=True)
    )
    return out


def population(year: int) -> pd.DataFrame:
    """Persons resident on 1 January `year` by kommune, single year of age and sex.

    Columns: `kommune` (code valid in `year`), `age` (0-105, 105 = 105 or older), `sex` (1 male,
    2 female), `persons`. Every kommune of the year has all 212 age-sex rows. A copy is returned, so
    callers may modify it.

    Kilde: Statistisk sentralbyrå (SSB), tabell 07459; see data/README.md for the method.
    """
    return _year(_check_year(year)).copy()


@cache
def _totals(year: int) -> dict[str, int]:
    frame = _year(year)
    sums = frame.groupby("kommune", sort=True)["persons"].sum()
    return {str(k): int(v) for k, v in sums.items()}


def population_total(year: int) -> dict[str, int]:
    """Persons resident on 1 January `year` per kommune code valid in `year`."""
    return dict(_totals(_check_year(year)))


@cache
def _national() -> dict[int, tuple[int, int]]:
    return {
        int(r["year"]): (int(r["male"]), int(r["female"])) for r in _data.read_csv("norway_population.csv")
    }


def national_population(year: int) -> int:
    """Norway's population on 1 January `year` (SSB 07459, the whole country incl. unknown kommune)."""
    male, female = _national()[_check_year(year)]
    return male + female


@cache
def population_sources(year: int) -> dict[str, str]:
    """How each kommune's figures of `year` were obtained: 'b2024', 'original codes' or 'estimated, ...'."""
    _check_year(year)
    return {
        r["kommune"]: r["source"] for r in _data.read_csv("population_sources.csv") if int(r["year"]) == year
    }
