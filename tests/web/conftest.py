"""Fixtures of the web tests: one case service on SQLite with logged-in users per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_helpers import Api, make_api  # type: ignore[import-not-found]

from iplos.cases.examples import Cast


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One service and logged-in users per test module (cases are independent of each other)."""
    yield from make_api(tmp_path_factory.mktemp("web"))


@pytest.fixture
def cast() -> Cast:
    return Cast()
