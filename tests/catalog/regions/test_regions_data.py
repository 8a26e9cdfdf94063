"""The package data are checked as they are read: a change table that does not fit is an error."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest

from iplos.catalog.regions import _changes, _data
from iplos.errors import IplosError


@pytest.fixture
def fresh_steps() -> Iterator[None]:
    _changes.steps.cache_clear()
    yield
    _changes.steps.cache_clear()


def test_every_version_pair_fits_the_change_table(fresh_steps: None) -> None:
    steps = _changes.steps()
    assert len(steps) == len(_data.versions()) - 1
    for step in steps:
        old = _data.version_members(step.index)
        new = _data.version_members(step.index + 1)
        assert set(step.successors) == set(old) and set(step.predecessors) == set(new)


def test_change_to_an_unknown_code_is_an_error(fresh_steps: None, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = _data.Change(dt.date(2020, 1, 1), "0301", "Oslo", "0399", "Nowhere")
    real = _data.changes()
    monkeypatch.setattr(_data, "changes", lambda: (*real, bogus))
    with pytest.raises(IplosError) as err:
        _changes.steps()
    assert "2020-01-01" in str(err.value) and "0399" in str(err.value)


def test_missing_package_file_is_named() -> None:
    with pytest.raises(IplosError, match=r"no_such_file\.csv"):
        _data.read_csv("no_such_file.csv")


def test_versions_cover_2006_to_2024_without_gaps() -> None:
    versions = _data.versions()
    assert versions[0].valid_from == dt.date(2006, 1, 1)
    assert versions[-1].valid_to is None
    for before, after in itertools.pairwise(versions):
        assert before.valid_to == after.valid_from
    assert [v.size for v in versions] == [len(_data.version_members(i)) for i in range(len(versions))]
