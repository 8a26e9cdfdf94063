"""Hierarchies over ages and birth years: fixed-width bands, and SSB's age groups.

Ages run 0..`AGE_MAX` (120: above the oldest person ever recorded in Norway, 112, so that no
real value falls outside). Birth years run `BIRTH_YEAR_FIRST`..`BIRTH_YEAR_LAST` (1890-2024: from
anyone aged up to 117 in the first årgang, 2007, to the newborns of the last, 2024). Bands are
aligned on multiples of their width (0-4, 5-9; 1890-1894), so 5-, 10- and 20-year bands nest.
"""

from __future__ import annotations

from collections.abc import Callable

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError

AGE_MAX = 120
BIRTH_YEAR_FIRST = 1890
BIRTH_YEAR_LAST = 2024
ALL = "*"

# SSB's age groups for nursing and care statistics (statbank tables on pleie og omsorg).
SSB_AGE_GROUPS: tuple[tuple[int, int | None], ...] = (
    (0, 17),
    (18, 49),
    (50, 66),
    (67, 79),
    (80, 89),
    (90, None),
)


def band(width: int) -> Callable[[str], str]:
    """A function mapping an integer (as text) to its band of `width`, e.g. band(5)('37') == '35-39'."""

    def to_band(value: str) -> str:
        low = int(value) // width * width
        return f"{low}-{low + width - 1}"

    return to_band


def ssb_age_group(age: int) -> str:
    """SSB's age group of an age: '0-17', '18-49', '50-66', '67-79', '80-89' or '90+'."""
    if age < 0:
        raise IplosError(f"age {age} is negative")
    for low, high in SSB_AGE_GROUPS:
        if high is None:
            return f"{low}+"
        if age <= high:
            return f"{low}-{high}"
    raise AssertionError("unreachable: the last group is open")


def under_over_67(age: int) -> str:
    """'0-66' or '67+' (the usual split between younger users and the elderly)."""
    return "0-66" if age < 67 else "67+"


def _check_range(what: str, first: int, last: int) -> None:
    if first > last:
        raise IplosError(f"{what} range {first}-{last} is empty")


def age_hierarchy(max_age: int = AGE_MAX) -> Hierarchy:
    """Age in years 0..max_age: year, 5 years, 10 years, 20 years, all."""
    _check_range("age", 0, max_age)
    return Hierarchy.from_functions(
        "age",
        range(max_age + 1),
        [("5 years", band(5)), ("10 years", band(10)), ("20 years", band(20)), ("all", lambda _: ALL)],
        leaf_level_name="age",
        description=f"Age in whole years 0-{max_age}, in bands aligned on multiples of their width.",
    )


def age_ssb_hierarchy(max_age: int = AGE_MAX) -> Hierarchy:
    """Age in years 0..max_age: year, SSB's groups (0-17 ... 90+), under 67 / 67+, all."""
    _check_range("age", 0, max_age)
    return Hierarchy.from_functions(
        "age_ssb",
        range(max_age + 1),
        [
            ("SSB age group", lambda a: ssb_age_group(int(a))),
            ("under/over 67", lambda a: under_over_67(int(a))),
            ("all", lambda _: ALL),
        ],
        leaf_level_name="age",
        description="Age in whole years with SSB's age groups 0-17, 18-49, 50-66, 67-79, 80-89, 90+.",
    )


def birth_year_hierarchy(first: int = BIRTH_YEAR_FIRST, last: int = BIRTH_YEAR_LAST) -> Hierarchy:
    """Birth year first..last: year, 5 years, 10 years, 20 years, all."""
    _check_range("birth year", first, last)
    return Hierarchy.from_functions(
        "birth_year",
        range(first, last + 1),
        [("5 years", band(5)), ("10 years", band(10)), ("20 years", band(20)), ("all", lambda _: ALL)],
        leaf_level_name="birth year",
        description=f"Birth year {first}-{last}, in cohorts aligned on multiples of their width.",
    )


def birth_year_ssb_hierarchy(
    reference_year: int = BIRTH_YEAR_LAST, first: int = BIRTH_YEAR_FIRST
) -> Hierarchy:
    """Birth year first..reference_year grouped by the SSB age group reached in `reference_year`.

    Age is taken as reference_year - birth year (the age reached during the year), so the groups
    are cohorts: with reference year 2020, '67-79' holds those born 1941-1953.
    """
    _check_range("birth year", first, reference_year)
    return Hierarchy.from_functions(
        "birth_year_ssb",
        range(first, reference_year + 1),
        [
            (f"SSB age group in {reference_year}", lambda y: ssb_age_group(reference_year - int(y))),
            (f"under/over 67 in {reference_year}", lambda y: under_over_67(reference_year - int(y))),
            ("all", lambda _: ALL),
        ],
        leaf_level_name="birth year",
        description=f"Birth year {first}-{reference_year} grouped by SSB age group reached in {reference_year}.",
    )
