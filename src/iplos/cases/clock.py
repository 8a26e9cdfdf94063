"""The 30-day clock of a case, computed from its events (never stored).

The reviewer must decide within 30 days of receiving the application. The clock runs from
submission while the case is with the reviewer, stops while it is returned to the applicant,
and stops at the decision; an appeal that reopens the review starts it again. Days are counted
from the exact times of the events; `days_used` is whole days elapsed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from iplos.cases import events as ev
from iplos.cases.state import Case, replay

LIMIT_DAYS = 30
"""Days the reviewer has to decide."""

_START = (ev.Submitted, ev.Resubmitted)
_STOP = (ev.ReturnedToApplicant, ev.CaseDecided, ev.Withdrawn, ev.Closed)


@dataclass(frozen=True)
class Clock:
    """Where a case stands against the 30-day limit, and when the applicant can expect data."""

    status: str
    running: bool
    received_at: datetime | None
    days_used: int
    days_left: int
    review_days: float
    """Exact time under review, in days."""
    paused_days: float
    """Time returned to the applicant, in days (not counted)."""
    deadline: date | None
    """Date the decision is due if the clock keeps running from now (None before submission)."""
    overdue: bool
    first_decision_at: datetime | None
    decided_within_limit: bool | None
    expected_delivery: date | None
    """From the accepted (or the open) offer; None until there is one."""


def review_time(
    events: Sequence[ev.Event], now: datetime
) -> tuple[float, float, datetime | None, datetime | None]:
    """(review days, paused days, received at, first decision at) from the events."""
    running_since: datetime | None = None
    paused_since: datetime | None = None
    review = timedelta()
    paused = timedelta()
    received: datetime | None = None
    first_decision: datetime | None = None
    for event in events:
        if isinstance(event, ev.Submitted | ev.Resubmitted) or (
            isinstance(event, ev.AppealDecided) and event.outcome == "reopened"
        ):
            received = received or event.at
            if paused_since is not None:
                paused += event.at - paused_since
                paused_since = None
            running_since = running_since or event.at
        elif isinstance(event, _STOP):
            if running_since is not None:
                review += event.at - running_since
                running_since = None
            if isinstance(event, ev.ReturnedToApplicant):
                paused_since = event.at
            if isinstance(event, ev.CaseDecided) and first_decision is None:
                first_decision = event.at
            if isinstance(event, ev.Withdrawn | ev.Closed):
                paused_since = None
    if running_since is not None:
        review += max(now - running_since, timedelta())
    if paused_since is not None:
        paused += max(now - paused_since, timedelta())
    day = 86400.0
    return review.total_seconds() / day, paused.total_seconds() / day, received, first_decision


def clock(events: Sequence[ev.Event], now: datetime, case: Case | None = None) -> Clock:
    """The clock of the case made of `events`, as seen at `now`."""
    state = case or replay(events)
    review, paused, received, first = review_time(events, now)
    running = state.status in ("submitted", "under_review")
    used = math.floor(review + 1e-9)
    deadline: date | None = None
    if received is not None:
        deadline = (now + timedelta(days=LIMIT_DAYS - review)).date() if running else None
    overdue = review > LIMIT_DAYS and (running or state.status == "returned")
    within: bool | None = None
    if first is not None:
        first_review, _, _, _ = review_time([e for e in events if e.at <= first], first)
        within = first_review <= LIMIT_DAYS
    offer = state.accepted_offer or state.open_offer
    return Clock(
        status=state.status,
        running=running,
        received_at=received,
        days_used=used,
        days_left=LIMIT_DAYS - used,
        review_days=round(review, 4),
        paused_days=round(paused, 4),
        deadline=deadline,
        overdue=overdue,
        first_decision_at=first,
        decided_within_limit=within,
        expected_delivery=offer.expected_delivery if offer else None,
    )
