"""Two functional assessments on the same date: the "last" one is the same on every run and backend order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pyarrow as pa

from iplos.config import Settings
from iplos.engine import connect
from iplos.linkage._query import last_assessment


def test_same_date_assessments_break_ties_by_score(tmp_path: Path) -> None:
    day = dt.date(2014, 5, 1)
    rows = {
        "pseudonym": ["a", "a", "a", "b"],
        "aargang": [2014, 2014, 2014, 2014],
        "vurderingsdato": [dt.date(2014, 1, 1), day, day, day],
        "spise": [5, 4, 2, 3],
    }
    engine = connect(Settings(home=tmp_path), "duckdb")
    try:
        answers = set()
        for order in ([0, 1, 2, 3], [2, 1, 0, 3], [3, 2, 1, 0], [1, 2, 3, 0]):
            table = pa.table({k: [v[i] for i in order] for k, v in rows.items()})
            got = engine.to_arrow(last_assessment(ibis.memtable(table), ["spise"]).order_by("pseudonym"))
            answers.add(tuple(got.column("spise").to_pylist()))
    finally:
        engine.close()
    assert answers == {(2, 3)}
