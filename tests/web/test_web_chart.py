"""The geometry of the risk/loss chart: every plan inside the plot, the 1/k line where 1/k lies,
numbers clear of each other, the agreed plan marked, nothing without a searched proposal."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from iplos.cases import AnonymisationRound, Case
from iplos.web._chart import risk_loss_chart


def _plan(alternatives: list[tuple[float, float]], k: int = 5) -> dict[str, Any]:
    return {
        "levels": {"alder": "20 years", "kommune": "all"},
        "k": k,
        "max_suppression": 0.05,
        "unit": "person",
        "results": {
            "suppressed_persons": 9,
            "risk_after": {"highest": 1 / k, "classes": 10},
            "search": {
                "utility": "loss",
                "metrics": {"loss": 0.46},
                "alternatives": [
                    {
                        "levels": {"alder": f"level {i}", "kommune": "all"},
                        "loss": loss,
                        "highest_risk": risk,
                        "suppressed_persons": i,
                        "classes": 10 + i,
                    }
                    for i, (loss, risk) in enumerate(alternatives)
                ],
            },
        },
    }


def _case(*rounds: AnonymisationRound, agreed: int | None = None) -> Case:
    return dataclasses.replace(Case(), anonymisation_rounds=rounds, agreed_round=agreed)


def test_no_chart_without_a_searched_proposal() -> None:
    assert risk_loss_chart(Case()) is None
    hand_made = AnonymisationRound(1, "processor", {"levels": {"alder": "5 years"}, "k": 5})
    assert risk_loss_chart(_case(hand_made)) is None


def test_the_agreed_counter_proposal_marks_the_plan_it_took() -> None:
    searched = AnonymisationRound(1, "processor", _plan([(0.47, 0.2), (0.5, 0.1)]))
    counter = AnonymisationRound(2, "applicant", {"levels": {"alder": "level 1", "kommune": "all"}, "k": 5})
    chart = risk_loss_chart(_case(searched, counter, agreed=2))
    assert chart is not None and chart.round_number == 1
    assert [(p.number, p.kind, p.agreed) for p in chart.points] == [
        (0, "proposed", False),
        (1, "alternative", False),
        (2, "alternative", True),
    ]


@given(
    st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.floats(0.001, 0.5, allow_nan=False)),
        min_size=1,
        max_size=12,
    ),
    st.integers(2, 20),
)
def test_every_plan_lies_inside_the_plot_and_the_line_at_one_over_k(
    alternatives: list[tuple[float, float]], k: int
) -> None:
    chart = risk_loss_chart(_case(AnonymisationRound(1, "processor", _plan(alternatives, k))))
    assert chart is not None and len(chart.points) == 1 + len(alternatives)
    bottom, right = chart.top + chart.plot_h, chart.left + chart.plot_w
    for p in chart.points:
        assert chart.left <= p.x <= right and chart.top <= p.y <= bottom
    assert chart.top <= chart.threshold_y <= bottom and chart.threshold == 1 / k
    # a higher risk is drawn higher (smaller y); the proposal, at risk 1/k, lies on the line
    for p in chart.points:
        for q in chart.points:
            if p.risk > q.risk:
                assert p.y <= q.y
    assert chart.points[0].y == chart.threshold_y
    labels = [(p.label_x, p.label_y) for p in chart.points]
    for i, (x1, y1) in enumerate(labels):
        for x2, y2 in labels[i + 1 :]:
            assert abs(x1 - x2) >= 14 - 0.2 or abs(y1 - y2) >= 12 - 0.2  # rounded to 0.1
