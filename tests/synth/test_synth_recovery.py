"""What a killed `iplos synth` leaves (hidden staging folders) is removed by the next writer and is
never read as data by the calibration report."""

from __future__ import annotations

from pathlib import Path

from iplos.config import Settings
from iplos.synth import generate, report


def _stage_leftover(settings: Settings) -> Path:
    leftover = settings.registers_dir / "iplos" / "person" / ".aargang=2011.staging-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / "part-00000.parquet").write_bytes(b"PAR1 half a file")
    return leftover


def test_next_synth_removes_stale_staging(settings: Settings) -> None:
    generate(settings, scale=0.002, seed=3, years=[2012])
    leftover = _stage_leftover(settings)
    assert report(settings)  # the report does not read the half-written folder
    generate(settings, scale=0.002, seed=3, years=[2012], replace=True)
    assert not leftover.exists()
    assert not list(settings.registers_dir.rglob("*.staging-*"))
