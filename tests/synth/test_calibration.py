"""The written register meets every published figure within 5 % (measured from the files)."""

from __future__ import annotations

import pytest

from iplos.config import Settings
from iplos.errors import IplosError
from iplos.synth import CalibrationRow, SynthSummary, report
from iplos.synth._targets import AGE_GROUPS, MEASURES, PERSONS_PUBLISHED, persons_target, year_targets


def test_every_published_figure_within_five_percent(calibrated: tuple[Settings, SynthSummary]) -> None:
    settings, _ = calibrated
    rows = report(settings)
    off = [r.as_dict() for r in rows if not r.ok]
    assert not off, off
    measures = {r.measure for r in rows}
    assert measures == set(MEASURES)  # every published figure is covered by these three years


def test_targets_are_scaled_published_figures(calibrated: tuple[Settings, SynthSummary]) -> None:
    settings, summary = calibrated
    rows = {(r.measure, r.year): r for r in report(settings)}
    assert rows[("persons", 2007)].target == pytest.approx(306_919 * 0.05)
    assert rows[("home_both", 2009)].target == pytest.approx(62_286 * 0.05)
    assert rows[("bpa", 2007)].target == pytest.approx(2_023 * 0.05)
    assert rows[("decisions", 2017)].target == pytest.approx(814_872 * 0.05)
    assert rows[("long_term_residents", 2009)].target == pytest.approx(34_500 * 0.05)
    assert summary.rows["iplos.person"] == sum(
        int(rows[("persons", y)].synthetic) for y in (2007, 2009, 2017)
    )


def test_interpolation_between_published_years() -> None:
    assert persons_target(2007) == 306_919
    assert persons_target(2014) == 342_216
    assert persons_target(2010) == pytest.approx(306_919 + 3 / 7 * (342_216 - 306_919))
    assert persons_target(2019) == pytest.approx((364_587 + 371_319) / 2)
    assert set(PERSONS_PUBLISHED) <= set(range(2007, 2025))


def test_cells_add_up_to_the_published_mix() -> None:
    t = year_targets(2022)
    assert t.cells.sum() == pytest.approx(390_369)
    assert t.cells[:, 1].sum() / t.cells.sum() == pytest.approx(0.576)
    assert len(t.cells) == len(AGE_GROUPS)


def test_relative_difference_and_tolerance() -> None:
    row = CalibrationRow("persons", "Persons", 2007, 100.0, 104.9, True)
    assert row.ok and row.relative_difference == pytest.approx(0.049)
    assert not CalibrationRow("persons", "Persons", 2007, 100.0, 94.0, True).ok


def test_report_needs_a_synthetic_register(settings: Settings) -> None:
    with pytest.raises(IplosError, match="iplos synth"):
        report(settings)


def test_service_codes_agree_with_the_catalogue() -> None:
    from iplos.catalog import catalog
    from iplos.synth._codes import HOUR_BASED, INSTITUTION_STAYS

    codes = catalog().codelist("tjenestetype").codes
    assert {int(c.code) for c in codes if c.hour_based} == set(HOUR_BASED)
    assert set(INSTITUTION_STAYS) <= {int(c.code) for c in codes if c.institution_stay}
