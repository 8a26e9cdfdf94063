"""The processor's copy of a case's linked extract, kept between the steps of one delivery round.

Proposing a plan, answering a counter-proposal and delivering each need the case's linked extract.
Linking anew for each step repeats the same work on the same data (at national scale most of a
delivery's time), so the processor keeps the last linkage of a case in its work folder
(`$IPLOS_HOME/work/linked/<case>/`, folder mode 0700, files 0600) and reuses it while its key is
unchanged. The key covers what decides the result: the linkage request (population, årganger,
variables, approvals), the shape asked for, the register files read (path, size and mtime of each),
the key holder's identity list (size and mtime) and keys (one-way ids), and the program version.

What is kept holds no pseudonym, person number or fødselsnummer: only the extract and the tables
with serial numbers of the copy's own. Every use draws new serial numbers for the persons
(`renumbered`), excluding the numbers of the case's earlier deliveries, exactly as a new linkage
would; the copy's numbers are never delivered. The processor removes the copy once a delivery is
recorded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iplos.config import Settings
from iplos.ident import KeyStore
from iplos.linkage._extract import LinkageCount, LinkageReport, LinkedExtract
from iplos.linkage._query import OutputColumn
from iplos.linkage._request import LinkageRequest, VariableRef
from iplos.linkage._serial import draw_serial_numbers

SERIAL = "lopenr"
_EXTRACT = "extract.parquet"
_META = "linkage.json"
_FORMAT = 1


def _canonical(value: Any) -> Any:
    """A JSON-able form of a request whose text does not depend on set order or hash seeds."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _files_of(folder: Path) -> list[list[Any]]:
    out: list[list[Any]] = []
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                st = path.stat()
                out.append([str(path.relative_to(folder)), st.st_size, st.st_mtime_ns])
    return out


def linkage_key(settings: Settings, keys: KeyStore, request: LinkageRequest, shape: str) -> str:
    """The key of a linkage's result: what it read and what it was asked (see the module)."""
    from iplos import __version__

    identities = settings.keyholder_dir / "identities.parquet"
    st = identities.stat() if identities.is_file() else None
    registers = sorted(set(request.registers))
    content = {
        "format": _FORMAT,
        "version": __version__,
        "shape": shape,
        "request": _canonical(request),
        "data": {r: _files_of(settings.registers_dir / r) for r in registers},
        "identities": [st.st_size, st.st_mtime_ns] if st else None,
        "keys": {r: keys.key(r).key_id() for r in registers if r in keys},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def folder_of(settings: Settings, case_id: str) -> Path:
    """Where the processor keeps the linked extract of a case."""
    return settings.home / "work" / "linked" / case_id


def store(folder: Path, key: str, extract: LinkedExtract, tables: Mapping[str, pa.Table]) -> None:
    """Keep `extract` and `tables` under `key`, replacing whatever the folder held (atomically)."""
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder.parent, 0o700)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))  # mode 0700
    try:
        pq.write_table(extract.table, staging / _EXTRACT, compression="zstd")
        for name, table in tables.items():
            pq.write_table(table, staging / f"table-{name}.parquet", compression="zstd")
        meta = {
            "key": key,
            "tables": sorted(tables),
            "columns": [
                {"name": c.name, "source": dataclasses.asdict(c.source), "derivation": c.derivation}
                for c in extract.columns
            ],
            "report": extract.report.to_dict(),
        }
        (staging / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        for path in staging.iterdir():
            os.chmod(path, 0o600)
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old."))
        if folder.exists():
            os.replace(folder, old / "linked")
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    except OSError:
        # Keeping the linkage is an optimisation: when another step of the case stores its own at
        # the same moment, one of them wins and the other is dropped.
        shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load(folder: Path, key: str) -> tuple[LinkedExtract, dict[str, pa.Table]] | None:
    """The kept linkage when it was made under `key`, else None."""
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if meta.get("key") != key:
        return None
    try:
        table = pq.read_table(folder / _EXTRACT)
        tables = {name: pq.read_table(folder / f"table-{name}.parquet") for name in meta["tables"]}
    except (OSError, pa.ArrowException):  # replaced or removed while read: link anew
        return None
    r = meta["report"]
    report = LinkageReport(
        case_id=r["case_id"],
        backend=r["backend"],
        counts=tuple(
            LinkageCount(c["register"], c["aargang"], c["persons"], c["matched"]) for c in r["counts"]
        ),
        rows=r["rows"],
        persons=r["persons"],
    )
    columns = tuple(
        OutputColumn(c["name"], VariableRef(**c["source"]), c["derivation"]) for c in meta["columns"]
    )
    return LinkedExtract(case_id=report.case_id, table=table, columns=columns, report=report), tables


def discard(folder: Path) -> None:
    """Remove the kept linkage of a case (after its delivery)."""
    shutil.rmtree(folder, ignore_errors=True)


def renumbered(
    extract: LinkedExtract,
    tables: Mapping[str, pa.Table],
    table_keys: Mapping[str, Sequence[str]],
    exclude: Iterable[int],
    seed: bytes | None = None,
) -> tuple[LinkedExtract, dict[str, pa.Table]]:
    """The extract and tables with fresh serial numbers (none in `exclude`), the same in every table."""
    old = np.unique(extract.table.column(SERIAL).to_numpy(zero_copy_only=False).astype(np.int64))
    new = draw_serial_numbers(len(old), seed=seed, exclude=exclude)

    def relabel(table: pa.Table, key: Sequence[str]) -> pa.Table:
        values = table.column(SERIAL).to_numpy(zero_copy_only=False).astype(np.int64)
        column = pa.array(new[np.searchsorted(old, values)], type=pa.int32())
        out = table.set_column(table.schema.get_field_index(SERIAL), SERIAL, column)
        return out.sort_by([(c, "ascending") for c in (*key, *(c for c in out.column_names if c not in key))])

    table = relabel(extract.table, (SERIAL, "aargang"))
    others = {name: relabel(t, table_keys[name]) for name, t in tables.items()}
    return dataclasses.replace(extract, table=table), others
