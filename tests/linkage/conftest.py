"""Fixtures of the linkage tests: the small hand-made registers (see linkage_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from linkage_fixtures import SmallRegisters, write_small_registers

from iplos.config import Settings


@pytest.fixture
def small(settings: Settings) -> SmallRegisters:
    return write_small_registers(settings)


@pytest.fixture(scope="session")
def small_session(tmp_path_factory: pytest.TempPathFactory) -> SmallRegisters:
    home = Path(tmp_path_factory.mktemp("small")) / "iplos-data"
    return write_small_registers(Settings(home=home))
