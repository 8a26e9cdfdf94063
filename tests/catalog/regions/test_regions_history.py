"""The history of a kommune code."""

from __future__ import annotations

import datetime as dt

import pytest

from iplos.catalog import regions
from iplos.errors import IplosError


def test_halden_renumbered_twice() -> None:
    events = regions.history("3001")
    assert [(e.date, e.event) for e in events] == [
        (dt.date(2020, 1, 1), "formed"),
        (dt.date(2020, 1, 1), "valid"),
        (dt.date(2023, 12, 31), "ended"),
        (dt.date(2024, 1, 1), "renumbered"),
    ]
    assert events[0].related == (("0101", "Halden"),)
    assert events[-1].related == (("3101", "Halden"),)


def test_alesund_formed_by_merger_then_split() -> None:
    events = regions.history("1507")
    formed = events[0]
    assert formed.event == "formed" and "merger" in formed.text
    assert {c for c, _ in formed.related} == {"1504", "1523", "1529", "1534", "1546"}
    split = events[-1]
    assert split.event == "split" and split.related == (("1508", "Ålesund"), ("1580", "Haram"))


def test_renaming_and_absorbing() -> None:
    events = regions.history("5001")
    kinds = [e.event for e in events]
    assert "absorbed" in kinds and "renamed" in kinds
    renamed = next(e for e in events if e.event == "renamed")
    assert renamed.name == "Trondheim - Tråante" and renamed.date == dt.date(2023, 1, 1)


def test_formation_on_first_day_is_known() -> None:
    first = regions.history("1160")[0]
    assert first.event == "formed" and {c for c, _ in first.related} == {"1154", "1159"}


def test_unknown_code_is_named() -> None:
    with pytest.raises(IplosError, match="9998"):
        regions.history("9998")
