"""Several tables keyed by `lopenr`, protected together as one person-level release.

By default (`iplos.release.Plan.items_known` = `DEFAULT_ITEMS_KNOWN`, 2) persons are protected by
(k, k^m)-anonymity (`iplos.release._items`): the attacker knows a person's whole person-year
trajectory and at most m of their rows in the other tables. With `items_known` None a person's
signature is the multiset of their generalised quasi-identifier rows across årganger AND tables
(full knowledge). The release path (`iplos.release`) judges a person by the sorted run of their element
ids, an element being a distinct row of quasi-identifier values; so the tables are stacked into one
Arrow table (`stack`): every row keeps its table's name in `_tabell` (a quasi-identifier kept at
its only level, so a service spell's element never equals a person-year's), and a column of another
table is missing there (its own hierarchy leaf, missing at every level but the top). The engine then
groups the stacked table exactly as it groups one table; nothing is counted row by row in Python.

The columns of the other tables are named `<table>.<column>` in the stacked table and in the plan
(`service_spells.startdato`), so a plan, a counter-proposal and the disclosure report name them
without ambiguity; the delivered files use the plain column names. `split` cuts the released
stacked table back into one `Release` per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd
import pyarrow as pa

from iplos.catalog import Hierarchy, deliverable
from iplos.delivery._anonymise import Evaluation
from iplos.delivery._build import build_release, column_info, typed
from iplos.delivery._case import Anonymisation
from iplos.delivery._hierarchies import _with_missing, build_hierarchy
from iplos.delivery._plan import QuasiIdentifier
from iplos.delivery._release import SERIAL, ColumnInfo, Release
from iplos.errors import IplosError
from iplos.linkage import LinkedExtract
from iplos.release._items import RELATIONAL
from iplos.release._items import TABLE as RELEASE_TABLE

TABLE = RELEASE_TABLE
PERSON_YEAR = RELATIONAL
#: The tables a delivery can carry besides the person-year table, in the order they are delivered.
EXTRA_TABLES = ("service_spells", "diagnoses", "npr_episodes", "cause_of_death")
#: The catalogue table (register, table) behind each delivered table's columns.
SOURCES: Mapping[str, tuple[str, str]] = {
    "service_spells": ("iplos", "tjeneste"),
    "diagnoses": ("iplos", "diagnose"),
    "npr_episodes": ("npr", "episode"),
    "cause_of_death": ("dar", "dodsfall"),
}


def knows_at_least(items: int | None, other: int | None) -> bool:
    """Whether an attacker who knows `items` other-table rows knows at least as much as one who knows
    `other` (None: every row). A counter-proposal may only assume a stronger attacker."""
    return items is None or (other is not None and items >= other)


def stacked_name(table: str, column: str) -> str:
    """The column's name in the stacked table and in the plan."""
    return column if table == PERSON_YEAR else f"{table}.{column}"


@dataclass(frozen=True)
class TableColumn:
    """A delivered column of one table, with its name in the stacked table."""

    table: str
    name: str
    stacked: str
    register: str
    catalogue_table: str


@dataclass(frozen=True)
class Stacked:
    """The tables of a linkage stacked for the release path, with what `split` needs to cut them."""

    source: pa.Table
    setup: Anonymisation
    columns: tuple[TableColumn, ...]
    tables: tuple[str, ...]

    def of(self, table: str) -> tuple[TableColumn, ...]:
        return tuple(c for c in self.columns if c.table == table)


def _table_hierarchy(tables: Sequence[str]) -> Hierarchy:
    return Hierarchy.from_rows(TABLE, [[t, "*"] for t in tables], level_names=["tabell", "all"])


def extra_columns(tables: Mapping[str, pa.Table], granted: Sequence[tuple[str, str]]) -> list[TableColumn]:
    """The granted columns of each extra table (a spell's key columns not granted are not delivered)."""
    out = []
    for name in EXTRA_TABLES:
        if name not in tables:
            continue
        register, table = SOURCES[name]
        wanted = {n for r, n in granted if (r if r != "kpr" else "iplos") == register}
        for column in tables[name].column_names:
            if column == SERIAL or column not in wanted:
                continue
            out.append(TableColumn(name, column, stacked_name(name, column), register, table))
    return out


