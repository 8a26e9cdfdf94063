"""Where synthetic recipients live: kommuner of each year weighted by their real population.

A recipient of age ``a`` and sex ``s`` is placed in kommune ``k`` with probability proportional to
the residents of ``k`` of that age and sex on 1 January of the årgang (SSB 07459 via
`iplos.catalog.regions.population`), so small kommuner are as small, and as identifying, as in
reality. Across a reform a recipient's kommune is carried to its successor (`harmonise`; a split
picks a part by its population share).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = ["Geography", "geography"]

MAX_AGE = 105


class Geography:
    """Population weights of one year: codes, and a cumulative table per (age, sex)."""

    def __init__(self, year: int) -> None:
        from iplos.catalog.regions import population

        self.year = year
        frame = population(year)
        codes, k = np.unique(frame["kommune"].to_numpy(dtype=object).astype("U4"), return_inverse=True)
        self.codes: npt.NDArray[np.str_] = codes
        age = np.clip(frame["age"].to_numpy(dtype=np.int64), 0, MAX_AGE)
        sex = frame["sex"].to_numpy(dtype=np.int64)
        table = np.zeros((MAX_AGE + 1, 2, len(codes)), dtype=np.float64)
        np.add.at(table, (age, sex - 1, k), frame["persons"].to_numpy(dtype=np.float64))
        #  A cell nobody lives in (very old men in 2006, say) borrows the nearest younger age.
        for a in range(1, MAX_AGE + 1):
            for s in range(2):
                if table[a, s].sum() <= 0:
                    table[a, s] = table[a - 1, s]
        self.by_age_sex = table
        self.national = table.sum(axis=2)  # (age, sex) residents of Norway
        cum = np.cumsum(table, axis=2)
        self._cum = cum / cum[:, :, -1:]
        self.code_set = frozenset(codes.tolist())

    def draw(
        self, age: npt.NDArray[np.int64], sex: npt.NDArray[np.int64], rng: np.random.Generator
    ) -> npt.NDArray[np.str_]:
        """A kommune code for each person, by the population of their age and sex."""
        a = np.clip(age, 0, MAX_AGE)
        out = np.empty(len(a), dtype="U4")
        u = rng.random(len(a))
        for s in (1, 2):
            for ages in np.unique(a[sex == s]):
                rows = np.flatnonzero((sex == s) & (a == ages))
                idx = np.searchsorted(self._cum[ages, s - 1], u[rows], side="right")
                out[rows] = self.codes[np.minimum(idx, len(self.codes) - 1)]
        return out


@cache
def geography(year: int) -> Geography:
    """The (cached) population weights of ``year``."""
    return Geography(year)


@cache
def _successors(code: str, from_year: int, to_year: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
    from iplos.catalog.regions import harmonise

    candidates = harmonise(code, from_year, to_year)
    codes = tuple(str(c.code) for c in candidates)
    shares = [c.share for c in candidates]
    known = [float(s) for s in shares if s is not None]
    if len(known) < len(shares) or not codes or sum(known) <= 0:
        weights = tuple(1.0 / max(1, len(codes)) for _ in codes)
    else:
        weights = tuple(s / sum(known) for s in known)
    return codes, weights


def carry_over(
    kommune: npt.NDArray[np.str_],
    age: npt.NDArray[np.int64],
    sex: npt.NDArray[np.int64],
    from_year: int,
    to_year: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.str_]:
    """Each kommune code of ``from_year`` expressed in ``to_year``'s classification.

    Codes still valid are kept; others go to their successor (a split: one part, drawn by share);
    a code without a known successor is re-drawn by population.
    """
    target = geography(to_year)
    out = kommune.copy()
    if len(out) == 0:
        return out
    invalid = ~np.isin(out, np.array(sorted(target.code_set), dtype="U4"))
    if not invalid.any():
        return out
    for code in np.unique(out[invalid]):
        rows = np.flatnonzero(out == code)
        succ, weights = _successors(str(code), from_year, to_year)
        succ_ok = [i for i, c in enumerate(succ) if c in target.code_set]
        if succ_ok:
            p = np.array([weights[i] for i in succ_ok])
            pick = rng.choice(len(succ_ok), size=len(rows), p=p / p.sum())
            out[rows] = np.array([succ[i] for i in succ_ok], dtype="U4")[pick]
        else:
            out[rows] = target.draw(age[rows], sex[rows], rng)
    return out
