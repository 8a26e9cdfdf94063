"""The key holder's part of linkage: a mapping from each register's pseudonym to one person number.

Only the key holder has the identity list (`keyholder/identities.parquet`) and the per-register keys.
For a linkage it reads the identity list in chunks, computes every involved register's pseudonym of
each person and writes them, with a person number (the row of the identity list), to a temporary
Parquet file inside the key holder's folder. The engine joins the registers through that file. The
fødselsnummer never leaves this module: the mapping holds pseudonyms and person numbers only, and it
is deleted when the linkage ends.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iplos.errors import IplosError
from iplos.ident import KeyStore, pseudonymise

IDENTITY_COLUMN = "fnr"
PERSON = "person"
CHUNK_ROWS = 250_000
STALE_AFTER = 24 * 3600.0


def pseudonym_column(register: str) -> str:
    """Name of a register's pseudonym column in the mapping."""
    return f"ps_{register}"


def write_mapping(
    identities: Path, keys: KeyStore, registers: Sequence[str], target: Path, chunk_rows: int = CHUNK_ROWS
) -> int:
    """Write `person` and one pseudonym column per register to `target`; returns the person count.

    Memory holds one chunk of the identity list at a time, whatever its size.
    """
    if not identities.is_file():
        raise IplosError(f"{identities}: the key holder's identity list does not exist")
    register_keys = [(r, keys.key(r)) for r in registers]
    schema = pa.schema(
        [pa.field(PERSON, pa.int64()), *(pa.field(pseudonym_column(r), pa.string()) for r in registers)]
    )
    source = pq.ParquetFile(identities)
    if IDENTITY_COLUMN not in source.schema_arrow.names:
        raise IplosError(f"{identities}: the identity list has no column {IDENTITY_COLUMN!r}")
    offset = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in source.iter_batches(batch_size=chunk_rows, columns=[IDENTITY_COLUMN]):
            numbers = batch.column(0)
            columns: list[pa.Array] = [pa.array(range(offset, offset + len(numbers)), type=pa.int64())]
            columns += [pseudonymise(numbers, key) for _, key in register_keys]
            writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
            offset += len(numbers)
    return offset


def _remove_stale(folder: Path, max_age_seconds: float = STALE_AFTER) -> None:
    """Remove mappings a killed linkage left behind (old enough that no linkage still runs)."""
    if not folder.is_dir():
        return
    now = time.time()
    for entry in folder.glob("linkage-*"):
        if now - entry.stat().st_mtime > max_age_seconds:
            shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def mapping_file(
    keyholder_dir: Path, keys: KeyStore, registers: Sequence[str], chunk_rows: int = CHUNK_ROWS
) -> Iterator[Path]:
    """A temporary pseudonym mapping for `registers`, removed when the block ends (also on failure)."""
    _remove_stale(keyholder_dir / "tmp")
    work = keyholder_dir / "tmp" / f"linkage-{uuid.uuid4().hex}"
    work.mkdir(parents=True, mode=0o700)
    try:
        target = work / "mapping.parquet"
        write_mapping(keyholder_dir / "identities.parquet", keys, registers, target, chunk_rows)
        yield target
    finally:
        shutil.rmtree(work, ignore_errors=True)
