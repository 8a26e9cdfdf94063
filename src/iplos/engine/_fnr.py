"""Spot fødselsnumre and D-numbers among many values at once, to keep them out of pseudonymous registers.

A value is flagged when it is 11 digits whose first six form a plausible date (day 01-31, or 41-71
for a D-number; month 01-12, or +40 for an H-number, or +80 for Skatteetaten's synthetic test
numbers), or that starts with 8 or 9 (an FH-number, which has no date), and whose control digits hold (Skatteetaten's modulus-11 rule; for numbers issued from 2032
the first control digit may leave remainder 0-3, so both rules are accepted: this check errs towards
rejecting). The full `iplos.ident` package owns identity numbers; this is the engine's own
vectorised screen over millions of values, with nothing to import.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2], dtype=np.int64)
_W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)


def _digits(values: Sequence[str]) -> npt.NDArray[np.int64]:
    """An (n, 11) array of digits; callers pass only strings of exactly 11 ASCII digits."""
    if not values:
        return np.zeros((0, 11), dtype=np.int64)
    raw = np.frombuffer("".join(values).encode("ascii"), dtype=np.uint8).reshape(len(values), 11)
    return raw.astype(np.int64) - ord("0")


def looks_like_fnr(values: Sequence[str]) -> npt.NDArray[np.bool_]:
    """For each 11-digit string, whether it passes as a fødselsnummer, D-number or H-number.

    >>> looks_like_fnr(["01010100050", "01010100051", "41010100044"]).tolist()
    [True, False, True]
    """
    d = _digits(values)
    if len(d) == 0:
        return np.zeros(0, dtype=bool)
    day = d[:, 0] * 10 + d[:, 1]
    month = d[:, 2] * 10 + d[:, 3]
    day = np.where(day > 40, day - 40, day)
    month = np.where(month > 80, month - 80, np.where(month > 40, month - 40, month))
    # FH-numbers (first digit 8 or 9) carry no date.
    date_ok = ((day >= 1) & (day <= 31) & (month >= 1) & (month <= 12)) | (d[:, 0] >= 8)

    # Classic rule: (weighted sum + k1) % 11 == 0; from 2032 a remainder of 0-3 is valid, which
    # includes the classic numbers.
    k1_ok = (d[:, :9] @ _W1 + d[:, 9]) % 11 <= 3
    s2 = d[:, :10] @ _W2
    k2 = (11 - s2 % 11) % 11
    k2_ok = (k2 != 10) & (k2 == d[:, 10])
    result: npt.NDArray[np.bool_] = date_ok & k1_ok & k2_ok
    return result
