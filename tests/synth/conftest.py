"""Synthetic registers generated once per test session, small enough to keep the suite fast."""

from __future__ import annotations

import pytest

from iplos.config import Settings
from iplos.synth import SynthSummary, generate


@pytest.fixture(scope="session")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, SynthSummary]:
    """Scale 0.05, the years with published figures (2007, 2009, 2017), in two chunks."""
    settings = Settings(home=tmp_path_factory.mktemp("synth") / "home")
    summary = generate(settings, scale=0.05, seed=11, years=[2007, 2009, 2017], chunk_persons=10_000)
    return settings, summary


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, SynthSummary]:
    """Scale 0.01 through a reform: IPLOS 2016-2017 and KPR 2017-2020, in three chunks."""
    settings = Settings(home=tmp_path_factory.mktemp("synth") / "home")
    summary = generate(
        settings,
        scale=0.01,
        seed=5,
        years=range(2016, 2018),
        kpr_years=range(2017, 2021),
        chunk_persons=1_500,
    )
    return settings, summary
