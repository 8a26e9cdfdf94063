"""kill -9 at random moments of `iplos synth`, `load`, `deliver` and `demo`: after the next run (or
the next writer opening the folder) there is no half-written file, no staging folder left and no
delivery folder the case does not record.

Bounded: two kills of synth and deliver, one of load and of demo, at small scales (measured 70-110 s
while five other developers' work loaded the 2-core machine; user CPU about 20 s). The moments are drawn at
random; the seed is printed so that a failure can be replayed with IPLOS_CRASH_SEED.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.delivery import Processor
from iplos.delivery._write import verify_manifest
from iplos.engine import RegisterStore

pytestmark = pytest.mark.slow
SEED = int(os.environ.get("IPLOS_CRASH_SEED", random.randrange(1 << 30)))
KILLS = 2
SCALE = "0.002"


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "IPLOS_HOME": str(home)}
    for name in ("IPLOS_CASE_DB", "IPLOS_KEY_FILE", "IPLOS_ENGINE", "IPLOS_AUDIT_KEY_FILE"):
        env.pop(name, None)
    return env


def _iplos(home: Path, *args: str, kill_after: float | None = None) -> int | None:
    """Run `iplos args`; with `kill_after`, SIGKILL it then (None if it ended before)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "iplos", *args],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        return proc.returncode
    try:
        proc.wait(timeout=kill_after)
        return proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None
    finally:
        if proc.stderr:
            proc.stderr.close()


def _no_leftovers(home: Path) -> None:
    """No staging or displaced folder anywhere, and every visible data file reads whole."""
    stale = [
        p
        for p in home.rglob("*")
        if ".staging-" in p.name or ".old-" in p.name or p.name.endswith(".journal")
    ]
    assert not stale, stale
    for path in home.rglob("*.parquet"):
        if not any(part.startswith(".") for part in path.relative_to(home).parts):
            pq.read_metadata(path)  # raises on a truncated file
    for path in home.rglob("*.json"):
        if not path.name.startswith("."):
            json.loads(path.read_text(encoding="utf-8"))


def _deliveries_recorded(home: Path) -> None:
    """Every delivery folder is recorded on its case with its manifest's hash; none is pending."""
    settings = Settings(home=home)
    service = CaseService.from_settings(settings)
    try:
        for folder in sorted(settings.deliveries_dir.glob("*/d*")):
            case = service.get(folder.parent.name)
            assert case.pending_delivery is None
            recorded = {d.delivery_id for d in case.deliveries}
            assert folder.name in recorded, f"{folder} is not recorded"
            assert verify_manifest(folder) is None
        assert all(r.ok for r in service.verify())
    finally:
        service.close()


def _moments(rng: random.Random, low: float, high: float) -> list[float]:
    return sorted(rng.uniform(low, high) for _ in range(KILLS))


def test_kill_synth_load_deliver(tmp_path: Path) -> None:
    print(f"IPLOS_CRASH_SEED={SEED}")
    rng = random.Random(SEED)
    home = tmp_path / "data"
    settings = Settings(home=home)
    years = ("--scale", SCALE, "--years", "2012-2014")
    _iplos(home, "synth", *years)
    for moment in _moments(rng, 0.8, 3.5):
        _iplos(home, "synth", *years, "--replace", kill_after=moment)
    _iplos(home, "synth", "--report")  # a reader is not misled by what a kill left
    RegisterStore(settings)  # the next writer to open the store recovers
    _no_leftovers(home)

    # load: a folder with the four tables of one årgang, killed, then loaded again
    extract = tmp_path / "extract"
    extract.mkdir()
    for table in ("person", "tjeneste", "funksjon", "diagnose"):
        part = home / "registers" / "iplos" / table / "aargang=2012" / "part-00000.parquet"
        shutil.copy(part, extract / f"{table}.parquet")
    target = tmp_path / "load"
    load = ("load", str(extract), "--register", "iplos", "--aargang", "2012", "--replace")
    _iplos(target, *load, kill_after=rng.uniform(0.8, 3.0))
    _iplos(target, *load)
    _no_leftovers(target)
    store = RegisterStore(Settings(home=target))
    assert all(
        store.aargang_list("iplos", t) == [2012] for t in ("person", "tjeneste", "funksjon", "diagnose")
    )

    # deliver: a case with an agreed plan, killed at random moments of its delivery, then run again
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    cid = drive(service, "accepted", cast, application=content).case_id
    Processor(settings, service, cast.processor).next_step(cid)
    service.agree_anonymisation(cid, cast.applicant)
    service.close()
    for moment in _moments(rng, 1.0, 6.0):
        _iplos(home, "deliver", cid, kill_after=moment)
    service = CaseService.from_settings(settings)
    status = service.get(cid).status
    service.close()
    if status == "anonymisation_agreed":
        _iplos(home, "deliver", cid)
    _no_leftovers(home)
    _deliveries_recorded(home)
    assert [p.name for p in (settings.deliveries_dir / cid).glob("d*")] == ["d001"]


def test_kill_demo(tmp_path: Path) -> None:
    print(f"IPLOS_CRASH_SEED={SEED}")
    rng = random.Random(SEED + 2)
    base = tmp_path / "demo"
    _iplos(base, "demo", "--scale", "0.003", kill_after=rng.uniform(3.0, 14.0))
    homes = sorted(p for p in base.iterdir() if p.is_dir()) if base.exists() else []
    for home in homes:
        # the next run on that folder: a writer opening the register store, a delivery of its case
        settings = Settings(home=home)
        RegisterStore(settings)
        if (home / "cases.db").exists():
            service = CaseService.from_settings(settings)
            pending = [c.case_id for c in service.list() if service.get(c.case_id).pending_delivery]
            for cid in pending:
                Processor(settings, service, Cast().processor).deliver(cid)
            service.close()
        for folder in settings.deliveries_dir.glob("*"):
            from iplos.delivery._write import case_lock

            with case_lock(folder):
                pass
        _no_leftovers(home)
        if (home / "cases.db").exists():
            _deliveries_recorded(home)
