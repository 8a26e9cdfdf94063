"""Tables asked for in an application: what to count, by what, in which årganger and population.

A `TableRequest` is plain data (the application's field holds a list of them): its dimensions
(`DimensionRequest`: a column, the finest level shown, which coarser levels are subtotals, a
heading), the statistic (persons counted, or the sum or mean of a value column), the årganger and
the universe (which records count: allowed values per column, in words as well). `produce_tables`
builds each from the extract's records, protects it jointly with every table produced before it
from the same records (and with the earlier releases given, for tables of all the records), and
returns it with the value labels of its categories for the output. Tables of different årganger or
universes are not linked to each other here: a table of 2015-2016 and one of 2015 would give 2016
by difference, so a request should put the årgang in a dimension instead of asking for both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError, Problem
from iplos.sdc.tables._build import build_table
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._linked import LinkedResult, from_same_data, protect_linked
from iplos.sdc.tables._protection import ProtectionLevels
from iplos.sdc.tables._release import Release
from iplos.sdc.tables._rules import GroupDisclosure, MinCount, Rule

RequestStatistic = Literal["count", "sum", "mean"]
AARGANG = "aargang"


@dataclass(frozen=True)
class DimensionRequest:
    """One dimension of a requested table: `column` at `level` (a level of its hierarchy, or 0 for
    the values themselves), with `subtotals` (coarser levels; None: all of them)."""

    column: str
    level: int | str = 0
    subtotals: tuple[int | str, ...] | None = None
    heading: str = ""


@dataclass(frozen=True)
class TableRequest:
    """A table an application asks for."""

    name: str
    dimensions: tuple[DimensionRequest, ...]
    statistic: RequestStatistic = "count"
    value: str | None = None
    aargang: tuple[int, ...] = ()
    universe: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    universe_text: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        if not self.name or not self.dimensions:
            raise IplosError("a requested table needs a name and at least one dimension")
        if (self.statistic == "count") != (self.value is None):
            raise IplosError(
                f"requested table {self.name!r}: a count has no value column, a sum or mean needs one"
            )
        columns = [d.column for d in self.dimensions]
        if len(set(columns)) != len(columns):
            raise IplosError(f"requested table {self.name!r} uses a column twice: {columns}")


@dataclass(frozen=True, eq=False)
class ProducedTable:
    """A requested table, protected, with the labels of its categories per dimension."""

    request: TableRequest
    result: LinkedResult
    labels: dict[str, dict[str, str]]

    @property
    def passed(self) -> bool:
        return self.result.passed


Labeller = Callable[[str, str], str | None]  # (column, code) -> label, None when it has none


def _select(data: pd.DataFrame, request: TableRequest) -> pd.DataFrame:
    """The records of the request's årganger and universe; errors name the missing column."""
    needed = [d.column for d in request.dimensions] + list(request.universe)
    if request.aargang:
        needed.append(AARGANG)
    if request.value is not None:
        needed.append(request.value)
    missing = sorted(set(needed) - set(data.columns))
    if missing:
        raise IplosError(
            f"requested table {request.name!r} needs columns the extract lacks",
            [Problem("missing column", column=c) for c in missing],
        )
    keep = pd.Series(True, index=data.index)
    if request.aargang:
        keep &= pd.to_numeric(data[AARGANG], errors="coerce").isin(list(request.aargang))
    for column, allowed in request.universe.items():
        keep &= data[column].astype(str).isin([str(v) for v in allowed])
    return data.loc[keep]


def _dimension(d: DimensionRequest, data: pd.DataFrame, hierarchies: Mapping[str, Hierarchy]) -> Dimension:
    values = sorted(data[d.column].dropna().astype(str).unique().tolist(), key=lambda v: (len(v), v))
    if d.column in hierarchies:
        subtotals = list(d.subtotals) if d.subtotals is not None else None
        return Dimension.from_hierarchy(
            hierarchies[d.column], d.level, name=d.column, values=values, subtotals=subtotals
        )
    if d.level not in (0, "0") or d.subtotals:
        raise IplosError(f"column {d.column!r} has no hierarchy, so it has no level {d.level!r} or subtotals")
    return Dimension.flat(d.column, values)


def produce_tables(
    data: pd.DataFrame,
    requests: Sequence[TableRequest],
    hierarchies: Mapping[str, Hierarchy],
    *,
    labeller: Labeller | None = None,
    earlier: Sequence[Release] = (),
    rules: Sequence[Rule] | None = None,
    protection: ProtectionLevels | None = None,
    person_column: str = "pseudonym",
    min_count: int = 5,
) -> list[ProducedTable]:
    """Build, protect (jointly with `earlier` and with each other, in order) and label each table."""
    chosen: list[Rule] = list(rules) if rules is not None else [MinCount(min_count), GroupDisclosure()]
    out: list[ProducedTable] = []
    for request in requests:
        frame = _select(data, request)
        if frame.empty:
            raise IplosError(f"requested table {request.name!r}: no records in its årganger and universe")
        dims = [_dimension(d, frame, hierarchies) for d in request.dimensions]
        statistic = "sum" if request.statistic == "count" else request.statistic
        table = build_table(
            frame, dims, value=request.value, statistic=statistic, person_column=person_column
        )
        # tables of other årganger or universes count other records: they do not add up with this
        # one (not linked here; see the module docstring); earlier releases link when they were
        # published from these very records
        value = request.value
        same_data = [
            r
            for r in earlier
            if r.quantity[3] == value and from_same_data(r, frame, value=value, person_column=person_column)
        ]
        linked = [
            *same_data,
            *(
                Release.of(p.request.name, p.result.table)
                for p in out
                if _selection(p.request) == _selection(request)
            ),
        ]
        result = protect_linked(
            frame,
            table,
            linked,
            chosen,
            name=request.name,
            protection=protection,
            value=request.value,
            person_column=person_column,
        )
        labels: dict[str, dict[str, str]] = {}
        if labeller is not None:
            for dim in dims:
                found = {lab: labeller(dim.name, lab) for lab in dim.labels[1:]}
                labels[dim.name] = {k: v for k, v in found.items() if v}
        out.append(ProducedTable(request, result, labels))
    return out


def _selection(request: TableRequest) -> tuple[tuple[int, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    return request.aargang, tuple(sorted((k, tuple(v)) for k, v in request.universe.items()))
