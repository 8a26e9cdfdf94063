"""Where iplos keeps its data and which engines it uses, from the environment.

| variable | meaning | default |
|---|---|---|
| IPLOS_HOME | data folder (registers, case store, deliveries) | ./iplos-data |
| IPLOS_ENGINE | data-plane backend: duckdb or spark | duckdb |
| IPLOS_CASE_DB | SQLAlchemy URL of the case store | sqlite:///$IPLOS_HOME/cases.db |
| IPLOS_KEY_FILE | the key holder's pseudonym keys (never logged) | $IPLOS_HOME/keyholder/keys.json |
| IPLOS_AUDIT_KEY_FILE | the key that signs each case's head (the append-only anchor file of heads lies beside it); keep both outside the case database | $IPLOS_HOME/audit/audit.key |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Backend = Literal["duckdb", "spark"]


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with `Settings.from_env()` or directly in tests."""

    home: Path
    engine: Backend = "duckdb"
    case_db: str | None = None
    key_file: Path | None = None
    audit_key_file: Path | None = None

    @classmethod
    def from_env(cls, home: Path | str | None = None) -> Settings:
        root = Path(home or os.environ.get("IPLOS_HOME", "iplos-data")).resolve()
        engine = os.environ.get("IPLOS_ENGINE", "duckdb")
        if engine not in ("duckdb", "spark"):
            from iplos.errors import IplosError

            raise IplosError(f"IPLOS_ENGINE must be 'duckdb' or 'spark', not {engine!r}")
        key_file = os.environ.get("IPLOS_KEY_FILE")
        audit_key_file = os.environ.get("IPLOS_AUDIT_KEY_FILE")
        return cls(
            home=root,
            engine=engine,  # type: ignore[arg-type]
            case_db=os.environ.get("IPLOS_CASE_DB"),
            key_file=Path(key_file) if key_file else None,
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
    def case_db_url(self) -> str:
        return self.case_db or f"sqlite:///{self.home / 'cases.db'}"

    @property
    def key_path(self) -> Path:
        return self.key_file or self.keyholder_dir / "keys.json"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.home / "audit" / "audit.key"
