"""The release log: every protected table published from a source, kept in the case store.

One row per published table (`table_releases`, Alembic migration 0003): the source it came from
(a register extract, an input file), the version of that data (a digest of its content), a name,
when it was released, what it counts, its dimensions (categories, tree, hierarchy levels and which
input values each finest category holds) and its cells as published (value, or none where
suppressed, and the flag). No true value of a suppressed cell is stored: what the log holds is
exactly what an attacker has. Tables from the same data are protected and audited jointly with
every earlier row of the same source and data version (`iplos.sdc.tables.protect_linked`).

The log knows nothing of tables beyond these plain records (dimensions and cells are JSON), so
`cases` stays free of the disclosure-control code; a digest over each row's content makes a
changed row show up on reading.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from iplos.cases.store import make_engine, upgrade
from iplos.errors import IplosError

metadata = sa.MetaData()
releases_table = sa.Table(
    "table_releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("data_version", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("statistic", sa.String(20), nullable=False),
    sa.Column("n_cells", sa.Integer, nullable=False),
    sa.Column("dimensions", sa.Text, nullable=False),
    sa.Column("cells", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class LoggedRelease:
    """One published table as the log holds it.

    `dimensions`: per dimension a dict with `name`, `labels`, `parents`, `levels` and `leaf_of`
    (input value -> node); `cells`: `values` (None where suppressed) and `flags` per cell.
    """

    id: int
    source: str
    data_version: str
    name: str
    released_at: datetime
    kind: str
    statistic: str
    dimensions: list[dict[str, Any]]
    cells: dict[str, list[Any]]

    @property
    def n_cells(self) -> int:
        return len(self.cells["values"])


def _digest(source: str, version: str, name: str, kind: str, stat: str, dims: str, cells: str) -> str:
    text = json.dumps([source, version, name, kind, stat, dims, cells], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_record(dimensions: Sequence[dict[str, Any]], cells: dict[str, list[Any]]) -> int:
    if not dimensions:
        raise IplosError("a logged table needs at least one dimension")
    for i, dim in enumerate(dimensions):
        missing = [k for k in ("name", "labels", "parents", "levels", "leaf_of") if k not in dim]
        if missing:
            raise IplosError(f"logged table dimension {i + 1} lacks {', '.join(missing)}")
    if set(cells) != {"values", "flags"} or len(cells["values"]) != len(cells["flags"]):
        raise IplosError("logged table cells need 'values' and 'flags' of the same length")
    n = 1
    for dim in dimensions:
        n *= len(dim["labels"])
    if len(cells["values"]) != n:
        raise IplosError(f"logged table has {len(cells['values'])} cells, its dimensions give {n}")
    return n


class ReleaseLog:
    """Reads and appends the release log of a case store (SQLite or PostgreSQL)."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.engine: Engine = make_engine(url, schema)
        upgrade(self.engine, schema)

    def close(self) -> None:
        self.engine.dispose()

    def record(
        self,
        *,
        source: str,
        data_version: str,
        name: str,
        kind: str,
        statistic: str,
        dimensions: Sequence[dict[str, Any]],
        cells: dict[str, list[Any]],
        at: datetime | None = None,
    ) -> LoggedRelease:
        """Append one published table (in one transaction) and return it as stored."""
        if not source or not data_version or not name:
            raise IplosError("a logged table needs a source, a data version and a name")
        n = _check_record(dimensions, cells)
        when = at or datetime.now(UTC)
        dims_text = json.dumps(list(dimensions), ensure_ascii=False, sort_keys=True)
        cells_text = json.dumps(cells, ensure_ascii=False, sort_keys=True, allow_nan=False)
        digest = _digest(source, data_version, name, kind, statistic, dims_text, cells_text)
        with self.engine.connect().execution_options(iplos_write=True) as conn, conn.begin():
            result = conn.execute(
                releases_table.insert().values(
                    source=source,
                    data_version=data_version,
                    name=name,
                    released_at=when,
                    kind=kind,
                    statistic=statistic,
                    n_cells=n,
                    dimensions=dims_text,
                    cells=cells_text,
                    digest=digest,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            new_id = int(key[0])
        return LoggedRelease(
            new_id,
            source,
            data_version,
            name,
            when,
            kind,
            statistic,
            json.loads(dims_text),
            json.loads(cells_text),
        )

    def releases(self, source: str | None = None, data_version: str | None = None) -> list[LoggedRelease]:
        """Published tables in release order, of one source (and data version) or all."""
        query = sa.select(releases_table).order_by(releases_table.c.id)
        if source is not None:
            query = query.where(releases_table.c.source == source)
        if data_version is not None:
            query = query.where(releases_table.c.data_version == data_version)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        out = []
        for row in rows:
            expected = _digest(
                row["source"],
                row["data_version"],
                row["name"],
                row["kind"],
                row["statistic"],
                row["dimensions"],
                row["cells"],
            )
            if expected != row["digest"]:
                raise IplosError(
                    f"release log row {row['id']} ({row['source']}, {row['name']}) was changed after it "
                    "was written: its content no longer matches its digest"
                )
            when = row["released_at"]
            if when.tzinfo is None:  # SQLite returns naive datetimes
                when = when.replace(tzinfo=UTC)
            out.append(
                LoggedRelease(
                    int(row["id"]),
                    row["source"],
                    row["data_version"],
                    row["name"],
                    when,
                    row["kind"],
                    row["statistic"],
                    json.loads(row["dimensions"]),
                    json.loads(row["cells"]),
                )
            )
        return out

    def sources(self) -> list[tuple[str, str, int]]:
        """(source, data version, number of tables) for every source in the log."""
        query = (
            sa.select(releases_table.c.source, releases_table.c.data_version, sa.func.count())
            .group_by(releases_table.c.source, releases_table.c.data_version)
            .order_by(releases_table.c.source, releases_table.c.data_version)
        )
        with self.engine.connect() as conn:
            return [(str(s), str(v), int(n)) for s, v, n in conn.execute(query)]


__all__ = ["LoggedRelease", "ReleaseLog", "releases_table"]
