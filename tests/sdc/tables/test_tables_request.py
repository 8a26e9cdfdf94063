"""Tables asked for in an application: produced, protected together and labelled."""

from __future__ import annotations

import pandas as pd
import pytest
from linked_attacker import Attacker, required
from test_tables_linked_attack import GROUPS4, age_hierarchy, covers_of, persons, region, truth_of

from iplos.errors import IplosError
from iplos.sdc.tables import DimensionRequest, TableRequest, produce_tables


def data() -> pd.DataFrame:
    frame = persons()
    frame["aargang"] = 2015
    frame["timer"] = (frame.index % 17).astype(float)
    return frame


def requests() -> list[TableRequest]:
    dims = (DimensionRequest("kommune", "kommune", ("fylke",)), DimensionRequest("alder", "group", ()))
    return [
        TableRequest("a", (*dims, DimensionRequest("kjonn")), aargang=(2015,), title="Persons"),
        TableRequest("b", (*dims, DimensionRequest("kjonn")), aargang=(2015,)),
        TableRequest("hours", dims, statistic="sum", value="timer", aargang=(2015,)),
    ]


def test_requested_tables_are_produced_protected_together_and_labelled() -> None:
    frame = data()
    hierarchies = {"kommune": region(), "alder": age_hierarchy("a")}

    def labeller(column: str, code: str) -> str | None:
        return {"1": "Menn", "2": "Kvinner"}.get(code) if column == "kjonn" else None

    reqs = requests()
    # b groups ages differently: the same request with its own hierarchy
    produced = produce_tables(frame, reqs[:1], hierarchies, labeller=labeller)
    produced += produce_tables(
        frame,
        reqs[1:2],
        {**hierarchies, "alder": age_hierarchy("b")},
        earlier=[_release(p) for p in produced],
    )
    assert [p.request.name for p in produced] == ["a", "b"] and all(p.passed for p in produced)
    assert produced[0].labels["kjonn"] == {"1": "Menn", "2": "Kvinner"}
    assert produced[1].result.report()["linked_with"] == ["a"]
    finest, covers = covers_of(frame)
    attacker = Attacker([p.result.table for p in produced], finest, covers)  # type: ignore[arg-type]
    truth = truth_of(frame)
    for p in produced:
        pt = p.result.table
        for cell in (pt.flags == 1).nonzero()[0]:
            labels = pt.table.labels_of(int(cell))
            lo, hi = attacker.interval(labels)
            need_lo, need_up = required(truth(labels))
            assert lo <= truth(labels) - need_lo + 1e-6 and hi >= truth(labels) + need_up - 1e-6
    assert set(GROUPS4) <= set(produced[0].result.table.table.dimensions[1].labels)


def test_a_sum_table_and_bad_requests() -> None:
    frame = data()
    hierarchies = {"kommune": region(), "alder": age_hierarchy("a")}
    hours = produce_tables(frame, requests()[2:], hierarchies)[0]
    assert hours.result.table.table.kind == "magnitude" and hours.passed
    with pytest.raises(IplosError, match="needs columns the extract lacks"):
        produce_tables(frame.drop(columns="timer"), requests()[2:], hierarchies)
    with pytest.raises(IplosError, match="a sum or mean needs one"):
        TableRequest("x", (DimensionRequest("kjonn"),), statistic="mean")
    with pytest.raises(IplosError, match="no records"):
        produce_tables(frame, [TableRequest("y", (DimensionRequest("kjonn"),), aargang=(2016,))], hierarchies)


def _release(p):  # type: ignore[no-untyped-def]
    from iplos.sdc.tables import Release

    return Release.of(p.request.name, p.result.table)
