"""Ibis's PySpark backend with Arrow, not pandas, at both ends of the JVM.

Ibis 12 moves data between Python and Spark through pandas: an in-memory table (`ibis.memtable`)
becomes a pandas frame and then Spark rows, and a result comes back by `toPandas`. Under pandas 3
that loses values: a null string becomes the text 'NaN' (so `isnull()` no longer sees it and
GROUP BY makes it a class of its own), an integer column holding a null is carried as floats that
Spark's integer types turn into nulls everywhere, a float NaN becomes null, and an int64 beyond 2**53
loses its last digits on the way back. PySpark 4 reads and writes Arrow tables itself
(`createDataFrame(pa.Table)`, `DataFrame.toArrow`), so this backend uses those: every value keeps
its type and nulls stay nulls, as on DuckDB.

Imported only by `_connect._spark_backend`, so `import iplos.engine` needs no PySpark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.pyspark import Backend as IbisSparkBackend
from ibis.backends.pyspark.datatypes import PySparkSchema
from ibis.formats.pyarrow import PyArrowData


class ArrowSparkBackend(IbisSparkBackend):  # type: ignore[misc]  # Ibis's backend is untyped here
    """Ibis's PySpark backend whose in-memory tables and results travel as Arrow."""

    def _register_in_memory_table(self, op: ops.InMemoryTable) -> None:
        schema = op.schema
        frame = self._session.createDataFrame(
            op.data.to_pyarrow(schema), schema=PySparkSchema.from_ibis(schema)
        )
        frame.createOrReplaceTempView(op.name)

    def to_pyarrow(
        self,
        expr: ir.Expr,
        /,
        *,
        params: Mapping[ir.Scalar, Any] | None = None,
        limit: int | str | None = None,
        **kwargs: Any,
    ) -> Any:
        if self.mode == "streaming":  # Spark streams have no toArrow; Ibis refuses them as well
            return super().to_pyarrow(expr, params=params, limit=limit, **kwargs)
        self._run_pre_execute_hooks(expr)
        table_expr = expr.as_table()
        sql = self.compile(table_expr, params=params, limit=limit, **kwargs)
        with self._safe_raw_sql(sql) as query:
            result: pa.Table = query.toArrow()
        table = PyArrowData.convert_table(result, table_expr.schema())
        return expr.__pyarrow_result__(table)


def connect_spark(session: Any) -> ArrowSparkBackend:
    """The Arrow-carrying backend on `session`."""
    # Loading Ibis's own PySpark backend once registers its options (`ibis.options.pyspark`),
    # which the compiler reads; a subclass built directly would find them unset.
    _ = ibis.pyspark
    connected: ArrowSparkBackend = ArrowSparkBackend().connect(session)
    return connected
