"""The gate's own (k, k^m) count across delivered tables refuses a key held by fewer than k persons."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from delivery_fixtures import make_release

from iplos.delivery._formats import write_data_files
from iplos.delivery._gate import measure_linked_files
from iplos.delivery._release import ColumnInfo, Release


def _spells(base: Release, months: dict[int, list[str]]) -> Release:
    """A service-spell table: person number (row of `base`) -> the months of their spells."""
    serials = base.data["lopenr"].tolist()
    rows = [(serials[p], month) for p, ms in months.items() for month in ms]
    data = pd.DataFrame(
        {"lopenr": pd.array([r[0] for r in rows], dtype="int32"), "startdato": [r[1] for r in rows]}
    )
    columns = (
        ColumnInfo("lopenr", "Løpenummer", "integer", "serial"),
        ColumnInfo("startdato", "Startdato", "string", "quasi_identifier"),
    )
    return replace(
        base,
        data=data,
        columns=columns,
        quasi_identifiers=("startdato",),
        sensitive=(),
        stem="service_spells",
        table="service_spells",
    )


def _gate(tmp_path: Path, base: Release, spells: Release, m: int | None) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for part in (base, spells):
        write_data_files(part, tmp_path)
    tables = [(r.stem, [c.name for c in r.columns], list(r.quasi_identifiers)) for r in (base, spells)]
    measures, failures = measure_linked_files(
        tmp_path, tables=tables, criteria=base.criteria, persons_before=len(base.data), items_known=m
    )
    assert any("full knowledge" in x.file for x in measures) == (m is not None)
    return failures


def test_a_single_row_held_by_one_person_is_refused(tmp_path: Path) -> None:
    base = make_release(n_classes=6, per_class=5)  # classes of 5 persons by (kjonn, alder, fylke)
    months = {p: ["2014-03"] for p in range(30)}
    months[0] = ["2014-03", "2014-07"]  # the only person with a July spell
    spells = _spells(base, months)
    failures = _gate(tmp_path / "m2", base, spells, 2)
    assert failures and all("fewer than k=5" in f and "k^m, m=2" in f for f in failures)
    assert len(failures) == 4  # every format
    assert _gate(tmp_path / "m0", base, spells, 0) == []  # an attacker who knows no spell
    assert _gate(tmp_path / "full", base, spells, None)  # full knowledge refuses it too


def test_a_pair_held_by_one_person_is_refused(tmp_path: Path) -> None:
    """Each month alone is held by 5 persons of the class, the pair by one: refused at m = 2 only."""
    base = make_release(n_classes=3, per_class=10)
    months: dict[int, list[str]] = {p: ["2014-01"] for p in range(10, 30)}
    months[0] = ["2014-03", "2014-07"]
    months.update({p: ["2014-03"] for p in range(1, 5)})
    months.update({p: ["2014-07"] for p in range(5, 9)})
    months[9] = ["2014-03"]
    spells = _spells(base, months)
    assert _gate(tmp_path / "m1", base, spells, 1) == []
    failures = _gate(tmp_path / "m2", base, spells, 2)
    assert failures and "1 persons share a key" in failures[0]


@pytest.mark.parametrize("m", [1, 2, 3])
def test_keys_met_everywhere_pass(tmp_path: Path, m: int) -> None:
    base = make_release(n_classes=6, per_class=5)
    spells = _spells(base, {p: ["2014-03", "2014-05"] for p in range(30)})
    assert _gate(tmp_path, base, spells, m) == []
