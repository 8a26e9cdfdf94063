"""An Arrow table taken into the engine (`ibis.memtable`) and back keeps every value and type.

On Spark, Ibis 12 carried both ways through pandas: a null string came back as the text 'NaN', an
integer column holding a null came back all null, a float NaN as null, and a large int64 lost digits.
The stacked multi-table release goes this way, so a 'NaN' kommune made a class the gate saw and the
search did not (issue 16).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from iplos.engine import Engine

SOURCE = pa.table(
    {
        "lopenr": pa.array([1, 2, 3, 4], pa.int64()),
        "kommune": pa.array(["0301", None, "5001", None], pa.string()),
        "fodselsaar": pa.array([1930, None, 1945, 1990], pa.int16()),
        "stor": pa.array([None, 2**53 + 1, -(2**62), 4], pa.int64()),
        "dodsdato": pa.array([dt.date(2015, 1, 1), None, dt.date(1899, 12, 31), None], pa.date32()),
        "timer": pa.array([1.5, None, float("nan"), 2.0], pa.float64()),
        "hjemme": pa.array([True, None, False, True], pa.bool_()),
        "tidspunkt": pa.array(
            [dt.datetime(2015, 1, 1, 12), None, None, dt.datetime(2000, 1, 1)], pa.timestamp("us")
        ),
        "tom": pa.array([None] * 4, pa.string()),
    }
)


def test_memtable_round_trip_keeps_values_nulls_and_types(engine: Engine) -> None:
    t = ibis.memtable(SOURCE)
    back = engine.to_arrow(t.order_by("lopenr"))
    assert back.schema == SOURCE.schema
    # compare as Python values: NaN != NaN, so the float column is checked by position
    for name in SOURCE.column_names:
        if name != "timer":
            assert back.column(name).to_pylist() == SOURCE.column(name).to_pylist(), name
    timer = back.column("timer").to_pylist()
    assert timer[0] == 1.5 and timer[1] is None and timer[2] != timer[2] and timer[3] == 2.0
    # a null is a null inside the engine too: counted by isnull, grouped as one class with the others
    assert engine.count(t.filter(t.kommune.isnull())) == 2
    classes = engine.frequencies(t, ["kommune"])
    assert classes.column("kommune").to_pylist() == ["0301", "5001", None]
    assert classes.column("count").to_pylist() == [1, 1, 2]
    batches = engine.to_batches(t.order_by("lopenr"), chunk_size=3).read_all()
    assert batches.column("fodselsaar").to_pylist() == [1930, None, 1945, 1990]
