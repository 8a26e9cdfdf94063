"""The register store writes an årgang whole or not at all, and recovers from a crash mid-commit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iplos.config import Settings
from iplos.engine import RegisterStore
from iplos.errors import IplosError


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under the registers folder with its content (the lock file aside)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != ".lock"
    }


def tables(rows: Callable[[int], pa.Table], year: int) -> dict[str, pa.Table]:
    person = rows(year)
    tjeneste = pa.table(
        {"pseudonym": person["pseudonym"], "tjeneste": pa.array([1, 2, 3, 15, 21], pa.int16())}
    )
    return {"person": person, "tjeneste": tjeneste}


def test_layout(store: RegisterStore, settings: Settings) -> None:
    assert store.aargang_dir("iplos", "person", 2010) == settings.registers_dir / "iplos/person/aargang=2010"
    assert store.path("iplos", "person", 2010).name == "part-00000.parquet"
    with pytest.raises(IplosError, match="four-digit year"):
        store.aargang_dir("iplos", "person", 10)
    with pytest.raises(IplosError, match="table name"):
        store.table_dir("iplos", "Person")


def test_write_aargang_without_aargang_column(
    store: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    data = person_rows(2010).append_column("aargang", pa.array([2010] * 5, pa.int16()))
    assert store.write_aargang("iplos", "person", 2010, data) == 5
    written = pq.read_table(store.path("iplos", "person", 2010))
    assert "aargang" not in written.column_names
    assert store.aargang_list("iplos", "person") == [2010]
    assert store.tables("iplos") == ["person"] and store.registers() == ["iplos"]
    with pytest.raises(IplosError, match="stored already"):
        store.write_aargang("iplos", "person", 2010, data)
    with pytest.raises(IplosError, match="holds 2010, but the årgang written is 2011"):
        store.write_aargang("iplos", "person", 2011, data)
    assert store.aargang_list("iplos", "person") == [2010]


def test_write_aargang_streams_batches_into_parts(
    store: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    batches = (person_rows(2010).slice(i, 1).to_batches()[0] for i in range(5))
    assert store.write_aargang("iplos", "person", 2010, batches, rows_per_file=2) == 5
    files = store.files("iplos", "person", 2010)
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert sum(pq.read_metadata(f).num_rows for f in files) == 5
    with pytest.raises(IplosError, match="no data and no schema"):
        store.write_aargang("iplos", "person", 2011, iter([]))
    assert store.aargang_list("iplos", "person") == [2010]


def test_write_aargang_replace(store: RegisterStore, person_rows: Callable[[int], pa.Table]) -> None:
    store.write_aargang("iplos", "person", 2010, person_rows(2010))
    store.write_aargang("iplos", "person", 2010, person_rows(2010).slice(0, 2), replace=True)
    assert pq.read_table(store.path("iplos", "person", 2010)).num_rows == 2
    assert not [p for p in store.table_dir("iplos", "person").iterdir() if p.name.startswith(".")]


def test_commit_aargang_writes_every_table(
    store: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    assert store.commit_aargang("iplos", 2010, tables(person_rows, 2010)) == {"person": 5, "tjeneste": 5}
    assert store.tables("iplos") == ["person", "tjeneste"]
    assert not list(store.register_dir("iplos").glob(".commit-*"))


def test_failure_while_staging_leaves_store_unchanged(
    store: RegisterStore, settings: Settings, person_rows: Callable[[int], pa.Table]
) -> None:
    store.commit_aargang("iplos", 2010, tables(person_rows, 2010))
    before = snapshot(settings.registers_dir)
    bad = tables(person_rows, 2011)
    bad["tjeneste"] = bad["tjeneste"].append_column("aargang", pa.array([2011, 2011, 2011, 2011, 1999]))
    with pytest.raises(IplosError, match="holds 1999"):
        store.commit_aargang("iplos", 2011, bad)
    assert snapshot(settings.registers_dir) == before


@pytest.mark.parametrize("replace", [False, True])
def test_failure_mid_rename_leaves_store_unchanged(
    store: RegisterStore,
    settings: Settings,
    person_rows: Callable[[int], pa.Table],
    monkeypatch: pytest.MonkeyPatch,
    replace: bool,
) -> None:
    store.commit_aargang("iplos", 2010, tables(person_rows, 2010))
    year = 2010 if replace else 2011
    before = snapshot(settings.registers_dir)
    real_swap = RegisterStore._swap_in
    calls: list[str] = []

    def failing_swap(entry):  # type: ignore[no-untyped-def]
        calls.append(entry.table)
        if len(calls) == 2:
            raise OSError("disk full")
        real_swap(entry)

    monkeypatch.setattr(RegisterStore, "_swap_in", staticmethod(failing_swap))
    new = {name: t.slice(0, 3) for name, t in tables(person_rows, year).items()}
    with pytest.raises(OSError, match="disk full"):
        store.commit_aargang("iplos", year, new, replace=replace)
    assert calls == ["person", "tjeneste"]  # the first table had been renamed in
    assert snapshot(settings.registers_dir) == before
    assert sorted(p.name for p in store.table_dir("iplos", "person").iterdir()) == ["aargang=2010"]


@pytest.mark.parametrize("replace", [False, True])
def test_crash_mid_commit_is_rolled_back_on_next_open(
    store: RegisterStore,
    settings: Settings,
    person_rows: Callable[[int], pa.Table],
    monkeypatch: pytest.MonkeyPatch,
    replace: bool,
) -> None:
    store.commit_aargang("iplos", 2010, tables(person_rows, 2010))
    year = 2010 if replace else 2011
    before = snapshot(settings.registers_dir)
    real_swap = RegisterStore._swap_in
    calls: list[str] = []

    class Killed(BaseException):
        """Stands for the process dying: nothing after the first rename runs."""

    def dying_swap(entry):  # type: ignore[no-untyped-def]
        calls.append(entry.table)
        if len(calls) == 2:
            raise Killed
        real_swap(entry)

    monkeypatch.setattr(RegisterStore, "_swap_in", staticmethod(dying_swap))
    # A killed process runs no clean-up: the rollback of the dying process is skipped too.
    monkeypatch.setattr(RegisterStore, "_rollback", staticmethod(lambda journal: None))
    with pytest.raises(Killed):
        store.commit_aargang("iplos", year, tables(person_rows, year), replace=replace)
    assert snapshot(settings.registers_dir) != before  # half a commit is on disk
    monkeypatch.undo()

    reopened = RegisterStore(settings)
    assert snapshot(settings.registers_dir) == before
    assert reopened.aargang_list("iplos", "tjeneste") == [2010]
    assert reopened.recover() == []


def test_recovery_puts_back_an_old_folder_left_by_a_killed_replace(
    store: RegisterStore, settings: Settings, person_rows: Callable[[int], pa.Table]
) -> None:
    store.write_aargang("iplos", "person", 2010, person_rows(2010))
    before = snapshot(settings.registers_dir)
    target = store.aargang_dir("iplos", "person", 2010)
    target.rename(target.parent / ".aargang=2010.old-deadbeef")  # killed between the two renames
    (target.parent / ".aargang=2010.staging-deadbeef").mkdir()
    RegisterStore(settings)
    assert snapshot(settings.registers_dir) == before
    assert store.aargang_list("iplos", "person") == [2010]


def test_commit_refuses_existing_aargang_and_empty_commit(
    store: RegisterStore, person_rows: Callable[[int], pa.Table]
) -> None:
    store.commit_aargang("iplos", 2010, tables(person_rows, 2010))
    with pytest.raises(IplosError, match="stored already"):
        store.commit_aargang("iplos", 2010, tables(person_rows, 2010))
    with pytest.raises(IplosError, match="at least one table"):
        store.commit_aargang("iplos", 2011, {})
