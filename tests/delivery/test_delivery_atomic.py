"""A delivery is whole or absent: an exception or a kill mid-write leaves nothing visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from delivery_fixtures import KEY_HEX, disclosure_for

from iplos.delivery._release import Release
from iplos.delivery._write import case_lock, write_delivery
from iplos.errors import IplosError


class Boom(RuntimeError):
    pass


def test_failure_after_some_files_leaves_nothing(tmp_path: Path, release: Release) -> None:
    written: list[str] = []

    def fail_after_csv(name: str) -> None:
        written.append(name)
        if name == "extract.csv":
            raise Boom("disk full")

    with pytest.raises(Boom):
        write_delivery(
            release,
            tmp_path / "C-9" / "d001",
            disclosure=disclosure_for(release),
            keys_hex=[KEY_HEX],
            forbidden_columns=["fnr"],
            on_file=fail_after_csv,
        )
    assert written == ["extract.parquet", "extract.csv"]
    assert [p.name for p in (tmp_path / "C-9").iterdir() if p.name != ".lock"] == []


def test_killed_delivery_leaves_nothing_and_is_cleaned_up(tmp_path: Path, release: Release) -> None:
    here = Path(__file__).parent
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(here)!r})
        from pathlib import Path
        from delivery_fixtures import KEY_HEX, disclosure_for, make_release
        from iplos.delivery._write import write_delivery

        def pause(name):
            if name == "extract.dta":
                print("WRITING", flush=True)
                time.sleep(120)

        release = make_release()
        write_delivery(release, Path({str(tmp_path / "C-9" / "d001")!r}), disclosure=disclosure_for(release),
                       keys_hex=[KEY_HEX], forbidden_columns=["fnr"], on_file=pause)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "WRITING"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    parent = tmp_path / "C-9"
    assert not (parent / "d001").exists()
    leftovers = [p.name for p in parent.iterdir() if p.name != ".lock"]
    assert leftovers and all(name.startswith(".d001.staging-") for name in leftovers)
    # The next delivery removes what the killed one left and lands whole.
    write_delivery(
        release,
        parent / "d002",
        disclosure=disclosure_for(release),
        keys_hex=[KEY_HEX],
        forbidden_columns=["fnr"],
    )
    assert [p.name for p in parent.iterdir() if p.name != ".lock"] == ["d002"]


def test_one_delivery_of_a_case_at_a_time(tmp_path: Path, release: Release) -> None:
    with case_lock(tmp_path / "C-9"), pytest.raises(IplosError, match="another delivery"):
        write_delivery(
            release,
            tmp_path / "C-9" / "d001",
            disclosure=disclosure_for(release),
            keys_hex=[KEY_HEX],
            forbidden_columns=["fnr"],
        )
    assert not (tmp_path / "C-9" / "d001").exists()
