"""Protection intervals: how far from its true value a sensitive cell must be able to lie.

A suppressed sensitive cell with value a is protected when an attacker who knows every published
cell, the additivity of the table and that no cell is negative can only narrow it down to an
interval [lo, hi] with lo <= a - lower and hi >= a + upper (Fischetti & Salazar, "Models and
algorithms for optimizing cell suppression in tabular data with linear constraints", JASA 2000).
Each level is the larger of a percentage of the cell value and an absolute amount; the lower one is
capped at the value itself, since no cell can be shown to lie below zero.
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
    upper_absolute: float = 1.0
    lower_absolute: float = 1.0

    def __post_init__(self) -> None:
        if min(self.upper_percent, self.lower_percent, self.upper_absolute, self.lower_absolute) < 0:
            raise IplosError("protection levels cannot be negative")

    def upper(self, values: FloatArray) -> FloatArray:
        return np.maximum(self.upper_percent / 100.0 * values, self.upper_absolute)

    def lower(self, values: FloatArray) -> FloatArray:
        return np.minimum(values, np.maximum(self.lower_percent / 100.0 * values, self.lower_absolute))

    def as_dict(self) -> dict[str, float]:
        return {
            "upper_percent": self.upper_percent,
            "lower_percent": self.lower_percent,
            "upper_absolute": self.upper_absolute,
            "lower_absolute": self.lower_absolute,
        }
