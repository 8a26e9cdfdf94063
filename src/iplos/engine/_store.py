"""The register store: Parquet files per register, table and årgang, written whole or not at all.

Layout (docs/registers.md)::

    $IPLOS_HOME/registers/<register>/<table>/aargang=<YYYY>/part-<NNNNN>.parquet

The files do not hold the `aargang` column; readers take it from the folder name (hive partitioning).

Two ways to write:

- `write_aargang` writes one table's årgang through `iplos.atomic.atomic_directory`: the folder is
  built under a hidden staging name and renamed into place in one step.
- `commit_aargang` (and the `aargang_transaction` it is built on) writes every table of one årgang or
  none. Each table folder is staged first; a journal naming every staging folder, target and displaced
  old folder is written before anything is staged; then the staged folders are renamed into place one by
  one, and deleting the journal is the commit point.

Crash window: a process killed between the first and the last rename of a commit leaves some tables
with the new årgang and some without. The journal is still there, so the next `RegisterStore` opened on
the same data folder (or `recover()`) rolls the commit back: it removes the folders that were renamed
in, puts displaced old folders back and removes the staging folders. A kill after the journal is deleted
only leaves hidden `.old-` folders, which recovery removes. A per-register lock file (`flock`) keeps a
recovering process from rolling back a commit that another process is still making.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import pyarrow as pa
import pyarrow.parquet as pq

from iplos.atomic import atomic_directory, remove_stale_staging, write_text_atomic
from iplos.config import Settings
from iplos.errors import IplosError

TableData: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch | pa.Table]
"""What the store accepts for one table's årgang: a table, a reader, or a stream of batches."""

ROWS_PER_FILE = 2_000_000
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_AARGANG_DIR = re.compile(r"^aargang=(\d{4})$")
_JOURNAL = re.compile(r"^\.commit-aargang=(\d{4})\.json$")


def _check_name(kind: str, name: str) -> None:
    if not _NAME.match(name):
        raise IplosError(f"{kind} name must be lower-case letters, digits and '_', not {name!r}")


def _check_aargang(aargang: int) -> None:
    if not isinstance(aargang, int) or isinstance(aargang, bool) or not 1900 <= aargang <= 2999:
        raise IplosError(f"årgang must be a four-digit year, not {aargang!r}")


