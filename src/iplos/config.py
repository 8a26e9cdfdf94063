"""Where iplos keeps its data and which engines it uses, from the environment.

| variable | meaning | default |
|---|---|---|
| IPLOS_HOME | data folder (registers, case store, deliveries) | ./iplos-data |
| IPLOS_ENGINE | data-plane backend: duckdb or spark | duckdb |
| IPLOS_CASE_DB | SQLAlchemy URL of the case store | sqlite:///$IPLOS_HOME/cases.db |
| IPLOS_KEY_FILE | the key holder's pseudonym keys (never logged) | $IPLOS_HOME/keyholder/keys.json |
| IPLOS_MEMORY_LIMIT | DuckDB memory budget of this process, e.g. 2GB, 512MiB (beyond it DuckDB spills) | 2GB |
| IPLOS_THREADS | DuckDB threads per connection | DuckDB's default (the cores) |
| IPLOS_ENGINE_SLOTS | DuckDB connections open at once in this process; each gets limit / slots | 2 |
| IPLOS_SPARK_MASTER | Spark master URL, e.g. spark://127.0.0.1:7077 (tools/spark_cluster.sh) | local[*] |
| IPLOS_SPARK_EXECUTOR_MEMORY | memory of each Spark executor on the cluster, e.g. 768m | 768m |
| IPLOS_SPARK_SHUFFLE_PARTITIONS | partitions of a Spark join or GROUP BY (Spark's own default is 200) | 8 |

DuckDB spills what exceeds its memory limit to `$IPLOS_HOME/spill/` (one folder per connection,
removed when it closes).
| IPLOS_AUDIT_KEY_FILE | the key that signs each case's head (the append-only anchor file of heads lies beside it); keep both outside the case database | $IPLOS_HOME/audit/audit.key |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Backend = Literal["duckdb", "spark"]

DEFAULT_MEMORY_LIMIT = 2 * 1000**3  # bytes: "2GB" as DuckDB reads it (decimal units)
DEFAULT_ENGINE_SLOTS = 2
DEFAULT_EXECUTOR_MEMORY = "768m"
DEFAULT_SHUFFLE_PARTITIONS = 8
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_SPARK_MEMORY = re.compile(r"^\d+[kmgt]?$")


def parse_size(text: str, name: str = "IPLOS_MEMORY_LIMIT") -> int:
    """Bytes in a size such as ``2GB``, ``512MiB`` or ``1.5 GB`` (DuckDB's units: KB = 1000, KiB = 1024).

    >>> parse_size("2GB"), parse_size("512MiB")
    (2000000000, 536870912)
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        from iplos.errors import IplosError

        raise IplosError(f"{name} must be a size such as 2GB or 512MiB, not {text!r}")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        from iplos.errors import IplosError

        raise IplosError(f"{name} must be above zero, not {text!r}")
    return value


def _positive_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        from iplos.errors import IplosError

        raise IplosError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with `Settings.from_env()` or directly in tests."""

    home: Path
    engine: Backend = "duckdb"
    case_db: str | None = None
    key_file: Path | None = None
    memory_limit: int = DEFAULT_MEMORY_LIMIT  # bytes, the process's DuckDB budget
    threads: int | None = None  # DuckDB threads per connection; None: DuckDB's default
    engine_slots: int = DEFAULT_ENGINE_SLOTS
    spark_master: str | None = None  # None: local mode
    spark_executor_memory: str = DEFAULT_EXECUTOR_MEMORY
    spark_shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS
    audit_key_file: Path | None = None

    @classmethod
    def from_env(cls, home: Path | str | None = None) -> Settings:
        root = Path(home or os.environ.get("IPLOS_HOME", "iplos-data")).resolve()
        engine = os.environ.get("IPLOS_ENGINE", "duckdb")
        if engine not in ("duckdb", "spark"):
            from iplos.errors import IplosError

            raise IplosError(f"IPLOS_ENGINE must be 'duckdb' or 'spark', not {engine!r}")
        key_file = os.environ.get("IPLOS_KEY_FILE")
        limit = os.environ.get("IPLOS_MEMORY_LIMIT")
        master = os.environ.get("IPLOS_SPARK_MASTER", "").strip() or None
        executor = os.environ.get("IPLOS_SPARK_EXECUTOR_MEMORY", DEFAULT_EXECUTOR_MEMORY).strip().lower()
        if not _SPARK_MEMORY.match(executor):
            from iplos.errors import IplosError

            raise IplosError(
                f"IPLOS_SPARK_EXECUTOR_MEMORY must be a Spark size such as 768m or 2g, not {executor!r}"
            )
        audit_key_file = os.environ.get("IPLOS_AUDIT_KEY_FILE")
        return cls(
            home=root,
            engine=engine,  # type: ignore[arg-type]
            case_db=os.environ.get("IPLOS_CASE_DB"),
            key_file=Path(key_file) if key_file else None,
            memory_limit=parse_size(limit) if limit else DEFAULT_MEMORY_LIMIT,
            threads=_positive_int("IPLOS_THREADS"),
            engine_slots=_positive_int("IPLOS_ENGINE_SLOTS") or DEFAULT_ENGINE_SLOTS,
            spark_master=master,
            spark_executor_memory=executor,
            spark_shuffle_partitions=_positive_int("IPLOS_SPARK_SHUFFLE_PARTITIONS")
            or DEFAULT_SHUFFLE_PARTITIONS,
            audit_key_file=Path(audit_key_file) if audit_key_file else None,
        )

    @property
    def registers_dir(self) -> Path:
        """Folder of the register tables (Parquet, partitioned by årgang)."""
        return self.home / "registers"

    @property
    def keyholder_dir(self) -> Path:
        """Folder only the key holder may read: identities and pseudonym keys."""
        return self.home / "keyholder"

    @property
    def deliveries_dir(self) -> Path:
        return self.home / "deliveries"

    @property
    def spill_dir(self) -> Path:
        """Where DuckDB spills intermediate results beyond its memory limit (one subfolder per connection)."""
        return self.home / "spill"

    @property
    def case_db_url(self) -> str:
        return self.case_db or f"sqlite:///{self.home / 'cases.db'}"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.keyholder_dir / "keys.json"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.home / "audit" / "audit.key"
