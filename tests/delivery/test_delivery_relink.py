"""A delivery round links once: propose, answer and deliver share the processor's kept linkage."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import linkage_fixtures as registers
import pytest

import iplos.delivery._process as process
from iplos.cases import CaseService
from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.delivery._process import Processor
from iplos.linkage import _cache as cache


def test_one_linkage_per_round_and_anew_when_data_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "iplos-data")
    registers.write_small_registers(settings, n=400)
    service = CaseService.from_settings(settings)
    cast = Cast()
    content = dataclasses.replace(example_application(service.now().date()), aarganger=(2012, 2013, 2014))
    case_id = drive(service, "accepted", cast, application=content).case_id
    calls: list[str] = []
    real = process.link_extract_and_tables

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("link")
        return real(*args, **kwargs)

    monkeypatch.setattr(process, "link_extract_and_tables", counted)
    processor = Processor(settings, service, cast.processor)
    extract, _, _ = processor.link_all(service.get(case_id))
    again, _, _ = processor.link_all(service.get(case_id))
    assert calls == ["link"]
    assert not extract.serial_numbers & again.serial_numbers  # every use draws new numbers
    assert processor.next_step(case_id).action == "proposed" and calls == ["link"]
    part = next((settings.registers_dir / "iplos").rglob("*.parquet"))
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 1_000_000))
    service.agree_anonymisation(case_id, cast.applicant)
    done = processor.next_step(case_id)
    assert done.action == "delivered" and calls == ["link", "link"]  # the data changed: linked anew
    assert not cache.folder_of(settings, case_id).exists()  # the kept linkage goes with the delivery
