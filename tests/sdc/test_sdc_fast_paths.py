"""The shortcuts that make `iplos anonymise` fast give the plain answer.

Key splitting and the order check of `iplos.sdc._frequency`, and the command line's column coding
(dictionary-encoded Parquet chunks, integer and date columns by offset, partial reads).
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.catalog.hierarchy import Hierarchy
from iplos.cli import _microdata_io as io
from iplos.errors import IplosError
from iplos.sdc import _frequency
from iplos.sdc._frequency import split_keys, strictly_ascending


@settings(max_examples=60, deadline=None)
@given(
    radices=st.lists(st.sampled_from([1, 2, 3, 40, 357, 1827, 70_000, 2**31 + 11]), min_size=1, max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_keys_inverts_mixed_radix(radices: list[int], seed: int) -> None:
    space = int(np.prod(radices, dtype=np.float64))
    if space >= 2**62:
        radices = radices[:2]
    rng = np.random.default_rng(seed)
    columns = [rng.integers(0, r, 50) for r in radices]
    keys = np.zeros(50, dtype=np.int64)
    for col, r in zip(columns, radices, strict=True):
        keys = keys * r + col
    parts = split_keys(keys, radices)
    assert len(parts) == len(radices)
    for part, col in zip(parts, columns, strict=True):
        assert part.tolist() == col.tolist()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2**40)), max_size=30),
    block=st.sampled_from([1, 2, 5, 1 << 18]),
)
def test_strictly_ascending_equals_plain_comparison(rows: list[tuple[int, int, int]], block: int) -> None:
    expected = all(a < b for a, b in itertools.pairwise(rows))
    columns = [np.array([r[j] for r in rows], dtype=np.int64) for j in range(3)]
    with mock.patch.object(_frequency, "_BLOCK", block):
        assert strictly_ascending(columns) is expected
        assert strictly_ascending(columns[:2]) is all(a[:2] < b[:2] for a, b in itertools.pairwise(rows))
        sorted_rows = sorted(set(rows))
        ascending = [np.array([r[j] for r in sorted_rows], dtype=np.int64) for j in range(3)]
        assert strictly_ascending(ascending)


def _hierarchy(name: str, leaves: list[str]) -> Hierarchy:
    return Hierarchy.from_rows(name, [[leaf, "*"] for leaf in leaves])


def _write(tmp_path: Path, table: pa.Table, row_group_size: int = 3) -> Path:
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["b", "a", "c", "a", "b", "b", "c", "a"], pa.string()),
        ([5, 3, 3, 110, 0, 5, 7, 3], pa.int16()),
        ([-4, 3, 3, 9, -4, 5, 7, 3], pa.int64()),
        ([4000, 4001, 4005, 4001, 4000, 4003, 4004, 4002], pa.uint32()),
        ([dt.date(2020, 1, 1) + dt.timedelta(days=d) for d in (0, 3, 1, 0, 400, 3, 2, 1)], pa.date32()),
        ([1.0, 2.0, 1.0, 3.0, 2.0, 1.0, 3.0, 3.0], pa.float64()),
    ],
)
def test_leaf_codes_of_every_column_kind(tmp_path: Path, values: list[object], kind: pa.DataType) -> None:
    table = pa.table({"x": pa.array(values, type=kind), "y": pa.array(range(len(values)))})
    path = _write(tmp_path, table)
    texts = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in values]
    texts = [t[:-2] if t.endswith(".0") else t for t in texts]
    leaves = [*sorted(set(texts), reverse=True), "unused"]
    h = _hierarchy("x", leaves)
    read = io.read_table(path, dictionary=["x"], columns=["x"])
    assert read.column_names == ["x"]
    codes = io.leaf_codes(read, "x", h, str(path))
    assert codes.tolist() == [h.leaf_index(t) for t in texts]
    lookup = np.arange(len(leaves))[::-1].copy()
    assert io.leaf_codes(read, "x", h, str(path), lookup=lookup).tolist() == [
        int(lookup[h.leaf_index(t) or 0]) for t in texts
    ]
    sens, labels = io.sensitive_codes(read, "x", str(path))
    assert [labels[c] for c in sens] == texts
    assert set(labels) == set(texts)  # no value that no row holds


def test_unknown_value_is_named_and_absent_values_are_not(tmp_path: Path) -> None:
    path = _write(tmp_path, pa.table({"x": pa.array([1, 2, 9, 2], type=pa.int32())}))
    h = _hierarchy("x", ["1", "2"])  # 3..8 lie in the span but no row holds them
    with pytest.raises(IplosError) as err:
        io.leaf_codes(io.read_table(path), "x", h, str(path))
    assert [p.value for p in err.value.problems] == ["9"]


def test_unused_dictionary_values_are_ignored(tmp_path: Path) -> None:
    array = pa.DictionaryArray.from_arrays(pa.array([0, 2, 0], type=pa.int32()), pa.array(["a", "zz", "c"]))
    table = pa.table({"x": array})
    h = _hierarchy("x", ["a", "c"])
    assert io.leaf_codes(table, "x", h, "memory").tolist() == [0, 1, 0]
    codes, labels = io.sensitive_codes(table, "x", "memory")
    assert labels == ("a", "c")
    assert codes.tolist() == [0, 1, 0]


def test_partial_read_then_complete_keeps_order_and_metadata(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2, 3], "q": ["x", "y", "x"], "b": [0.5, 1.5, 2.5]}).replace_schema_metadata(
        {"origin": "test"}
    )
    path = _write(tmp_path, table, row_group_size=2)
    partial = io.read_table(path, dictionary=["q"], columns=["q"])
    assert pa.types.is_dictionary(partial.schema.field("q").type)
    whole = io.complete_table(path, partial)
    assert whole.column_names == ["a", "q", "b"]
    assert whole.schema.metadata == {b"origin": b"test"}
    assert whole.column("a").to_pylist() == [1, 2, 3]
    assert whole.column("q").to_pylist() == ["x", "y", "x"]
    with pytest.raises(IplosError, match="'nope' not found; columns are a, q, b"):
        io.read_table(path, columns=["nope"])
