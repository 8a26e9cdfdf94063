"""Processing statistics from the events: time to decision, share decided in time, cases per state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from iplos.cases import events as ev
from iplos.cases.clock import LIMIT_DAYS, review_time
from iplos.cases.model import STATUSES
from iplos.cases.state import replay


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between order statistics (numpy's default).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class Statistics:
    """Processing times are days under review until the first decision (time returned not counted)."""

    cases: int
    decided: int
    median_days: float | None
    p90_days: float | None
    share_within_limit: float | None
    per_status: dict[str, int]
    open_overdue: int


def statistics(histories: Iterable[Sequence[ev.Event]], now: datetime) -> Statistics:
    """Statistics over the event histories of many cases."""
    times: list[float] = []
    per_status: Counter[str] = Counter()
    overdue = 0
    count = 0
    for events in histories:
        count += 1
        state = replay(events)
        per_status[state.status] += 1
        review, _, _, first = review_time(events, now)
        if first is not None:
            first_review, _, _, _ = review_time([e for e in events if e.at <= first], first)
            times.append(first_review)
        elif state.status in ("submitted", "under_review", "returned") and review > LIMIT_DAYS:
            overdue += 1
    return Statistics(
        cases=count,
        decided=len(times),
        median_days=round(percentile(times, 50), 2) if times else None,
        p90_days=round(percentile(times, 90), 2) if times else None,
        share_within_limit=round(sum(t <= LIMIT_DAYS for t in times) / len(times), 4) if times else None,
        per_status={s: per_status[s] for s in STATUSES if per_status[s]},
        open_overdue=overdue,
    )
