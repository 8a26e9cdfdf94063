"""The invoice of a case: the hours recorded on it, per staff group, priced from the rate card."""

from __future__ import annotations

from collections import defaultdict

from iplos.cases.model import EstimateLine, PricedLine
from iplos.cases.ratecard import RateCard
from iplos.cases.state import Case


def compute_invoice(case: Case, rate_card: RateCard) -> tuple[tuple[PricedLine, ...], float]:
    """Invoice lines (one per staff group, in rate-card order) and the total.

    Hours are summed per staff group before pricing, so the invoice does not depend on how the
    work was split into entries (up to rounding of each group's amount to øre).
    """
    per_group: dict[str, float] = defaultdict(float)
    for entry in case.hours:
        per_group[entry.staff_group] += entry.hours
    order = [g for g in rate_card.rates if g in per_group]
    lines = [
        EstimateLine(group, round(per_group[group], 4), f"{rate_card.rates[group].label_nb}: recorded hours")
        for group in order
    ]
    return rate_card.price_all(lines)
