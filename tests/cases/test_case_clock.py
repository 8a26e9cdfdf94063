"""The 30-day clock and the processing statistics, computed from events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iplos.cases import Actor, clock, statistics
from iplos.cases import events as ev
from iplos.cases.examples import example_application
from iplos.cases.statistics import percentile

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A = Actor("kari", "applicant")
R = Actor("rita", "reviewer")


def e(cls: type[ev.Event], actor: Actor, day: float, **fields: Any) -> ev.Event:
    return cls(at=T0 + timedelta(days=day), actor=actor.username, role=actor.role, **fields)


def history(review: float, returned: float = 0.0, decide: bool = True) -> list[ev.Event]:
    out = [
        e(ev.CaseCreated, A, 0, case_id="c", kind="new", content=example_application(T0.date())),
        e(ev.Submitted, A, 1),
        e(ev.ReviewStarted, R, 2),
    ]
    if returned:
        out += [e(ev.ReturnedToApplicant, R, 3, comments=("x",)), e(ev.Resubmitted, A, 3 + returned)]
    if decide:
        out.append(e(ev.CaseDecided, R, 1 + review + returned, outcome="rejected", reasons=("r",)))
    return out


def test_clock_before_submission() -> None:
    c = clock(history(0, decide=False)[:1], T0 + timedelta(days=40))
    assert (c.received_at, c.days_used, c.overdue, c.deadline) == (None, 0, False, None)


def test_clock_runs_and_stops_while_returned() -> None:
    events = history(0, returned=10, decide=False)
    c = clock(events, T0 + timedelta(days=20))  # 2 days before return + 7 after resubmission
    assert c.review_days == pytest.approx(9) and c.paused_days == pytest.approx(10)
    assert (c.days_used, c.days_left, c.running, c.overdue) == (9, 21, True, False)
    assert c.deadline == (T0 + timedelta(days=20 + 21)).date()
    late = clock(events, T0 + timedelta(days=42))
    assert late.overdue and late.days_left < 0


def test_decided_within_limit() -> None:
    assert clock(history(29.5), T0 + timedelta(days=100)).decided_within_limit is True
    assert clock(history(31), T0 + timedelta(days=100)).decided_within_limit is False
    assert clock(history(29, returned=20), T0 + timedelta(days=100)).decided_within_limit is True


def test_statistics() -> None:
    histories = [history(d) for d in (5, 10, 20, 40)] + [history(0, decide=False)]
    stats = statistics(histories, T0 + timedelta(days=60))
    assert stats.cases == 5 and stats.decided == 4
    assert stats.median_days == pytest.approx(15.0)
    assert stats.p90_days == pytest.approx(percentile([5, 10, 20, 40], 90))
    assert stats.share_within_limit == 0.75
    assert stats.per_status == {"under_review": 1, "rejected": 4}
    assert stats.open_overdue == 1


@given(st.lists(st.floats(0, 365, allow_nan=False), min_size=1, max_size=50), st.floats(0, 100))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    np = pytest.importorskip("numpy")
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), abs=1e-9)
