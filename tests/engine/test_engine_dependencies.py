"""The engine uses Ibis and DuckDB through public APIs only, on a pair Ibis 12 supports."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

import iplos.engine

ENGINE = Path(iplos.engine.__file__).parent


def test_no_private_ibis_doors() -> None:
    offenders = []
    for path in sorted(ENGINE.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\bcon\._session\b|\bcon\.con\b", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders


def test_duckdb_is_on_the_line_ibis_12_streams_with() -> None:
    major, minor = (int(p) for p in duckdb.__version__.split(".")[:2])
    assert (major, minor) < (1, 5), (
        "Ibis 12 streams batches with fetch_record_batch (deprecated in DuckDB 1.5)"
    )
    con = ibis.duckdb.connect(":memory:")
    try:
        # warnings are errors in the test run: this fails on a DuckDB that deprecates Ibis's calls
        reader = con.to_pyarrow_batches(ibis.memtable(pa.table({"a": list(range(10))})), chunk_size=4)
        assert sum(batch.num_rows for batch in reader) == 10
        assert isinstance(con.to_pyarrow(ibis.memtable(pa.table({"a": [1]}))), pa.Table)
    finally:
        con.disconnect()
