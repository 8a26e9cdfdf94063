"""Every table test runs in a scratch IPLOS_HOME: `iplos tables make` writes the release log there."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _scratch_home(iplos_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPLOS_CASE_DB", raising=False)
