from __future__ import annotations

from pathlib import Path

import pytest

from iplos.atomic import atomic_directory, remove_stale_staging, write_text_atomic


def test_failed_directory_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_directory(target) as staging:
        (staging / "a.txt").write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_replace_swaps_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("old")
    with atomic_directory(target, replace=True) as staging:
        (staging / "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    with pytest.raises(FileExistsError), atomic_directory(target):
        pass


def test_recovery_restores_old_copy_when_target_missing(tmp_path: Path) -> None:
    old = tmp_path / ".out.old-1234abcd"
    old.mkdir()
    (old / "a.txt").write_text("only copy")
    (tmp_path / ".out.staging-deadbeef").mkdir()
    remove_stale_staging(tmp_path)
    assert (tmp_path / "out" / "a.txt").read_text() == "only copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_write_text_atomic(tmp_path: Path) -> None:
    path = tmp_path / "x" / "f.txt"
    write_text_atomic(path, "æøå")
    assert path.read_text(encoding="utf-8") == "æøå"