def stack(
    extract: LinkedExtract,
    tables: Mapping[str, pa.Table],
    setup: Anonymisation,
    granted: Sequence[tuple[str, str]],
    required: Mapping[str, str],
    years: Sequence[int],
) -> Stacked:
    """The person-year extract and the other tables as one table, with quasi-identifiers for all.

    A quasi-identifier of another table (a date, the health trust) gets its catalogue hierarchy
    with the reviewer's coarsening as lower bound, like the person-year's; its sensitive and other
    columns are carried as they are.
    """
    columns = extra_columns(tables, granted)
    present = [PERSON_YEAR, *(t for t in EXTRA_TABLES if any(c.table == t for c in columns))]
    qis = list(setup.quasi_identifiers)
    hierarchies: dict[str, Hierarchy] = {}
    for q in qis:
        hierarchies[q.column] = _with_missing(setup.hierarchies[q.column])
    parts = [extract.table.append_column(TABLE, pa.array([PERSON_YEAR] * extract.table.num_rows))]
    for name in present[1:]:
        mine = [c for c in columns if c.table == name]
        part = tables[name].select([SERIAL, *(c.name for c in mine)])
        part = part.rename_columns([SERIAL, *(c.stacked for c in mine)])
        parts.append(part.append_column(TABLE, pa.array([name] * part.num_rows)))
        for c in mine:
            d = deliverable(c.name, c.register)
            if d.role != "quasi_identifier" or d.hierarchy is None:
                continue
            h = build_hierarchy(QuasiIdentifier(c.name, d.hierarchy), years)
            level = required.get(c.name)
            try:
                low = h.level(level) if level is not None else 0
            except IplosError:
                raise IplosError(
                    f"the required level {level!r} of {c.table}.{c.name} is not a level of hierarchy "
                    f"{h.name!r} ({', '.join(h.level_names)})"
                ) from None
            qis.append(QuasiIdentifier(c.stacked, d.hierarchy, low))
            hierarchies[c.stacked] = h
    qis.append(QuasiIdentifier(TABLE, "tabell", 0, 0))
    hierarchies[TABLE] = _table_hierarchy(present)
    source = pa.concat_tables(parts, promote_options="permissive")
    setup = Anonymisation(tuple(qis), hierarchies, setup.sensitive)
    return Stacked(source, setup, tuple(columns), tuple(present))


def _extra_release(
    stacked: Stacked,
    table: str,
    data: pd.DataFrame,
    evaluation: Evaluation,
    base: Release,
) -> Release:
    plan = evaluation.plan
    mine = stacked.of(table)
    rows = data[data[TABLE] == table]
    frame = pd.DataFrame({SERIAL: rows[SERIAL].to_numpy()})
    infos = [
        ColumnInfo(
            SERIAL,
            "Løpenummer (prosjektspesifikt for denne leveransen)",
            "integer",
            "serial",
            derivation=f"the same serial number as in {PERSON_YEAR}; join on lopenr",
        )
    ]
    qis = []
    for c in mine:
        level = plan.levels.get(c.stacked, 0)
        h = stacked.setup.hierarchies.get(c.stacked)
        q = next((q for q in plan.quasi_identifiers if q.column == c.stacked), None)
        info = column_info(
            c.name,
            f"{c.register}.{c.catalogue_table}.{c.name}",
            str(stacked.source.schema.field(c.stacked).type),
            level,
            h,
            q,
            (),
        )
        frame[c.name] = rows[c.stacked].to_numpy()
        infos.append(info)
        if q is not None:
            qis.append(c.name)
    frame = frame.reset_index(drop=True)
    for info in infos:
        frame[info.name] = typed(frame[info.name], info.kind)
    return replace(
        base,
        data=frame,
        columns=tuple(infos),
        quasi_identifiers=tuple(qis),
        sensitive=(),
        records_before=int((stacked.source.column(TABLE).to_numpy(zero_copy_only=False) == table).sum()),
        stem=table,
        table=table,
    )


def split(
    stacked: Stacked,
    extract: LinkedExtract,
    evaluation: Evaluation,
    delivery_id: str,
    years: Sequence[int],
) -> tuple[Release, tuple[Release, ...]]:
    """The person-year release and one release per other table, cut from the released stacked table."""
    data = evaluation.applied.data
    person_year = data[data[TABLE] == PERSON_YEAR].reset_index(drop=True)
    mine = {"aargang", *(o.name for o in extract.columns)}
    own = tuple(q.column for q in evaluation.plan.quasi_identifiers if q.column in mine)
    applied = replace(evaluation.applied, data=person_year)
    main = build_release(
        extract, replace(evaluation, applied=applied), stacked.setup.hierarchies, delivery_id, years
    )
    known = evaluation.plan.items_known if evaluation.plan.criteria.unit == "person" else None
    main = replace(main, quasi_identifiers=own, persons_before=evaluation.persons_before, items_known=known)
    extras = tuple(_extra_release(stacked, t, data, evaluation, main) for t in stacked.tables[1:])
    return main, extras
