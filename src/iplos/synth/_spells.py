"""Service periods (one vedtak each) of a chunk's persons, carried from year to year.

A spell has a planned end; an årgang shows ``sluttdato`` only when the spell ended by 31 December
of that årgang. Death, a move into long-term care or leaving the register cut the planned end
short. Spells that ended before the current year are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from iplos.synth._codes import HOUR_BASED
from iplos.synth._sampling import uniform_dates

__all__ = ["Spells", "code_mask", "person_mask"]

_CODES = 64  # service codes are below this

# Mean length of a spell in days and typical hours per week (hour-based services only).
DURATION_DAYS: dict[int, float] = {
    1: 1100, 2: 300, 3: 1800, 4: 700, 5: 400, 6: 1100, 7: 1100, 8: 1000, 9: 1000, 11: 1400,
    15: 550, 17: 500, 21: 15000, 22: 60,
}  # fmt: skip
HOURS_MEDIAN: dict[int, float] = {1: 2.5, 2: 2.0, 3: 22.0, 7: 6.0, 9: 3.0, 11: 12.0, 15: 3.5}


def _lookup(values: dict[int, float], default: float) -> npt.NDArray[np.float64]:
    out = np.full(_CODES, default)
    for code, value in values.items():
        out[code] = value
    return out


def code_mask(codes: Iterable[int]) -> npt.NDArray[np.bool_]:
    """A boolean lookup table: ``code_mask(codes)[code]`` is True for the given codes."""
    out = np.zeros(_CODES, dtype=bool)
    out[list(codes)] = True
    return out


_MEAN_DAYS = _lookup(DURATION_DAYS, 365.0)
_HOURS = _lookup(HOURS_MEDIAN, 0.0)
_HOURLY = code_mask(HOUR_BASED)
_STAYS = code_mask([8, 17, 18, 19, 20, 21, 22])


@dataclass
class Spells:
    """Columns of the service periods of a chunk."""

    person: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    code: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    vedtak: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.empty(0, "datetime64[D]"))
    start: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.empty(0, "datetime64[D]"))
    end: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.empty(0, "datetime64[D]"))
    hours: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    provider: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))

    def __len__(self) -> int:
        return len(self.person)

    def add(
        self,
        person: npt.NDArray[np.int64],
        code: npt.NDArray[np.int64] | int,
        start: npt.NDArray[np.datetime64],
        rng: np.random.Generator,
        severity: npt.NDArray[np.float64],
        end: npt.NDArray[np.datetime64] | None = None,
    ) -> npt.NDArray[np.int64]:
        """New spells starting on ``start``; the vedtak precedes the start by 0-30 days.

        Without ``end`` the planned end is drawn from the service's mean duration.
        """
        n = len(person)
        codes = np.broadcast_to(np.asarray(code, dtype=np.int64), (n,)).copy()
        start = start.astype("datetime64[D]")
        lag = np.floor(rng.exponential(7.0, n)).astype(np.int64).clip(0, 30)
        vedtak = start - lag.astype("timedelta64[D]")
        if end is None:
            mean = _MEAN_DAYS[codes]
            length = np.ceil(rng.exponential(1.0, n) * mean).astype(np.int64) + 1
            end = start + length.astype("timedelta64[D]")
        end = np.maximum(end.astype("datetime64[D]"), start)
        hourly = _HOURLY[codes]
        median = _HOURS[codes]
        raw = median * np.exp(rng.normal(0.0, 0.6, n)) * (0.6 + 0.9 * np.clip(severity, 0, 1.5))
        hours = np.where(hourly, np.round(np.clip(raw, 0.25, 168.0) * 4) / 4, np.nan)
        provider = np.where(_STAYS[codes], 1, np.where(hourly, 0, 2))
        first = len(self)
        self.person = np.concatenate([self.person, person])
        self.code = np.concatenate([self.code, codes])
        self.vedtak = np.concatenate([self.vedtak, vedtak])
        self.start = np.concatenate([self.start, start])
        self.end = np.concatenate([self.end, end.astype("datetime64[D]")])
        self.hours = np.concatenate([self.hours, hours])
        self.provider = np.concatenate([self.provider, provider])
        return np.arange(first, first + n)

    def cut(self, rows: npt.NDArray[np.int64], day: npt.NDArray[np.datetime64]) -> None:
        """End spells ``rows`` no later than ``day`` (never before their start)."""
        self.end[rows] = np.maximum(np.minimum(self.end[rows], day), self.start[rows])

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Drop the spells not in ``mask``."""
        for name in ("person", "code", "vedtak", "start", "end", "hours", "provider"):
            setattr(self, name, getattr(self, name)[mask])

    def overlapping(self, jan1: np.datetime64, dec31: np.datetime64) -> npt.NDArray[np.bool_]:
        """Spells that overlap the year."""
        return np.asarray((self.start <= dec31) & (self.end >= jan1))

    def persons_with(
        self, codes: list[int], rows: npt.NDArray[np.bool_], n_people: int
    ) -> npt.NDArray[np.bool_]:
        """Per person: has a spell of one of ``codes`` among ``rows``."""
        out = np.zeros(n_people, dtype=bool)
        out[self.person[rows & code_mask(codes)[self.code]]] = True
        return out

    def redecide(
        self,
        rows: npt.NDArray[np.int64],
        limit: npt.NDArray[np.datetime64],
        rng: np.random.Generator,
        jan1: np.datetime64,
    ) -> None:
        """A new vedtak for spells ``rows`` on a day before ``limit``: the old ends, a new one follows.

        Hours change at a reassessment; the new spell keeps the planned end.
        """
        low = np.maximum(self.start[rows] + np.timedelta64(1, "D"), jan1)
        ok = low < limit
        rows, low, limit = rows[ok], low[ok], limit[ok]
        day = uniform_dates(low, limit, rng)
        planned = self.end[rows].copy()
        self.end[rows] = day - np.timedelta64(1, "D")
        new = self.add(self.person[rows], self.code[rows], day, rng, np.zeros(len(rows)), end=planned)
        self.hours[new] = np.where(
            np.isnan(self.hours[rows]),
            np.nan,
            np.round(np.clip(self.hours[rows] * rng.uniform(0.9, 1.6, len(rows)), 0.25, 168) * 4) / 4,
        )
        self.provider[new] = self.provider[rows]


def person_mask(persons: npt.NDArray[np.int64], n_people: int) -> npt.NDArray[np.bool_]:
    """A boolean lookup table over person indices: True for ``persons``."""
    out = np.zeros(n_people, dtype=bool)
    out[persons] = True
    return out
