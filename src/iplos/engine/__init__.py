"""The data plane: register tables in Parquet, queried through one portable expression API.

- `connect(settings, backend, spark_session)` opens an `Engine` on DuckDB (embedded default) or Spark,
  as the configuration says (`IPLOS_ENGINE`). DuckDB runs within its slot of the process's memory
  budget (`IPLOS_MEMORY_LIMIT` / `IPLOS_ENGINE_SLOTS`) and spills beyond it; Spark runs locally or on
  the cluster `IPLOS_SPARK_MASTER` names (docs/scale.md).
- `Engine` reads register tables (`table`) and files (`read_file`) as Ibis tables, and returns results
  as Arrow, pandas or Parquet; `frequencies` is the one GROUP BY that disclosure control starts from.
- `RegisterStore` is the layout on disk and its all-or-nothing writes (`write_aargang`,
  `commit_aargang`, with recovery of a commit a crash interrupted).
- `load_extract` validates a delivered extract against the catalogue and commits its årgang whole;
  `validate_extract` only validates. A rejected extract raises `ExtractRejected`, whose
  `ValidationReport` lists every problem (file, row, column, value, rule id from `RULES`).
- `GAPS` names the operations a backend lacks; using one raises an error naming backend and operation.
"""

from __future__ import annotations

from iplos.engine._connect import connect
from iplos.engine._dialect import GAPS
from iplos.engine._engine import Engine
from iplos.engine._load import LoadSummary, load_extract, validate_extract
from iplos.engine._rules import RULES
from iplos.engine._store import RegisterStore, TableData
from iplos.engine._validate import ExtractRejected, ValidationReport

__all__ = [
    "GAPS",
    "RULES",
    "Engine",
    "ExtractRejected",
    "LoadSummary",
    "RegisterStore",
    "TableData",
    "ValidationReport",
    "connect",
    "load_extract",
    "validate_extract",
]
