"""Where the backends differ: one small mapping, and errors that name the backend and the operation.

Query builders never name a backend. When an expression uses an operation that one backend lacks,
Ibis raises while compiling; `translate_errors` turns that into an `IplosError` that says which
backend lacks which operation, so the user can switch backend or rewrite the query (splink keeps its
dialect gaps in one file the same way).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import ibis.common.exceptions as ibis_errors

from iplos.errors import IplosError

Backend = Literal["duckdb", "spark"]

# Operations known to be missing on a backend (Ibis operation or engine method -> advice).
# Kept in step with the Ibis compilers' UNSUPPORTED_OPS; the engine tests pin each entry.
GAPS: dict[Backend, dict[str, str]] = {
    "duckdb": {},
    "spark": {
        "Kurtosis": "compute it on the frequency table in numpy instead",
        "RandomUUID": "generate identifiers outside the query",
        "RowID": "number rows with ibis.row_number() over an explicit order",
        "StringToTime": "parse times with a cast to timestamp",
        "TimestampBucket": "truncate timestamps with .truncate() instead",
    },
}

# Where the engine takes its own path on one backend because the Ibis call is broken there.
WORKAROUNDS: dict[Backend, dict[str, str]] = {
    "duckdb": {},
    "spark": {
        "to_parquet": "Spark writes a folder of part files: Engine.write_parquet streams batches into one file",
        "memtable": "Ibis goes through pandas, which makes a null string 'NaN': _spark.ArrowSparkBackend sends Arrow",
        "to_pyarrow": "Ibis goes through toPandas, which loses nulls and int64 digits: ArrowSparkBackend uses toArrow",
    },
}


def gap_error(backend: Backend, operation: str, detail: str | None = None) -> IplosError:
    """The error for an operation that `backend` cannot run."""
    advice = GAPS.get(backend, {}).get(operation)
    text = f"backend {backend!r} has no operation {operation!r}"
    if advice:
        text += f": {advice}"
    elif detail:
        text += f" ({detail})"
    return IplosError(text)


def require(backend: Backend, operation: str) -> None:
    """Raise the gap error when `operation` is a declared gap of `backend`."""
    if operation in GAPS.get(backend, {}):
        raise gap_error(backend, operation)


def _operation_name(exc: Exception) -> str:
    """The Ibis operation named in a compile error (quoted, or the first word of the message)."""
    text = str(exc).strip()
    quoted = re.search(r"'(\w+)' operation", text)
    if quoted:
        return quoted.group(1)
    first = text.split()[0] if text else type(exc).__name__
    return first.rstrip(":").split(".")[-1]


@contextmanager
def translate_errors(backend: Backend) -> Iterator[None]:
    """Turn Ibis's 'operation not supported' into an `IplosError` naming backend and operation.

    DuckDB is pinned to the 1.4 line, whose API Ibis 12 uses as it is (DuckDB 1.5 deprecates and 2.0
    removes `fetch_record_batch`, which Ibis 12's batch streaming calls), so no DuckDB warning is hidden.
    One warning is, by its exact text: Ibis 12 converts PySpark results through pandas and reads the
    option `future.infer_string` there, which pandas 3.1 deprecates (pandas 3 always infers str). It
    says nothing about our code, and no Ibis release we can use avoids it; pinning pandas 3.0 would
    move every other package to an older pandas for one warning.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"The 'future\.infer_string' option is deprecated", category=Warning
            )
            yield
    except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError) as exc:
        raise gap_error(backend, _operation_name(exc), str(exc)) from exc
