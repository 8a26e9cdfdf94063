"""The person signatures are grouped in the engine: DuckDB and Spark give the same table and answer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from release_builders import extract, hierarchies, plan

from iplos.config import Settings
from iplos.engine import connect
from iplos.release import Criteria, search_plan, signatures


def _canonical(table: Any) -> list[tuple[Any, ...]]:
    """Signatures as sorted tuples of element code rows, with persons (independent of rank order)."""
    rows = []
    for s in range(table.n_signatures):
        els = table.elements[table.offsets[s] : table.offsets[s + 1]]
        sig = tuple(sorted(tuple(int(c[e]) for c in table.element_codes) for e in els))
        rows.append((sig, int(table.persons[s])))
    return sorted(rows)


@pytest.mark.spark
def test_spark_groups_signatures_like_duckdb(tmp_path: Path, spark_session: Any) -> None:
    settings = Settings(home=tmp_path)
    data = extract(7, 60)
    p = plan(Criteria(k=3, l=2, max_suppressed=0.2))
    hs = hierarchies()
    duck = connect(settings, "duckdb")
    spark = connect(settings, "spark", spark_session)
    try:
        a = signatures(duck, data, p, hs)
        b = signatures(spark, data, p, hs)
        assert _canonical(a) == _canonical(b)
        assert a.n_records == b.n_records and np.array_equal(np.sort(a.detail_count), np.sort(b.detail_count))
        found_a = search_plan(duck, data, p, hs)
        found_b = search_plan(spark, data, p, hs)
        assert found_a.levels == found_b.levels
        assert sorted(found_a.suppressed.tolist()) == sorted(found_b.suppressed.tolist())
    finally:
        duck.close()
        spark.close()
