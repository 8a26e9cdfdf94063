"""The alternatives of an anonymisation search as points of risk against information loss.

The processor's proposal records the chosen plan and the best other plans that also meet the
criteria (`results.search.alternatives`), each with its information loss (the search's metric),
its highest person-level re-identification risk (1 / the smallest class), the persons it
suppresses and its classes. This module turns them into chart geometry; the template draws it as
an inline SVG (no script, so the CSP holds) beside a table of the same numbers for screen readers.

The agreed criterion that this plane can show is k: every plan that meets k-anonymity has a highest
risk of at most 1/k, drawn as a dashed line. The others (l, t, the suppression budget) are met by
every plotted plan and are named in the caption.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from iplos.cases import Case

PointKind = Literal["proposed", "alternative"]
WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 24, 56
TICKS = 5


@dataclass(frozen=True)
class Point:
    """One plan: where it lies and what it does."""

    number: int  # 0 for the proposed plan, 1.. for the alternatives (the table's numbering)
    kind: PointKind
    levels: Mapping[str, Any]
    loss: float
    risk: float
    suppressed_persons: int | None
    classes: int | None
    agreed: bool = False
    x: float = 0.0
    y: float = 0.0
    label_x: float = 0.0  # where its number is written, clear of the other numbers
    label_y: float = 0.0


@dataclass(frozen=True)
class Chart:
    """Geometry of the chart in SVG user units, and the numbers behind it."""

    metric: str
    k: int
    round_number: int
    points: tuple[Point, ...]
    x_ticks: tuple[tuple[float, float], ...]  # (position, value)
    y_ticks: tuple[tuple[float, float], ...]
    threshold: float  # 1/k
    threshold_y: float
    criteria: Mapping[str, Any] = field(default_factory=dict)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_w: int = WIDTH - LEFT - RIGHT
    plot_h: int = HEIGHT - TOP - BOTTOM


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _ticks(low: float, high: float) -> list[float]:
    step = (high - low) / (TICKS - 1)
    return [low + i * step for i in range(TICKS)]


def searched_round(case: Case) -> tuple[int, Mapping[str, Any]] | None:
    """The latest processor round whose plan carries the search's alternatives, with its number."""
    for rnd in reversed(case.anonymisation_rounds):
        results = rnd.plan.get("results")
        if rnd.party == "processor" and isinstance(results, Mapping) and "search" in results:
            return rnd.number, rnd.plan
    return None


def _points(plan: Mapping[str, Any], agreed_levels: Mapping[str, Any] | None) -> list[Point]:
    results = plan.get("results", {})
    search = results.get("search", {}) if isinstance(results, Mapping) else {}
    metric = str(search.get("utility", "loss"))
    out: list[Point] = []
    chosen_loss = (
        _number(search.get("metrics", {}).get(metric)) if isinstance(search.get("metrics"), Mapping) else None
    )
    after = results.get("risk_after", {}) if isinstance(results, Mapping) else {}
    chosen_risk = _number(after.get("highest")) if isinstance(after, Mapping) else None
    levels = plan.get("levels", {})
    if chosen_loss is not None and chosen_risk is not None:
        out.append(
            Point(
                0,
                "proposed",
                levels,
                chosen_loss,
                chosen_risk,
                results.get("suppressed_persons"),
                after.get("classes"),
                agreed=agreed_levels == levels,
            )
        )
    for i, alt in enumerate(search.get("alternatives", []), start=1):
        loss, risk = _number(alt.get(metric)), _number(alt.get("highest_risk"))
        if loss is None or risk is None:
            continue
        out.append(
            Point(
                i,
                "alternative",
                alt.get("levels", {}),
                loss,
                risk,
                alt.get("suppressed_persons"),
                alt.get("classes"),
                agreed=agreed_levels == alt.get("levels"),
            )
        )
    return out


def _labelled(points: Sequence[Point]) -> tuple[Point, ...]:
    """Each point's number beside it, moved down past the numbers already written (plans close in
    loss and risk would otherwise write their numbers over each other)."""
    taken: list[tuple[float, float]] = []
    out = []
    for p in points:
        lx, ly = p.x + 9, p.y - 8
        while any(abs(lx - x) < 14 and abs(ly - y) < 12 for x, y in taken):
            ly += 12
        taken.append((lx, ly))
        out.append(dataclasses.replace(p, label_x=round(lx, 1), label_y=round(ly, 1)))
    return tuple(out)


def risk_loss_chart(case: Case) -> Chart | None:
    """The chart of the case's latest searched proposal, or None when no proposal carries a search."""
    found = searched_round(case)
    if found is None:
        return None
    number, plan = found
    agreed = case.agreed_plan  # the agreed round may be a counter-proposal that took a plotted plan
    agreed_levels = agreed.get("levels") if agreed is not None else None
    points = _points(plan, agreed_levels if isinstance(agreed_levels, Mapping) else None)
    if not points:
        return None
    k = int(plan.get("k") or 1)
    threshold = 1.0 / k
    losses = [p.loss for p in points]
    low = min(losses)
    high = max(losses)
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 0.01)
    x_low, x_high = max(low - pad, 0.0), high + pad
    y_high = max(max(p.risk for p in points), threshold) * 1.15
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(v: float) -> float:
        return round(LEFT + plot_w * (v - x_low) / (x_high - x_low), 1)

    def y_of(v: float) -> float:
        return round(TOP + plot_h * (1 - v / y_high), 1)

    placed = _labelled([dataclasses.replace(p, x=x_of(p.loss), y=y_of(p.risk)) for p in points])
    return Chart(
        metric=str(plan.get("results", {}).get("search", {}).get("utility", "loss")),
        k=k,
        round_number=number,
        points=placed,
        x_ticks=tuple((x_of(v), v) for v in _ticks(x_low, x_high)),
        y_ticks=tuple((y_of(v), v) for v in _ticks(0.0, y_high)),
        threshold=threshold,
        threshold_y=y_of(threshold),
        criteria={
            key: plan.get(key)
            for key in ("k", "l", "t", "max_suppression", "unit")
            if plan.get(key) not in (None, "", [])
        },
    )


def levels_text(levels: Mapping[str, Any], level_name: Any) -> str:
    """'alder: 20-årsgrupper, kjonn: kjønn' (levels through the page's level translation)."""
    return ", ".join(f"{q}: {level_name(v) if isinstance(v, str) else v}" for q, v in levels.items())


__all__: Sequence[str] = ("Chart", "Point", "levels_text", "risk_loss_chart", "searched_round")
