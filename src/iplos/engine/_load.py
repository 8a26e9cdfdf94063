"""`load_extract`: validate a delivered extract and commit its årgang to the store whole, or nothing.

Validation and writing run on an embedded DuckDB whatever the configured query backend: loading is
a local step over local files, and the store's Parquet files are then read by either backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iplos.catalog import catalog
from iplos.config import Settings
from iplos.engine._extract import locate
from iplos.engine._store import RegisterStore
from iplos.engine._validate import CAP, Validation, ValidationReport
from iplos.errors import IplosError


@dataclass(frozen=True)
class LoadSummary:
    """What `load_extract` stored: rows per table of one register's årgang."""

    register: str
    aargang: int
    rows: dict[str, int]
    files: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"register": self.register, "aargang": self.aargang, "rows": self.rows, "files": self.files}


def _check_target(register: str, aargang: int, table: str | None) -> tuple[str, ...]:
    cat = catalog()
    reg = cat.register(register)
    if reg.kind == "keyholder":
        raise IplosError(f"{register!r} is not a data register and cannot be loaded")
    if aargang not in reg.years:
        raise IplosError(
            f"årgang {aargang} is outside the register {register!r} ({reg.first_year}-{reg.last_year})"
        )
    tables = cat.tables(register)
    if table is not None and table not in tables:
        raise IplosError(f"register {register!r} has no table {table!r} (tables: {', '.join(tables)})")
    return tables


def validate_extract(
    path: Path | str,
    register: str,
    aargang: int,
    *,
    table: str | None = None,
    settings: Settings | None = None,
    cap: int = CAP,
) -> ValidationReport:
    """Validate the extract at `path` against the catalogue without writing anything."""
    tables = _check_target(register, aargang, table)
    files, problems = locate(Path(path), tables, table)
    store = RegisterStore(settings)
    stored = store.files(register, "person", aargang) if "person" in tables else []
    with Validation(register, aargang, cap=cap, stored_person=stored) as validation:
        return validation.run(files, problems)


def load_extract(
    path: Path | str,
    register: str,
    aargang: int,
    *,
    table: str | None = None,
    replace: bool = False,
    settings: Settings | None = None,
    cap: int = CAP,
) -> LoadSummary:
    """Validate the extract at `path` and store its årgang: every table of it, or nothing.

    `path` is a CSV or Parquet file of one table (named by `table` or by the file name) or a folder
    with a file per table of the register. Any problem raises one `IplosError` listing them all
    (the first `cap` per rule, with totals) and leaves the store unchanged. An årgang already
    stored is an error unless `replace`.
    """
    tables = _check_target(register, aargang, table)
    files, problems = locate(Path(path), tables, table)
    store = RegisterStore(settings)
    if not replace:
        stored_tables = [f.table for f in files if store.aargang_dir(register, f.table, aargang).exists()]
        if stored_tables:
            raise IplosError(
                f"{register} årgang {aargang} is stored already for {', '.join(stored_tables)} "
                "(use --replace to overwrite it)"
            )
    in_extract = {f.table for f in files}
    stored = (
        store.files(register, "person", aargang) if "person" in tables and "person" not in in_extract else []
    )
    with Validation(register, aargang, cap=cap, stored_person=stored) as validation:
        report = validation.run(files, problems)
        if not report.ok:
            raise report.error()
        names = [f.table for f in files]
        with store.aargang_transaction(register, aargang, names, replace=replace) as staging:
            for name in names:
                validation.write(name, staging[name])
    return LoadSummary(
        register=register,
        aargang=aargang,
        rows={f.table: report.rows.get(f.table, 0) for f in files},
        files={f.table: str(f.path) for f in files},
    )