def _fsync_dir(path: Path) -> None:
    """Make renames in `path` durable (a rename lives in the folder's metadata)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _batches(data: TableData) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches()
        if data.num_rows == 0:
            yield pa.RecordBatch.from_pylist([], schema=data.schema)
        return
    for item in data:
        if isinstance(item, pa.Table):
            yield from item.to_batches()
            if item.num_rows == 0:
                yield pa.RecordBatch.from_pylist([], schema=item.schema)
        else:
            yield item


def _drop_aargang(batch: pa.RecordBatch, aargang: int, where: str) -> pa.RecordBatch:
    """The files do not hold `aargang`; a column of that name must agree with the folder."""
    index = batch.schema.get_field_index("aargang")
    if index < 0:
        return batch
    values = batch.column(index).to_pylist()
    wrong = next((v for v in values if v != aargang), None)
    if wrong is not None:
        raise IplosError(f"{where}: column 'aargang' holds {wrong!r}, but the årgang written is {aargang}")
    return batch.remove_column(index)


def write_parts(folder: Path, data: TableData, aargang: int, where: str, rows_per_file: int) -> int:
    """Write `data` as part-NNNNN.parquet files in `folder`; returns the number of rows written."""
    writer: pq.ParquetWriter | None = None
    part = rows_in_part = total = 0
    schema: pa.Schema | None = None
    try:
        for raw in _batches(data):
            batch = _drop_aargang(raw, aargang, where)
            if schema is None:
                schema = batch.schema
            elif not batch.schema.equals(schema):
                raise IplosError(f"{where}: batch schema {batch.schema} differs from the first {schema}")
            if writer is None or (rows_in_part >= rows_per_file and batch.num_rows):
                if writer is not None:
                    writer.close()
                    part += 1
                writer = pq.ParquetWriter(folder / f"part-{part:05d}.parquet", schema, compression="zstd")
                rows_in_part = 0
            writer.write_batch(batch)
            rows_in_part += batch.num_rows
            total += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    if schema is None:
        raise IplosError(f"{where}: no data and no schema given (pass an empty pyarrow.Table instead)")
    return total


@dataclass(frozen=True)
class _Entry:
    table: str
    target: str
    staging: str
    old: str
    existed: bool


class RegisterStore:
    """The register folders under `$IPLOS_HOME/registers`: layout, listing and all-or-nothing writes."""

    def __init__(self, settings: Settings | None = None, *, recover: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        self.root = self.settings.registers_dir
        if recover:
            self.recover()

    # ----- layout -------------------------------------------------------------------------
    def register_dir(self, register: str) -> Path:
        """Folder of one register."""
        _check_name("register", register)
        return self.root / register

    def table_dir(self, register: str, table: str) -> Path:
        """Folder of one table, holding one `aargang=YYYY` folder per årgang."""
        _check_name("table", table)
        return self.register_dir(register) / table

    def aargang_dir(self, register: str, table: str, aargang: int) -> Path:
        """Folder of one table's årgang."""
        _check_aargang(aargang)
        return self.table_dir(register, table) / f"aargang={aargang}"

    def path(self, register: str, table: str, aargang: int, part: int = 0) -> Path:
        """Path of one Parquet part file of a table's årgang."""
        return self.aargang_dir(register, table, aargang) / f"part-{part:05d}.parquet"

    # ----- listing ------------------------------------------------------------------------
    def registers(self) -> list[str]:
        """Registers that hold at least one table folder."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def tables(self, register: str) -> list[str]:
        """Tables of a register that hold at least one årgang."""
        folder = self.register_dir(register)
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if p.is_dir() and _NAME.match(p.name) and self.aargang_list(register, p.name)
        )

    def aargang_list(self, register: str, table: str) -> list[int]:
        """The årganger stored for a table, in order (staging folders are not counted)."""
        folder = self.table_dir(register, table)
        if not folder.is_dir():
            return []
        years = []
        for entry in folder.iterdir():
            match = _AARGANG_DIR.match(entry.name)
            if match and entry.is_dir():
                years.append(int(match.group(1)))
        return sorted(years)

    def files(self, register: str, table: str, aargang: int) -> list[Path]:
        """The Parquet files of one table's årgang."""
        return sorted(self.aargang_dir(register, table, aargang).glob("*.parquet"))

    # ----- writing ------------------------------------------------------------------------
    @contextmanager
    def writing(self, registers: Iterable[str]) -> Iterator[None]:
        """Hold the locks of these registers while writing to them outside this class (`synth`),
        so that a recovery in another process never removes a staging folder still being written."""
        with ExitStack() as stack:
            for name in sorted(set(registers)):
                stack.enter_context(self._lock(name))
            yield

    @contextmanager
    def _lock(self, register: str, blocking: bool = True) -> Iterator[bool]:
        folder = self.register_dir(register)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+b") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def write_aargang(
        self,
        register: str,
        table: str,
        aargang: int,
        data: TableData,
        *,
        replace: bool = False,
        rows_per_file: int = ROWS_PER_FILE,
    ) -> int:
        """Write one table's årgang whole or not at all; returns the number of rows written.

        Without `replace`, an existing årgang is an error raised before anything is written.
        """
        target = self.aargang_dir(register, table, aargang)
        where = f"{register}.{table} årgang {aargang}"
        with self._lock(register):
            if target.exists() and not replace:
                raise IplosError(f"{where} is stored already (pass replace=True to overwrite it)")
            with atomic_directory(target, replace=replace) as staging:
                return write_parts(staging, data, aargang, where, rows_per_file)

    def commit_aargang(
        self,
        register: str,
        aargang: int,
        tables: Mapping[str, TableData],
        *,
        replace: bool = False,
        rows_per_file: int = ROWS_PER_FILE,
    ) -> dict[str, int]:
        """Write every table of one årgang, or none of them; returns rows written per table."""
        rows: dict[str, int] = {}
        with self.aargang_transaction(register, aargang, list(tables), replace=replace) as staging:
            for table, data in tables.items():
                where = f"{register}.{table} årgang {aargang}"
                rows[table] = write_parts(staging[table], data, aargang, where, rows_per_file)
        return rows

    @contextmanager
    def aargang_transaction(
        self, register: str, aargang: int, tables: Sequence[str], *, replace: bool = False
    ) -> Iterator[dict[str, Path]]:
        """Yield an empty staging folder per table; on normal exit all become the årgang together.

        The caller writes Parquet files (without the `aargang` column) into each folder. An exception
        inside the block, or a failure while renaming, leaves the store as it was.
        """
        _check_aargang(aargang)
        if not tables:
            raise IplosError("an årgang commit needs at least one table")
        if len(set(tables)) != len(tables):
            raise IplosError(f"tables named twice in one commit: {sorted(tables)}")
        register_dir = self.register_dir(register)
        with self._lock(register):
            entries = []
            token = uuid.uuid4().hex[:8]
            for table in tables:
                target = self.aargang_dir(register, table, aargang)
                existed = target.exists()
                if existed and not replace:
                    raise IplosError(
                        f"{register}.{table} årgang {aargang} is stored already (pass replace to overwrite it)"
                    )
                name = target.name
                entries.append(
                    _Entry(
                        table=table,
                        target=str(target),
                        staging=str(target.parent / f".{name}.staging-{token}"),
                        old=str(target.parent / f".{name}.old-{token}"),
                        existed=existed,
                    )
                )
            journal = register_dir / f".commit-aargang={aargang}.json"
            if journal.exists():
                self._rollback(journal)
            write_text_atomic(journal, json.dumps([e.__dict__ for e in entries], indent=1))
            try:
                staging: dict[str, Path] = {}
                for entry in entries:
                    folder = Path(entry.staging)
                    folder.mkdir(parents=True)
                    staging[entry.table] = folder
                yield staging
                for entry in entries:
                    self._swap_in(entry)
            except BaseException:
                self._rollback(journal)
                raise
            # The commit point: once the journal is gone, recovery keeps the new årgang.
            journal.unlink()
            _fsync_dir(register_dir)
            for entry in entries:
                shutil.rmtree(entry.old, ignore_errors=True)

    @staticmethod
    def _swap_in(entry: _Entry) -> None:
        target, staging, old = Path(entry.target), Path(entry.staging), Path(entry.old)
        if entry.existed:
            os.replace(target, old)
        os.replace(staging, target)
        _fsync_dir(target.parent)

    @staticmethod
    def _rollback(journal: Path) -> None:
        """Undo an unfinished commit described by `journal`, then delete the journal."""
        raw = json.loads(journal.read_text(encoding="utf-8"))
        for item in raw:
            entry = _Entry(**item)
            target, staging, old = Path(entry.target), Path(entry.staging), Path(entry.old)
            shutil.rmtree(staging, ignore_errors=True)
            if entry.existed:
                if old.exists():
                    shutil.rmtree(target, ignore_errors=True)
                    os.replace(old, target)
            else:
                shutil.rmtree(target, ignore_errors=True)
            if target.parent.exists():
                _fsync_dir(target.parent)
        journal.unlink()

    # ----- recovery -----------------------------------------------------------------------
    def recover(self, register: str | None = None) -> list[Path]:
        """Roll back unfinished commits and remove staging folders a killed process left behind.

        Registers locked by a running commit are skipped. Returns the paths removed or restored.
        """
        touched: list[Path] = []
        for name in [register] if register else self.registers():
            folder = self.register_dir(name)
            if not folder.is_dir():
                continue
            with self._lock(name, blocking=False) as locked:
                if not locked:
                    continue
                for journal in sorted(folder.iterdir()):
                    if _JOURNAL.match(journal.name):
                        self._rollback(journal)
                        touched.append(journal)
                for table_dir in folder.iterdir():
                    if table_dir.is_dir() and _NAME.match(table_dir.name):
                        touched.extend(remove_stale_staging(table_dir))
        return touched
