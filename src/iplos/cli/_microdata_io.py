"""Microdata in and out for `iplos assess` and `iplos anonymise` (pyarrow + numpy, no pandas).

Reads CSV (separator detected or given) or Parquet into Arrow, encodes each quasi-identifier as
leaf indices of its hierarchy (one hash pass per column), groups the rows into the frequency
table `iplos.sdc` works on, and writes the transformed rows atomically: the output appears whole
or not at all.
"""

from __future__ import annotations

import datetime as dt
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


def read_table(
    path: Path, sep: str | None = None, dictionary: Sequence[str] = (), columns: Sequence[str] | None = None
) -> pa.Table:
    """Read CSV (all columns as text) or Parquet; errors name the file.

    Text columns of a Parquet file named in `dictionary` are read dictionary-encoded, as Parquet
    stores them: no string per row is built, and coding them costs one lookup per row. With
    `columns`, a Parquet file yields only those (in file order; `complete_table` adds the rest
    later), so columns that only pass through are not held while the search runs. CSV is read whole.
    """
    if not path.exists():
        raise IplosError(f"input file {path} does not exist")
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            # ParquetFile avoids importing pyarrow.dataset (0.6 s) that read_table pulls in.
            schema = pq.ParquetFile(path).schema_arrow
            names = schema.names
            selected = None
            if columns is not None:
                require_columns(schema, columns, str(path))
                if len(set(names)) == len(names):  # a repeated name cannot be selected alone
                    selected = [n for n in names if n in set(columns)]
            text = [
                f.name
                for f in schema
                if f.name in dictionary and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            ]
            # One thread: the columns read here decode quickly, and Arrow's reader threads cost more
            # CPU than they save wall time (1 million rows: 1.2-1.5 s CPU threaded, 0.9-1.1 s not).
            return pq.ParquetFile(path, read_dictionary=text or None).read(
                columns=selected, use_threads=False
            )
        import pyarrow.csv as pcsv

        delimiter = sep or detect_separator(path)
        with path.open(encoding="utf-8-sig") as fh:
            header = [n.strip() for n in fh.readline().rstrip("\r\n").split(delimiter)]
        return pcsv.read_csv(
            path,
            parse_options=pcsv.ParseOptions(delimiter=delimiter),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in header}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise IplosError(f"cannot read {path}: {exc}") from None


