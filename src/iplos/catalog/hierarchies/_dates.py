"""The date hierarchy: day, month, quarter, half-year, year, all.

Values are ISO strings as the data plane writes them: '2012-03-14' -> '2012-03' -> '2012-Q1' ->
'2012-H1' -> '2012' -> '*'. The default domain 2000-01-01..2025-12-31 covers every årgang
(2007-2024) with the decisions and assessments made before them.
"""

from __future__ import annotations

from datetime import date, timedelta

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError

DATE_FIRST = date(2000, 1, 1)
DATE_LAST = date(2025, 12, 31)


def _as_date(value: date | str, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise IplosError(f"{what} {value!r} is not a date in the form YYYY-MM-DD") from None


def date_hierarchy(first: date | str = DATE_FIRST, last: date | str = DATE_LAST) -> Hierarchy:
    """Every day first..last (ISO strings): day, month, quarter, half-year, year, all."""
    start, end = _as_date(first, "first date"), _as_date(last, "last date")
    if start > end:
        raise IplosError(f"date range {start}..{end} is empty")
    rows = []
    day = start
    one = timedelta(days=1)
    while day <= end:
        y, m = day.year, day.month
        rows.append(
            (
                day.isoformat(),
                f"{y}-{m:02d}",
                f"{y}-Q{(m - 1) // 3 + 1}",
                f"{y}-H{(m - 1) // 6 + 1}",
                str(y),
                "*",
            )
        )
        day += one
    return Hierarchy(
        name="date",
        level_names=("day", "month", "quarter", "half-year", "year", "all"),
        rows=tuple(rows),
        description=f"Dates {start}..{end} as ISO strings.",
    )
