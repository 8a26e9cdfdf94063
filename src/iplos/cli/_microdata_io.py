"""Microdata in and out for `iplos assess` and `iplos anonymise` (pyarrow + numpy, no pandas).

Reads CSV (separator detected or given) or Parquet into Arrow, encodes each quasi-identifier as
leaf indices of its hierarchy (one hash pass per column), groups the rows into the frequency
table `iplos.sdc` works on, and writes the transformed rows atomically: the output appears whole
or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError, Problem
from iplos.sdc import FrequencyTable

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.integer[Any]]

SEPARATORS = (";", ",", "\t", "|")


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".pq"}


def detect_separator(path: Path) -> str:
    """The separator that splits the header line into the most fields."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline()
    except OSError as exc:
        raise IplosError(f"cannot read {path}: {exc.strerror}") from None
    return max(SEPARATORS, key=header.count)


def read_table(path: Path, sep: str | None = None) -> pa.Table:
    """Read CSV (all columns as text) or Parquet; errors name the file."""
    if not path.exists():
        raise IplosError(f"input file {path} does not exist")
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            # ParquetFile avoids importing pyarrow.dataset (0.6 s) that read_table pulls in.
            return pq.ParquetFile(path).read()
        import pyarrow.csv as pcsv

        delimiter = sep or detect_separator(path)
        with path.open(encoding="utf-8-sig") as fh:
            names = [n.strip() for n in fh.readline().rstrip("\r\n").split(delimiter)]
        return pcsv.read_csv(
            path,
            parse_options=pcsv.ParseOptions(delimiter=delimiter),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise IplosError(f"cannot read {path}: {exc}") from None


def require_columns(table: pa.Table, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise IplosError(
            f"{source}: column(s) {', '.join(map(repr, missing))} not found; "
            f"columns are {', '.join(table.column_names)}"
        )


def _as_text(values: list[Any]) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return out


def encode_column(table: pa.Table, column: str, source: str) -> tuple[CodeArray, list[str]]:
    """Row codes into the column's distinct values, and those values as text."""
    col = table.column(column)
    if col.null_count:
        raise IplosError(
            f"{source}: column {column!r} has {col.null_count} missing value(s)",
            [Problem("missing value", file=source, column=column)],
        )
    encoded = (
        col.combine_chunks().dictionary_encode() if col.num_chunks != 1 else col.chunk(0).dictionary_encode()
    )
    labels = _as_text(encoded.dictionary.to_pylist())
    return _numpy_indices(encoded.indices), labels


_INT_TYPES = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}


def _numpy_indices(indices: pa.Array) -> CodeArray:
    """Integer Arrow array (no nulls) as int64 numpy, read from its buffer.

    `to_numpy`/`np.asarray` would import pandas through pyarrow's compatibility layer (0.5 s).
    """
    dtype = np.dtype(_INT_TYPES[indices.type.bit_width])
    values = np.frombuffer(
        indices.buffers()[1], dtype=dtype, count=len(indices), offset=indices.offset * dtype.itemsize
    )
    return values.astype(np.int64) if dtype.itemsize > 4 else values


def leaf_codes(table: pa.Table, column: str, hierarchy: Hierarchy, source: str) -> CodeArray:
    """Leaf index of each row's value; values missing from the hierarchy are an error naming them."""
    codes, labels = encode_column(table, column, source)
    lut = np.empty(len(labels), dtype=np.int32)  # int32 rows: half the memory at 10 million rows
    unknown = []
    for i, label in enumerate(labels):
        index = hierarchy.leaf_index(label)
        if index is None:
            unknown.append(label)
        lut[i] = -1 if index is None else index
    if unknown:
        shown = unknown[:10]
        raise IplosError(
            f"{source}: column {column!r} has {len(unknown)} value(s) not in hierarchy {hierarchy.name!r}",
            [Problem("value not in the hierarchy", file=source, column=column, value=v) for v in shown],
        )
    return lut[codes]


def sensitive_codes(table: pa.Table, column: str, source: str) -> tuple[IntArray, tuple[str, ...]]:
    """Codes into the sorted distinct values of a sensitive column."""
    from iplos.sdc._frequency import sort_labels

    codes, labels = encode_column(table, column, source)
    ordered = sort_labels(labels)
    position = {lab: i for i, lab in enumerate(ordered)}
    lut = np.array([position[lab] for lab in labels], dtype=np.int64)
    return lut[codes], ordered


def build_frequency_table(
    quasi_identifiers: Sequence[str],
    row_codes: Sequence[CodeArray],
    domain_sizes: Sequence[int],
    sensitive: Sequence[str] = (),
    sensitive_row_codes: Sequence[CodeArray] = (),
    sensitive_labels: Sequence[tuple[str, ...]] = (),
) -> FrequencyTable:
    """Group per-row codes into the frequency table (sort-based; one int64 key per row)."""
    radices = [*domain_sizes, *(len(lab) for lab in sensitive_labels)]
    columns = [*row_codes, *sensitive_row_codes]
    n = columns[0].shape[0] if columns else 0
    if float(np.prod([max(r, 1) for r in radices], dtype=np.float64)) >= 2.0**62:
        from iplos.sdc._frequency import group_rows

        grouped, counts = group_rows(columns, radices, np.ones(n, dtype=np.int64))
    else:
        key = np.zeros(n, dtype=np.int64)
        for col, radix in zip(columns, radices, strict=True):
            key *= max(radix, 1)
            key += col
        key.sort()
        boundary = np.empty(n, dtype=np.bool_)
        if n:
            boundary[0] = True
            np.not_equal(key[1:], key[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        counts = np.diff(np.append(starts, n)).astype(np.int64)
        del boundary
        rest = key[starts]
        del key, starts
        grouped = []
        for radix in reversed(radices):
            grouped.append((rest % max(radix, 1)).astype(np.int32))
            rest = rest // max(radix, 1)
        grouped.reverse()
    q = len(quasi_identifiers)
    return FrequencyTable(
        quasi_identifiers=tuple(quasi_identifiers),
        codes=tuple(grouped[:q]),
        counts=counts,
        sensitive=tuple(sensitive),
        sensitive_codes=tuple(grouped[q:]),
        sensitive_labels=tuple(sensitive_labels),
    )


def replace_column(table: pa.Table, column: str, indices: CodeArray, labels: Sequence[str]) -> pa.Table:
    """Replace a column by dictionary-encoded text (indices into labels)."""
    index = np.ascontiguousarray(indices, dtype=np.int32)
    # from_buffers, not pa.array(numpy): the latter imports pandas (0.5 s).
    arrow_index = pa.Array.from_buffers(pa.int32(), len(index), [None, pa.py_buffer(index)])
    array = pa.DictionaryArray.from_arrays(arrow_index, _string_array(labels))
    position = table.column_names.index(column)
    return table.set_column(position, pa.field(column, array.type), array)


def _string_array(labels: Sequence[str]) -> pa.Array:
    """A string array built from buffers (pa.array on a list imports pandas to inspect it)."""
    encoded = [label.encode("utf-8") for label in labels]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    data = b"".join(encoded)
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def write_table(table: pa.Table, path: Path, sep: str | None = None) -> None:
    """Write CSV or Parquet atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            # Column statistics cost a sixth of the write and help no reader of a release much.
            pq.write_table(table, tmp, write_statistics=False)
        else:
            import pyarrow.csv as pcsv

            plain = table.cast(
                pa.schema(
                    [
                        pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                        for f in table.schema
                    ]
                )
            )
            pcsv.write_csv(plain, tmp, write_options=pcsv.WriteOptions(delimiter=sep or ";"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
