"""Protection intervals: how far from its true value a sensitive cell must be able to lie.

A suppressed sensitive cell with value a is protected when an attacker who knows every published
cell, the additivity of the table and that no cell is negative can only narrow it down to an
interval [lo, hi] with lo <= a - lower and hi >= a + upper (Fischetti & Salazar, "Models and
algorithms for optimizing cell suppression in tabular data with linear constraints", JASA 2000).
Each level is the larger of a percentage of the cell value and an absolute amount (persons in a
frequency table, the value's unit in a magnitude table); the lower one is capped at the value
itself, since no cell can be shown to lie below zero.

The default, 30 % of the value and at least 3 persons each way, is the safe one for counts with a
minimum of 5: a suppressed 1 or 2 must be indistinguishable from 0 and from 4 or 5 (with a
minimum of 1 person, a 1 published as "somewhere in [0, 3]" was allowed, which tells too much);
30 % is the usual share for larger cells (Hundepool et al., *Statistical Disclosure Control*, Wiley
2012, §4.3; the τ-ARGUS manual's protection levels). Every level is configurable, per direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iplos.errors import IplosError
from iplos.sdc.tables._table import FloatArray


@dataclass(frozen=True)
class ProtectionLevels:
    """Required upper and lower protection: max(percent of the value, absolute), per direction."""

    upper_percent: float = 30.0
    lower_percent: float = 30.0
    upper_absolute: float = 3.0
    lower_absolute: float = 3.0

    def __post_init__(self) -> None:
        if min(self.upper_percent, self.lower_percent, self.upper_absolute, self.lower_absolute) < 0:
            raise IplosError("protection levels cannot be negative")

    def upper(self, values: FloatArray) -> FloatArray:
        return np.maximum(self.upper_percent / 100.0 * values, self.upper_absolute)

    def lower(self, values: FloatArray) -> FloatArray:
        return np.minimum(values, np.maximum(self.lower_percent / 100.0 * values, self.lower_absolute))

    def required(
        self, values: FloatArray, rule_levels: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(upper, lower) protection per cell: these levels, or a rule's own where larger (the
        dominance and p % rules of magnitude tables); the lower one at most the value."""
        upper, lower = self.upper(values), self.lower(values)
        if rule_levels is not None:
            upper = np.maximum(upper, rule_levels)
            lower = np.minimum(values, np.maximum(lower, rule_levels))
        return upper, lower

    def describe(self) -> str:
        """The rule in words (for reports: it names no cell's value)."""
        return (
            f"the attacker's interval of every primary cell must reach at least "
            f"max({self.upper_percent:g} % of the value, {self.upper_absolute:g}) above and "
            f"max({self.lower_percent:g} % of the value, {self.lower_absolute:g}) below it (down to 0 at most)"
        )

    def as_dict(self) -> dict[str, float | str]:
        return {
            "rule": self.describe(),
            "upper_percent": self.upper_percent,
            "lower_percent": self.lower_percent,
            "upper_absolute": self.upper_absolute,
            "lower_absolute": self.lower_absolute,
        }
