"""Find the files of a delivered extract and read them into DuckDB as text, one table per file.

An extract is a file per register table (`person.csv`, `tjeneste.parquet`, ...), either one file named
on the command line or a folder holding one file per table of the register. Every column is read as
text (`VARCHAR`) so that the validator itself decides what is a valid integer, date or code, and so
that kommune codes keep their leading zero. A row is numbered from 1 at the first data row (in a CSV,
row N is on line N + 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from iplos.errors import IplosError, Problem

FileFormat = Literal["csv", "parquet"]
_SUFFIX: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet"}
_IGNORED = re.compile(r"^(\..*|readme(\..*)?|manifest\..*|.*\.md|.*\.txt|.*\.sha256)$", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d[\d .-]{4,}\d")


@dataclass(frozen=True)
class ExtractFile:
    """One file of an extract and the register table it holds."""

    table: str
    path: Path
    format: FileFormat


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (column names come from the files, so they are always quoted)."""
    return '"' + name.replace('"', '""') + '"'


def scrub(text: str) -> str:
    """A message from a reader with every run of six or more digits masked (it may quote a line)."""
    return _DIGIT_RUN.sub(lambda m: "*" * len(m.group(0)), text)


def locate(path: Path, tables: tuple[str, ...], table: str | None) -> tuple[list[ExtractFile], list[Problem]]:
    """The files of the extract at `path` (a file, or a folder with a file per table) and any problems."""
    path = Path(path)
    if not path.exists():
        raise IplosError(f"{path}: no such file or folder")
    if path.is_file():
        fmt = _SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise IplosError(f"{path}: unsupported file type {path.suffix!r} (use .csv or .parquet)")
        name = table or path.stem.lower()
        if name not in tables:
            hint = "name the table with --table" if table is None else "the register's tables are"
            raise IplosError(f"{path}: {name!r} is not a table of the register ({hint}: {', '.join(tables)})")
        return [ExtractFile(name, path, fmt)], []
    register_tables = tables
    if table is not None:
        tables = (table,)
    files: dict[str, ExtractFile] = {}
    problems: list[Problem] = []
    for entry in sorted(path.iterdir()):
        if _IGNORED.match(entry.name) or entry.is_dir():
            continue
        fmt = _SUFFIX.get(entry.suffix.lower())
        stem = entry.stem.lower()
        if fmt is not None and stem in register_tables and stem not in tables:
            continue  # another table of the register, not asked for with --table
        if fmt is None or stem not in tables:
            problems.append(
                Problem(
                    f"unexpected file; an extract holds {', '.join(f'{t}.csv' for t in tables)} (or .parquet)",
                    file=str(entry),
                    rule="file.unknown",
                )
            )
        elif stem in files:
            problems.append(
                Problem(f"table {stem!r} is delivered twice", file=str(entry), rule="file.duplicate")
            )
        else:
            files[stem] = ExtractFile(stem, entry, fmt)
    for name in tables:
        if name not in files:
            problems.append(
                Problem(
                    f"the extract has no file for table {name!r}", file=str(path), rule="file.missing_table"
                )
            )
    return [files[t] for t in tables if t in files], problems


def read_raw(con: Any, source: ExtractFile, raw: str) -> tuple[list[str], dict[str, str], list[Problem]]:
    """Read `source` into the DuckDB table `raw` (all text, file order kept in `rowid`).

    Returns the column names, the source type of each column, and problems (malformed CSV lines, or
    a file DuckDB cannot read at all).
    """
    import duckdb

    path = sql_string(str(source.path))
    problems: list[Problem] = []
    try:
        if source.format == "csv":
            rejects = f"{raw}_rejects"
            con.execute(
                f"CREATE TABLE {ident(raw)} AS SELECT * FROM read_csv({path}, header = true, "
                f"all_varchar = true, store_rejects = true, rejects_table = {sql_string(rejects)}, "
                f"rejects_scan = {sql_string(rejects + '_scan')})"
            )
            for line, column, error_type in con.execute(
                f"SELECT line, column_name, error_type FROM {ident(rejects)} ORDER BY line"
            ).fetchall():
                problems.append(
                    Problem(
                        f"malformed CSV line ({str(error_type).lower()})",
                        file=str(source.path),
                        row=int(line) - 1,
                        column=None if column is None else scrub(str(column)),
                        rule="file.malformed",
                    )
                )
            types = dict.fromkeys(_columns(con, raw), "VARCHAR")
        else:
            described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
            types = {str(row[0]): str(row[1]) for row in described}
            casts = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in types)
            con.execute(f"CREATE TABLE {ident(raw)} AS SELECT {casts} FROM read_parquet({path})")
    except duckdb.Error as exc:
        reason = scrub(str(exc).splitlines()[0])
        problems.append(
            Problem(f"cannot read the file: {reason}", file=str(source.path), rule="file.unreadable")
        )
        return [], {}, problems
    return list(types), types, problems


def _columns(con: Any, table: str) -> list[str]:
    return [str(row[0]) for row in con.execute(f"DESCRIBE {ident(table)}").fetchall()]
