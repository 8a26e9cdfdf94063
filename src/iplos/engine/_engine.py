"""`Engine`: register tables as Ibis expressions, and the few ways results leave the data plane.

Query builders elsewhere take and return Ibis tables and never name a backend; only this module and
`_connect` know whether DuckDB or Spark runs them.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from iplos.config import Settings
from iplos.engine._dialect import Backend, translate_errors
from iplos.engine._store import RegisterStore
from iplos.errors import IplosError

if TYPE_CHECKING:
    import pandas as pd

# The partition column comes from the folder name; both backends see it as int16 (DuckDB would say
# int64 and Spark int32, which would make the same query give differently typed answers).
AARGANG_TYPE = "int16"
COUNT = "count"
WEIGHT = "weight"


def _sort_key(columns: Sequence[str]) -> list[tuple[str, str, str]]:
    return [(c, "ascending", "at_end") for c in columns]


def _normalise(table: pa.Table) -> pa.Table:
    """Give both backends' results the same Arrow types (Spark may hand back large strings)."""
    fields = []
    changed = False
    for field in table.schema:
        if pa.types.is_large_string(field.type):
            fields.append(field.with_type(pa.string()))
            changed = True
        else:
            fields.append(field)
    return table.cast(pa.schema(fields)) if changed else table


