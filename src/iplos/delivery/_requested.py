"""The tables an application asks for (`Application.tables`), made exactly as asked and protected.

Each `iplos.cases.TableRequest` becomes an `iplos.sdc.tables.TableRequest` on the linked extract:
its dimensions are the catalogue variables' extract columns at the requested level (never finer
than the reviewer's required coarsening), its statistic persons (distinct `lopenr` per cell), person-years
(each person counted once per årgang) or the sum of a measure, its årganger those asked.
`produce_tables` protects each table jointly with the tables made before it from the same records
and with the case's earlier releases in the release log (a re-delivery cannot be differenced
against the first); the labels of every category (kommune names, code texts) come with each table.
A table's own universe narrower than the case's population is not yet applied: it is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from iplos.cases import Case
from iplos.cases.table_request import TableRequest as CaseTableRequest
from iplos.catalog import Hierarchy, deliverable
from iplos.delivery._hierarchies import as_leaf, catalog_variable, code_labels, level_labels
from iplos.delivery._plan import Plan
from iplos.delivery._release import SERIAL
from iplos.errors import IplosError
from iplos.sdc.tables import (
    DimensionRequest,
    ProducedTable,
    Release,
    TableRequest,
    produce_tables,
)

AARGANG = "aargang"
PERSON_YEAR = "_person_aargang"


@dataclass(frozen=True)
class Requested:
    """The sdc requests of a case's tables, with the column each dimension reads."""

    requests: tuple[TableRequest, ...]
    person_years: frozenset[str]  # names of tables counting person-years


def _level(column: str, wanted: str | None, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> int:
    if column not in hierarchies:
        return 0
    h = hierarchies[column]
    asked = h.level(wanted) if wanted is not None else 0
    # The reviewer's coarsening binds; the microdata plan's levels do not (cells are protected).
    required = next((q.min_level for q in plan.quasi_identifiers if q.column == column), 0)
    return max(asked, required)


def requested_tables(case: Case, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> Requested:
    """The case's table requests on the extract's columns; an error naming what cannot be made."""
    out: list[TableRequest] = []
    person_years: set[str] = set()
    for t in case.content.tables:
        out.append(_request(t, plan, hierarchies))
        if t.statistic == "person_years":
            person_years.add(t.name)
    return Requested(tuple(out), frozenset(person_years))


def _request(t: CaseTableRequest, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> TableRequest:
    if t.universe is not None:
        raise IplosError(
            f"requested table {t.name!r}: a universe of its own is not applied yet; "
            "ask for it as the case's population or as a dimension"
        )
    dims = []
    for d in t.dimensions:
        column = deliverable(d.variable, d.register).column
        dims.append(DimensionRequest(column, _level(column, d.level, plan, hierarchies)))
    value = None
    statistic = "count"
    if t.statistic == "sum":
        if t.measure is None:
            raise IplosError(f"requested table {t.name!r}: a sum needs a measure")
        value = deliverable(t.measure, t.measure_register).column
        statistic = "sum"
    return TableRequest(
        name=t.name,
        dimensions=tuple(dims),
        statistic=statistic,  # type: ignore[arg-type]
        value=value,
        aargang=tuple(t.aarganger),
    )


def _labeller(years: Sequence[int], hierarchies: Mapping[str, Hierarchy], plan: Plan) -> object:
    qis = {q.column: q for q in plan.quasi_identifiers}
    cache: dict[tuple[str, int], dict[str, str]] = {}

    def label(column: str, code: str) -> str | None:
        q = qis.get(column)
        if q is not None and column in hierarchies:
            for level in range(hierarchies[column].height):
                key = (column, level)
                if key not in cache:
                    cache[key] = level_labels(q, level, years)
                if code in cache[key]:
                    return cache[key][code]
        found = code_labels(catalog_variable("", column)).get(code)
        return found

    return label


def tables_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The extract's columns the tables read, as hierarchy leaves (text), with a person-year key."""
    data = pd.DataFrame({SERIAL: frame[SERIAL].to_numpy(), AARGANG: frame[AARGANG].to_numpy()})
    for c in columns:
        if c in (SERIAL, AARGANG):
            continue
        values = frame[c]
        data[c] = values.astype("float64") if c == "timer_per_uke" else [as_leaf(v) for v in values.tolist()]
    data[AARGANG] = [as_leaf(v) for v in data[AARGANG].tolist()]
    data[PERSON_YEAR] = data[SERIAL].astype(str) + "/" + data[AARGANG].astype(str)
    return data


def data_version_of(registers: Path) -> str:
    """A cheap version of the register files (names, sizes, modification times), for the release log."""
    digest = hashlib.sha256()
    for f in sorted(p for p in registers.rglob("*") if p.is_file()):
        st = f.stat()
        digest.update(f"{f.relative_to(registers)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def make_tables(
    frame: pd.DataFrame,
    case: Case,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    years: Sequence[int],
    earlier: Sequence[Release] = (),
) -> list[ProducedTable]:
    """Every table the case asks for, protected (minimum count the plan's k) and labelled."""
    requested = requested_tables(case, plan, hierarchies)
    needed = {d.column for r in requested.requests for d in r.dimensions}
    needed |= {r.value for r in requested.requests if r.value is not None}
    data = tables_frame(frame, sorted(needed))
    # Tables counting the same unit are protected together, each jointly with those before it and
    # with every earlier release of these records (produce_tables links those of the same data, under
    # whatever name they were published); persons and person-years do not add up with each other.
    produced: dict[str, ProducedTable] = {}
    for person in (SERIAL, PERSON_YEAR):
        mine = [
            r for r in requested.requests if (r.name in requested.person_years) == (person == PERSON_YEAR)
        ]
        if not mine:
            continue
        made = produce_tables(
            data,
            mine,
            hierarchies,
            labeller=_labeller(years, hierarchies, plan),  # type: ignore[arg-type]
            earlier=earlier,
            person_column=person,
            min_count=plan.criteria.k,
        )
        produced.update((p.request.name, p) for p in made)
    return [produced[r.name] for r in requested.requests]
