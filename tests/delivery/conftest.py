"""Fixtures of the delivery tests; the small registers come from tests/linkage/linkage_fixtures.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "linkage"))

from delivery_fixtures import make_release

from iplos.delivery._release import Release


@pytest.fixture
def release() -> Release:
    return make_release()