class Engine:
    """The data plane on one backend: read register tables and files, run expressions, write results.

    Build it with `iplos.engine.connect`; use it as a context manager or call `close()`.
    """

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        con: BaseBackend,
        *,
        on_close: Callable[[], None] | None = None,
        spark_session: Any | None = None,
    ) -> None:
        self.settings = settings
        self.backend: Backend = backend
        self.con = con
        self.spark_session = spark_session
        """The SparkSession behind `con` (kept here: Ibis exposes it only as a private attribute)."""
        self.store = RegisterStore(settings, recover=False)
        self._views: list[str] = []
        # Release the memory slot and the spill folder on close, or when a forgotten engine is
        # collected (else a leaked engine would hold its slot for the rest of the process).
        self._finalizer = weakref.finalize(self, on_close) if on_close else None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Engine(backend={self.backend!r}, home={str(self.settings.home)!r})"

    # ----- reading ------------------------------------------------------------------------
    def aargang_list(self, register: str, table: str) -> list[int]:
        """The årganger stored for a register table, in order."""
        return self.store.aargang_list(register, table)

    def table(self, register: str, table: str, aargang: int | Sequence[int] | None = None) -> ir.Table:
        """A register table (all årganger, or the ones asked for) with its `aargang` column.

        Raises an `IplosError` when the table has no data yet or an asked-for årgang is missing.
        """
        stored = self.aargang_list(register, table)
        if not stored:
            where = self.store.table_dir(register, table)
            raise IplosError(f"register table {register}.{table} has no data yet (nothing under {where})")
        if aargang is None:
            years = stored
        else:
            wanted: Iterable[int] = [aargang] if isinstance(aargang, int | Integral) else aargang
            years = sorted({int(y) for y in wanted})
            missing = [y for y in years if y not in stored]
            if missing or not years:
                raise IplosError(
                    f"register table {register}.{table} has no årgang {', '.join(map(str, missing)) or '(none asked)'}"
                    f" (stored: {', '.join(map(str, stored))})"
                )
        folders = [self.store.aargang_dir(register, table, y) for y in years]
        with translate_errors(self.backend):
            if self.backend == "duckdb":
                expr = self.con.read_parquet(
                    [str(f / "*.parquet") for f in folders], hive_partitioning=True, union_by_name=True
                )
            else:
                expr = self._spark_view(
                    lambda reader: (
                        reader.option("basePath", str(self.store.table_dir(register, table)))
                        .option("mergeSchema", "true")
                        .parquet(*map(str, folders))
                    )
                )
        result: ir.Table = expr.mutate(aargang=expr["aargang"].cast(AARGANG_TYPE))
        return result

    def read_file(self, path: Path | str, schema: Mapping[str, Any] | None = None) -> ir.Table:
        """A CSV (header row, ',' separated) or Parquet file as a table.

        CSV columns are read as strings on every backend (so that codes such as kommune 0301 keep their
        leading zero and both backends agree); `schema` casts named columns to Ibis types.
        """
        path = Path(path)
        if not path.is_file():
            raise IplosError(f"{path}: no such file")
        suffix = path.suffix.lower()
        with translate_errors(self.backend):
            if suffix == ".parquet":
                if self.backend == "duckdb":
                    expr = self.con.read_parquet(str(path))
                else:
                    expr = self._spark_view(lambda reader: reader.parquet(str(path)))
            elif suffix == ".csv":
                if self.backend == "duckdb":
                    expr = self.con.read_csv(str(path), header=True, all_varchar=True, auto_detect=True)
                else:
                    expr = self._spark_view(
                        lambda reader: (
                            reader.option("header", "true").option("encoding", "UTF-8").csv(str(path))
                        )
                    )
            else:
                raise IplosError(f"{path}: unsupported file type {suffix!r} (use .csv or .parquet)")
        if schema:
            unknown = [c for c in schema if c not in expr.columns]
            if unknown:
                raise IplosError(f"{path}: no column(s) {', '.join(unknown)} to cast")
            expr = expr.cast(dict(schema))
        table: ir.Table = expr
        return table

    def _spark_view(self, read: Any) -> ir.Table:
        session = self._session()
        frame = read(session.read)
        name = f"iplos_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        table: ir.Table = self.con.table(name)
        return table

    def _session(self) -> Any:
        if self.spark_session is None:
            raise IplosError(
                "this Spark engine was built without its SparkSession (use iplos.engine.connect)"
            )
        return self.spark_session

    # ----- results ------------------------------------------------------------------------
    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Run `expr` and return its result as a pyarrow Table."""
        with translate_errors(self.backend):
            result = self.con.to_pyarrow(expr)
        if isinstance(result, pa.Table):
            return _normalise(result)
        return result

    def to_pandas(self, expr: ir.Expr) -> pd.DataFrame:
        """Run `expr` and return its result as a pandas DataFrame (Arrow-converted, same on both backends)."""
        frame: pd.DataFrame = self.to_arrow(expr).to_pandas()
        return frame

    def to_batches(self, expr: ir.Table, chunk_size: int = 1_000_000) -> pa.RecordBatchReader:
        """Run `expr` and stream its result in record batches of at most `chunk_size` rows."""
        with translate_errors(self.backend):
            reader: pa.RecordBatchReader = self.con.to_pyarrow_batches(expr, chunk_size=chunk_size)
        return reader

    def count(self, expr: ir.Table) -> int:
        """The number of rows of `expr`."""
        with translate_errors(self.backend):
            # through Arrow, as every other result: `execute` goes through pandas and Ibis 12 reads a
            # pandas option there that pandas 3.1 deprecates
            return int(self.con.to_pyarrow(expr.count()).as_py())

    def write_parquet(self, expr: ir.Table, path: Path | str) -> Path:
        """Write the result of `expr` to one Parquet file, atomically (the old file or the new, never a part)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with translate_errors(self.backend):
                if self.backend == "duckdb":
                    self.con.to_parquet(expr, tmp, compression="zstd")
                else:
                    # Spark writes a folder of part files; stream batches into one file instead.
                    reader = self.to_batches(expr)
                    with pq.ParquetWriter(tmp, reader.schema, compression="zstd") as writer:
                        for batch in reader:
                            writer.write_batch(batch)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def frequencies(
        self,
        expr: ir.Table,
        columns: Sequence[str],
        sensitive: Sequence[str] = (),
        weight: str | None = None,
    ) -> pa.Table:
        """The distinct combinations of `columns` (and `sensitive`) with their row count, in one GROUP BY.

        Returns a pyarrow Table with the grouping columns, `count` (int64, rows per combination) and,
        with `weight`, `weight` (float64, the sum of that column). Rows are sorted by the grouping
        columns, nulls last, so that both backends return the same table. Disclosure control reads
        the quasi-identifier classes and the sensitive values inside each class from it.
        """
        keys = [*columns, *sensitive]
        if not keys:
            raise IplosError("frequencies needs at least one column")
        if len(set(keys)) != len(keys):
            raise IplosError(f"a column is named twice in the frequency keys: {keys}")
        reserved = {COUNT, WEIGHT} & set(keys)
        if reserved:
            raise IplosError(
                f"columns named {sorted(reserved)} cannot be grouped on (reserved for the result)"
            )
        missing = [c for c in [*keys, *([weight] if weight else [])] if c not in expr.columns]
        if missing:
            raise IplosError(
                f"no column(s) {', '.join(missing)} in the table (it has {', '.join(expr.columns)})"
            )
        metrics: dict[str, ir.Value] = {COUNT: expr.count().cast("int64")}
        if weight:
            metrics[WEIGHT] = expr[weight].sum().cast("float64")
        grouped = expr.group_by(keys).aggregate(**metrics)
        result = self.to_arrow(grouped)
        return result.sort_by(_sort_key(keys)) if result.num_rows else result

    def close(self) -> None:
        """Release the backend: DuckDB's connection and memory slot; Spark's temporary views (the
        session is left running for the next engine)."""
        if self.backend == "spark":
            session = self._session()
            for name in self._views:
                session.catalog.dropTempView(name)
            self._views.clear()
        else:
            self.con.disconnect()
        if self._finalizer is not None:
            self._finalizer()  # runs connect's callback once: slot released, spill folder removed