def complete_table(path: Path, partial: pa.Table) -> pa.Table:
    """The whole Parquet file in its column order, reusing the columns `partial` holds."""
    if not is_parquet(path):
        return partial
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(path).schema_arrow
        if schema.names == partial.column_names:
            return partial
        missing = [n for n in schema.names if n not in partial.column_names]
        rest = pq.ParquetFile(path).read(columns=missing, use_threads=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IplosError(f"cannot read {path}: {exc}") from None
    sources = [partial if n in partial.column_names else rest for n in schema.names]
    arrays = [t.column(n) for t, n in zip(sources, schema.names, strict=True)]
    fields = [t.schema.field(n) for t, n in zip(sources, schema.names, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=rest.schema.metadata))


def require_columns(table: pa.Table | pa.Schema, columns: Sequence[str], source: str) -> None:
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    missing = [c for c in columns if c not in names]
    if missing:
        raise IplosError(
            f"{source}: column(s) {', '.join(map(repr, missing))} not found; columns are {', '.join(names)}"
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


# A column's values as parts: per chunk, indices into that part's labels. A label of None stands
# for a value the part's index range covers but no row holds (integer ranges); a dictionary may
# also hold values no row uses, so "present" is checked where it matters (errors, sensitive labels).
Part = tuple[CodeArray, list[str | None]]

# Integer and date columns whose values span at most this many numbers are coded by offset from
# their minimum: no hashing, and labels are made only for the span.
SPAN_LIMIT = 1 << 16
_EPOCH = dt.date(1970, 1, 1)


def _parts(table: pa.Table, column: str, source: str) -> tuple[list[Part], bool]:
    """The column as parts, and whether every label of every part is held by some row."""
    col = table.column(column)
    if col.null_count:
        raise IplosError(
            f"{source}: column {column!r} has {col.null_count} missing value(s)",
            [Problem("missing value", file=source, column=column)],
        )
    chunks = [c for c in col.chunks if len(c)]
    if not chunks:
        return [], True
    if pa.types.is_dictionary(col.type):
        return [(_numpy_values(c.indices), list(_as_text(c.dictionary.to_pylist()))) for c in chunks], False
    ranged = _integer_parts(col.type, chunks)
    if ranged is not None:
        return ranged, False
    encoded = col.combine_chunks().dictionary_encode() if len(chunks) != 1 else chunks[0].dictionary_encode()
    return [(_numpy_values(encoded.indices), list(_as_text(encoded.dictionary.to_pylist())))], True


def _integer_parts(kind: pa.DataType, chunks: list[pa.Array]) -> list[Part] | None:
    """Integer or date32 chunks as offsets from their minimum, when the values span few numbers."""
    is_date = pa.types.is_date32(kind)
    if not (
        is_date
        or pa.types.is_signed_integer(kind)
        or (pa.types.is_unsigned_integer(kind) and kind.bit_width <= 32)
    ):
        return None  # uint64 may not fit the int64 arithmetic below
    values = [_numpy_values(c) for c in chunks]
    low = min(int(v.min()) for v in values)
    high = max(int(v.max()) for v in values)
    base = 0 if low >= 0 and high < 4096 else low  # small non-negative values index directly
    if high - base >= SPAN_LIMIT:
        return None
    span = range(base, high + 1)
    labels: list[str | None]
    if is_date:
        labels = [(_EPOCH + dt.timedelta(days=d)).isoformat() for d in span]
    else:
        labels = [str(v) for v in span]
    # v - base lies in [0, span) and so fits v's own type: no wider temporary array.
    return [(v if base == 0 else np.subtract(v, v.dtype.type(base)), labels) for v in values]


_INT_TYPES = {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}
_UINT_TYPES = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}


def _numpy_values(array: pa.Array) -> CodeArray:
    """An integer or date32 Arrow array (no nulls) as a numpy view of its buffer.

    `to_numpy`/`np.asarray` would import pandas through pyarrow's compatibility layer (0.5 s).
    """
    kind = array.type
    bits = 32 if pa.types.is_date32(kind) else kind.bit_width
    table = _UINT_TYPES if pa.types.is_unsigned_integer(kind) else _INT_TYPES
    dtype = np.dtype(table[bits])
    return np.frombuffer(
        array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize
    )


def _present(parts: list[Part]) -> list[npt.NDArray[np.bool_]]:
    """Which labels of each part some row holds."""
    return [np.bincount(index, minlength=len(labels)) > 0 for index, labels in parts]


def encode_column(table: pa.Table, column: str, source: str) -> tuple[IntArray, list[str]]:
    """Row codes into the column's distinct values (those some row holds), and those values as text."""
    parts, exact = _parts(table, column, source)
    present = [np.ones(len(labels), dtype=np.bool_) for _, labels in parts] if exact else _present(parts)
    position: dict[str, int] = {}
    luts = []
    for (_, labels), held in zip(parts, present, strict=True):
        lut = np.zeros(len(labels), dtype=np.int64)
        for i in np.flatnonzero(held):
            label = labels[i]
            assert label is not None
            lut[i] = position.setdefault(label, len(position))
        luts.append(lut)
    codes = np.empty(table.num_rows, dtype=np.int64)
    _fill(codes, parts, luts)
    return codes, list(position)


def _fill(out: CodeArray, parts: list[Part], luts: Sequence[CodeArray]) -> None:
    """out = each part's lookup table taken at its indices, parts one after another."""
    start = 0
    for (index, _), lut in zip(parts, luts, strict=True):
        stop = start + index.shape[0]
        # Indices lie in range by construction; "clip" skips numpy's per-element bounds check.
        np.take(lut, index, out=out[start:stop], mode="clip")
        start = stop


def leaf_codes(
    table: pa.Table, column: str, hierarchy: Hierarchy, source: str, lookup: CodeArray | None = None
) -> CodeArray:
    """Leaf index of each row's value (int32); values missing from the hierarchy are an error naming them.

    With `lookup` (a code per leaf, e.g. its value at some level), each row gets its leaf's code
    instead, in the same single pass over the rows.
    """
    parts, exact = _parts(table, column, source)
    luts = []
    unknown: dict[str, None] = {}
    for part_no, (_, labels) in enumerate(parts):
        lut = np.full(len(labels), -1, dtype=np.int32)  # int32 rows: half the memory at 10 million
        missing = []
        for i, label in enumerate(labels):
            index = None if label is None else hierarchy.leaf_index(label)
            if index is None:
                missing.append(i)
            else:
                lut[i] = index
        if missing and not exact:
            held = _present([parts[part_no]])[0]
            missing = [i for i in missing if held[i]]
        unknown.update((str(labels[i]), None) for i in missing)
        if lookup is not None:
            lut = np.where(lut >= 0, lookup[lut], -1).astype(np.int32)
        luts.append(lut)
    if unknown:
        shown = list(unknown)[:10]
        raise IplosError(
            f"{source}: column {column!r} has {len(unknown)} value(s) not in hierarchy {hierarchy.name!r}",
            [Problem("value not in the hierarchy", file=source, column=column, value=v) for v in shown],
        )
    out = np.empty(table.num_rows, dtype=np.int32)
    _fill(out, parts, luts)
    return out


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
    grouped: Sequence[CodeArray]
    if float(np.prod([max(r, 1) for r in radices], dtype=np.float64)) >= 2.0**62:
        from iplos.sdc._frequency import group_rows

        grouped, counts = group_rows(columns, radices, np.ones(n, dtype=np.int64))
    else:
        from iplos.sdc._frequency import split_keys

        key = columns[0].astype(np.int64) if columns else np.zeros(0, dtype=np.int64)
        for col, radix in zip(columns[1:], radices[1:], strict=True):
            key *= max(radix, 1)
            key += col
        key.sort()
        boundary = np.empty(n, dtype=np.bool_)
        if n:
            boundary[0] = True
            np.not_equal(key[1:], key[:-1], out=boundary[1:])
        starts = np.flatnonzero(boundary)
        del boundary
        counts = np.diff(starts, append=n).astype(np.int64)
        distinct = key[starts]
        del key, starts
        grouped = split_keys(distinct, radices)
        del distinct
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
