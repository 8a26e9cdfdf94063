"""Delivery as a two-phase commit: intent event, folder, completion event. A crash between the
folder and its completion event is finished by the next run (no second folder); a crash while
writing leaves nothing that the next run does not remove."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import linkage_fixtures as registers
import pytest

from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.delivery._process import Processor
from iplos.delivery._write import verify_manifest

YEARS = (2012, 2013, 2014)


class Crash(BaseException):
    """Stands for a kill: not an Exception, so no handler on the way catches it."""


@pytest.fixture
def agreed(tmp_path: Path) -> Any:
    settings = Settings(home=tmp_path / "iplos-data")
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=YEARS)
    cid = drive(service, "accepted", cast, application=content).case_id
    processor = Processor(settings, service, cast.processor)
    processor.next_step(cid)
    service.agree_anonymisation(cid, cast.applicant)
    yield settings, service, cast, cid
    service.close()


def _types(service: CaseService, cid: str) -> list[str]:
    return [type(e.event).__name__ for e in service.history(cid)]


def test_crash_after_the_folder_is_finished_by_the_next_run(
    agreed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, service, cast, cid = agreed
    real = service.record_delivery

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise Crash

    monkeypatch.setattr(service, "record_delivery", crash)
    with pytest.raises(Crash):
        Processor(settings, service, cast.processor).deliver(cid)
    folder = settings.deliveries_dir / cid
    assert verify_manifest(folder / "d001") is None  # complete, gate passed, not yet recorded
    assert service.get(cid).pending_delivery == "d001"
    monkeypatch.setattr(service, "record_delivery", real)
    step = Processor(settings, service, cast.processor).deliver(cid)
    assert step.action == "delivered" and "interrupted run" in step.message
    case = service.get(cid)
    assert [d.delivery_id for d in case.deliveries] == ["d001"] and case.pending_delivery is None
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == ["d001"]
    assert _types(service, cid)[-2:] == ["DeliveryStarted", "Delivered"]
    assert service.verify(cid)[0].ok


def test_crash_while_writing_is_cleared_and_written_again(agreed: Any) -> None:
    settings, service, cast, cid = agreed

    def crash_on(name: str) -> None:
        if name.endswith(".html"):
            raise Crash

    # a kill leaves the staging folder behind: simulate it by keeping what the crash left
    import iplos.atomic as atomic

    real_rmtree = atomic.shutil.rmtree
    atomic.shutil.rmtree = lambda *a, **k: None  # type: ignore[assignment]
    try:
        with pytest.raises(Crash):
            Processor(settings, service, cast.processor).deliver(cid, on_file=crash_on)
    finally:
        atomic.shutil.rmtree = real_rmtree  # type: ignore[assignment]
    folder = settings.deliveries_dir / cid
    assert [p for p in folder.iterdir() if ".staging-" in p.name]
    assert service.get(cid).pending_delivery == "d001"
    step = Processor(settings, service, cast.processor).deliver(cid)
    assert step.action == "delivered" and step.delivered is not None
    assert step.delivered.path.name == "d001"
    assert sorted(p.name for p in folder.iterdir() if p.name != ".lock") == ["d001"]
    assert service.get(cid).deliveries[0].delivery_id == "d001"
    assert _types(service, cid).count("DeliveryStarted") == 1
