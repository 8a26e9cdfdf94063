"""The key holder's part of linkage: per register, a table from pseudonym to one person number.

Only the key holder has the identity list (`keyholder/identities.parquet`) and the per-register keys.
For each register it keeps a pseudonym table, `keyholder/linkage/<register>.parquet`: the person
number (the row of the identity list) and that register's pseudonym of the person. The engine joins
the registers through these tables. The fødselsnummer never leaves this module: the tables hold
pseudonyms and person numbers only.

A table is computed once (HMAC-SHA-256 of every identity, about a million a second on one core) and
reused by every later linkage for as long as it fits: its Parquet metadata records a fingerprint of
the identity list (size and SHA-256 of the file) and the register key's one-way id (never the key),
and a table whose fingerprint differs from today's identity list and key is computed anew. The tables
are as sensitive as the identity list and the keys together, so they stay in the key holder's folder
(folder mode 0700, files 0600). (Until round 3 the mapping was computed anew and deleted after each
linkage; at national scale that cost half of a linkage's CPU.)

Intermediate results of one linkage that carry pseudonyms (the population in the base register's
pseudonyms) go to a temporary folder in the key holder's folder (`work_folder`), removed when the
linkage ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from iplos.errors import IplosError
from iplos.ident import KeyStore, pseudonymise

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from iplos.engine import Engine

IDENTITY_COLUMN = "fnr"
PERSON = "person"
CHUNK_ROWS = 250_000
STALE_AFTER = 24 * 3600.0
TABLES_FOLDER = "linkage"
_FINGERPRINT_KEY = b"iplos.fingerprint"
_FORMAT = 1


def pseudonym_column(register: str) -> str:
    """Name of a register's pseudonym column in its pseudonym table."""
    return f"ps_{register}"


def _private_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def identity_fingerprint(identities: Path) -> dict[str, object]:
    """Size and SHA-256 of the identity list: a pseudonym table is valid for exactly this content."""
    if not identities.is_file():
        raise IplosError(f"{identities}: the key holder's identity list does not exist")
    digest = hashlib.sha256()
    with open(identities, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"size": identities.stat().st_size, "sha256": digest.hexdigest()}


def _fingerprint(identities: dict[str, object], key_id: str, register: str) -> str:
    return json.dumps(
        {"format": _FORMAT, "register": register, "identities": identities, "key_id": key_id}, sort_keys=True
    )


def write_pseudonym_table(
    identities: Path, keys: KeyStore, register: str, target: Path, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Write `person` and the register's pseudonym of every identity to `target`; returns the count.

    Memory holds one chunk of the identity list at a time, whatever its size. The file is written
    beside `target` (mode 0600) and renamed into place, so a reader sees the old table or the new.
    """
    key = keys.key(register)
    fingerprint = _fingerprint(identity_fingerprint(identities), key.key_id(), register)
    source = pq.ParquetFile(identities)
    if IDENTITY_COLUMN not in source.schema_arrow.names:
        raise IplosError(f"{identities}: the identity list has no column {IDENTITY_COLUMN!r}")
    schema = pa.schema(
        [pa.field(PERSON, pa.int64()), pa.field(pseudonym_column(register), pa.string())],
        metadata={_FINGERPRINT_KEY: fingerprint.encode()},
    )
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)  # mkstemp made it 0600; the writer reopens it
    tmp = Path(tmp_name)
    offset = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in source.iter_batches(batch_size=chunk_rows, columns=[IDENTITY_COLUMN]):
                numbers = batch.column(0)
                person = pa.array(range(offset, offset + len(numbers)), type=pa.int64())
                writer.write_batch(
                    pa.RecordBatch.from_arrays([person, pseudonymise(numbers, key)], schema=schema)
                )
                offset += len(numbers)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return offset


def _current(path: Path, fingerprint: str) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False
    return metadata.get(_FINGERPRINT_KEY) == fingerprint.encode()


def pseudonym_tables(keyholder_dir: Path, keys: KeyStore, registers: Sequence[str]) -> dict[str, Path]:
    """The pseudonym table of each register, computed when missing or out of date.

    Out of date means: made from another identity list or under another key of the register.
    Two processes needing the same table wait for each other (a lock file per register) rather
    than both computing it.
    """
    identities = keyholder_dir / "identities.parquet"
    ident = identity_fingerprint(identities)
    folder = _private_folder(keyholder_dir / TABLES_FOLDER)
    out: dict[str, Path] = {}
    for register in dict.fromkeys(registers):
        target = folder / f"{register}.parquet"
        fingerprint = _fingerprint(ident, keys.key(register).key_id(), register)
        if not _current(target, fingerprint):
            with open(folder / f".{register}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if not _current(target, fingerprint):  # another process may have made it meanwhile
                        write_pseudonym_table(identities, keys, register, target)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        out[register] = target
    return out


@dataclass
class KeyMap:
    """The pseudonym tables of one linkage, read in the engine: `of(register)` is (`person`, `ps_<register>`)."""

    engine: Engine
    paths: Mapping[str, Path]
    _tables: dict[str, ir.Table] = field(default_factory=dict, repr=False)

    def of(self, register: str) -> ir.Table:
        if register not in self.paths:
            raise IplosError(f"linkage: no pseudonym table of register {register!r} in this linkage")
        if register not in self._tables:
            self._tables[register] = self.engine.read_file(self.paths[register])
        return self._tables[register]


def _remove_stale(folder: Path, max_age_seconds: float = STALE_AFTER) -> None:
    """Remove work folders a killed linkage left behind (old enough that no linkage still runs)."""
    if not folder.is_dir():
        return
    now = time.time()
    for entry in folder.glob("linkage-*"):
        if now - entry.stat().st_mtime > max_age_seconds:
            shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def work_folder(keyholder_dir: Path) -> Iterator[Path]:
    """A temporary folder in the key holder's folder for one linkage, removed when the block ends."""
    _remove_stale(keyholder_dir / "tmp")
    work = keyholder_dir / "tmp" / f"linkage-{uuid.uuid4().hex}"
    work.mkdir(parents=True, mode=0o700)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def key_map(engine: Engine, keys: KeyStore, registers: Sequence[str]) -> Iterator[KeyMap]:
    """The `KeyMap` of `registers` on `engine` (tables computed first where needed)."""
    paths = pseudonym_tables(engine.settings.keyholder_dir, keys, registers)
    yield KeyMap(engine, paths)
