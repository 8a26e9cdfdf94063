"""The cohort model of one chunk: persons enter the register, continue, move, leave and die.

Each year (`Cohort.step`):

1. codes of the last year's classification are carried into this year's (reforms), 2 % move;
2. entrants fill each age-sex cell up to its quota (a few are former recipients coming back);
3. deaths are drawn for everyone alive (recipients die more the frailer they are);
4. services are allocated to their quotas (`_services.allocate`);
5. of the survivors with a running service, enough continue into next year to leave room for
   entrants; the others' services end during this year.

Burn-in years before the first written year build up a stock with services that began earlier.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iplos.ident import PseudonymKey
from iplos.synth._codes import diagnosis_table
from iplos.synth._geography import Geography, carry_over, geography
from iplos.synth._identity import FnrIssuer, Identities
from iplos.synth._people import N_DIAG, NAT, People, gompertz
from iplos.synth._sampling import pick, uniform_dates
from iplos.synth._services import allocate
from iplos.synth._spells import Spells, person_mask
from iplos.synth._targets import AGE_GROUPS, age_group_of
from iplos.synth._year import ChunkSpec, Quotas, YearContext, quotas

__all__ = ["Cohort"]

_DAY = np.timedelta64(1, "D")
_KEEP = np.array([0.9, 0.88, 0.85, 0.8, 0.76, 0.72])  # most who continue, as a share of next year's cell
_EXTRA_SHARE = 0.25  # persons in the linked registers who never receive care services
_RETURNING = 0.08  # share of entrants who are former recipients


def _band(age: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.asarray(np.searchsorted(np.array([50, 67, 80]), age, side="right"), dtype=np.int64)


class Cohort:
    """All persons and service periods of one chunk, advanced one year at a time."""

    def __init__(
        self, spec: ChunkSpec, rng: np.random.Generator, issuer: FnrIssuer, keys: dict[str, PseudonymKey]
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.issuer = issuer
        self.ids = Identities(keys)
        self.people = People(n_years=len(spec.years))
        self.pool_hist = np.zeros((0, len(spec.years)), dtype=bool)
        self.spells = Spells()
        self.geo_year: int | None = None
        self.entry = np.empty(0, "datetime64[D]")
        self.age_now = np.empty(0, np.int64)
        self._diag = diagnosis_table()

    # persons ---------------------------------------------------------------------------------
    def _add(
        self,
        birth: npt.NDArray[np.datetime64],
        sex: npt.NDArray[np.int64],
        kommune: npt.NDArray[np.str_],
        severity: npt.NDArray[np.float64],
        extra: bool,
    ) -> npt.NDArray[np.int64]:
        p = self.people
        idx = p.add(birth, sex, kommune, severity, extra, self.rng)
        self.ids.add(self.issuer.issue(birth, sex, p.dnr[idx], self.rng))
        self.pool_hist = np.concatenate([self.pool_hist, np.zeros((len(idx), len(self.spec.years)), bool)])
        self.entry = np.concatenate([self.entry, np.full(len(idx), NAT)])
        return idx

    def _draw_ages(
        self, geo: Geography, group: npt.NDArray[np.int64], sex: npt.NDArray[np.int64], need: float
    ) -> npt.NDArray[np.int64]:
        ages = np.empty(len(group), dtype=np.int64)
        for g, (_, lo, hi) in enumerate(AGE_GROUPS):
            for s in (1, 2):
                rows = np.flatnonzero((group == g) & (sex == s))
                if len(rows) == 0:
                    continue
                span = np.arange(lo, min(hi, 105) + 1)
                w = geo.national[span, s - 1] * np.exp(need * np.maximum(span - 50, 0))
                ages[rows] = self.rng.choice(span, size=len(rows), p=w / w.sum())
        return ages

    def _births(self, year: int, ages: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
        first = (np.full(len(ages), year) - ages - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        following = (np.full(len(ages), year) - ages - 1969).astype("datetime64[Y]").astype("datetime64[D]")
        last = (following - _DAY).astype("datetime64[D]")
        return uniform_dates(first, last, self.rng)

    def _initial_severity(self, age: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        base = np.where(age < 50, self.rng.beta(2, 3, len(age)), self.rng.beta(2, 4, len(age)))
        return np.asarray(np.clip(base + 0.008 * np.maximum(age - 60, 0), 0, 1.5))

    def _diagnoses(
        self,
        who: npt.NDArray[np.int64],
        low: npt.NDArray[np.datetime64],
        high: npt.NDArray[np.datetime64],
        count: npt.NDArray[np.int64],
    ) -> None:
        p, rng = self.people, self.rng
        _, _, weights = self._diag
        band = _band(self.age_now[who])
        for slot in range(N_DIAG):
            rows = who[(count > slot) & (p.diag[who, slot] < 0)]
            if len(rows) == 0:
                continue
            b = band[np.searchsorted(who, rows)]
            cum = np.cumsum(weights[:, b], axis=0)
            u = rng.random(len(rows))
            p.diag[rows, slot] = (u[None, :] > cum).sum(axis=0).clip(0, len(weights) - 1)
            lo, hi = low[np.searchsorted(who, rows)], high[np.searchsorted(who, rows)]
            dates = uniform_dates(np.maximum(lo, p.birth[rows]), hi, rng)
            p.diag_date[rows, slot] = np.where(rng.random(len(rows)) < 0.1, NAT, dates)

    # the year --------------------------------------------------------------------------------
    def step(self, yi: int) -> YearContext:
        """Advance to year ``spec.years[yi]``; the returned context describes that year."""
        year = self.spec.years[yi]
        jan1, dec31 = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year}-12-31", "D")
        p, rng = self.people, self.rng
        geo = geography(max(year, 2006))
        q = quotas(self.spec, year)
        self.spells.keep(self.spells.end >= jan1)
        if self.geo_year is None:
            self._extras(year, geo, q)
        elif self.geo_year != geo.year:
            alive = np.flatnonzero(p.alive_on(jan1))
            age = year - p.birth_year[alive]
            p.kommune[alive] = carry_over(p.kommune[alive], age, p.sex[alive], self.geo_year, geo.year, rng)
        self.geo_year = geo.year
        self.entry[:] = NAT
        movers = np.flatnonzero(p.in_pool & (rng.random(len(p)) < 0.02))
        p.kommune[movers] = geo.draw(year - p.birth_year[movers], p.sex[movers], rng)
        self._enter(year, geo, q)
        self.age_now = year - p.birth_year
        self._deaths(year)
        ctx = self._context(year, jan1, dec31)
        allocate(ctx, p, self.spells, q, rng)
        self._new_diagnoses(ctx)
        alive = np.flatnonzero(p.alive_on(jan1) | ((p.birth <= dec31) & np.isnat(p.death)))
        p.fylke[alive, yi] = p.kommune[alive].astype("U2").astype(np.int64)
        self.pool_hist[:, yi] = ctx.pool
        if yi + 1 < len(self.spec.years):
            self._exits(ctx, quotas(self.spec, self.spec.years[yi + 1]))
        p.severity[ctx.pool] = np.clip(
            p.severity[ctx.pool] + 0.03 + rng.normal(0, 0.03, int(ctx.pool.sum())), 0, 1.5
        )
        return ctx

    def _extras(self, year: int, geo: Geography, q: Quotas) -> None:
        """Persons of the linked registers who are not (yet) in the care register."""
        n = round(_EXTRA_SHARE * int(q.cells.sum()))
        if n == 0:
            return
        sex = self.rng.integers(1, 3, n)
        group = self.rng.choice(len(AGE_GROUPS), n, p=[0.1, 0.35, 0.25, 0.15, 0.1, 0.05])
        ages = self._draw_ages(geo, group, sex, 0.0)
        self._add(self._births(year, ages), sex, geo.draw(ages, sex, self.rng), np.zeros(n), extra=True)

    def _enter(self, year: int, geo: Geography, q: Quotas) -> None:
        p, rng = self.people, self.rng
        jan1, dec31 = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year}-12-31", "D")
        age = year - p.birth_year
        cell = age_group_of(age) * 2 + p.sex - 1
        short = np.maximum(q.cells - np.bincount(cell[p.in_pool], minlength=12), 0)
        former = ~p.in_pool & p.ever_pool & ~p.extra & p.alive_on(jan1)
        back: list[npt.NDArray[np.int64]] = []
        for c in range(12):
            k = min(round(_RETURNING * short[c]), int((former & (cell == c)).sum()))
            chosen = np.flatnonzero(pick(np.where(former & (cell == c), 1.0, 0.0), k, rng))
            back.append(chosen)
            short[c] -= len(chosen)
        group = np.repeat(np.arange(12) // 2, short)
        sex = np.repeat(np.arange(12) % 2 + 1, short)
        ages = self._draw_ages(geo, group, sex, 0.06)
        birth = self._births(year, ages)
        new = self._add(birth, sex, geo.draw(ages, sex, rng), self._initial_severity(ages), extra=False)
        entrants = np.concatenate([*back, new]).astype(np.int64)
        low = np.maximum(p.birth[entrants], jan1)
        self.entry[entrants] = uniform_dates(low, np.maximum(low, dec31 - 7 * _DAY), rng)
        p.in_pool[entrants] = True
        p.ever_pool[entrants] = True
        self.age_now = year - p.birth_year
        count = rng.choice(4, len(new), p=[0.2, 0.4, 0.28, 0.12])
        start = self.entry[new]
        earlier = (start - 1500 * _DAY).astype("datetime64[D]")
        self._diagnoses(new, earlier, start, count)

    def _deaths(self, year: int) -> None:
        p = self.people
        jan1, dec31 = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year}-12-31", "D")
        idx = np.flatnonzero(np.isnat(p.death) & (p.birth <= dec31))
        age = self.age_now[idx]
        mult = np.where(p.in_pool[idx], 0.8 + 2.0 * p.severity[idx], np.where(p.extra[idx], 1.0, 1.3))
        earliest = np.maximum(p.birth[idx], jan1)
        entry = self.entry[idx]
        earliest = np.where(np.isnat(entry), earliest, np.maximum(earliest, entry))
        frac = (dec31 - earliest).astype(np.int64) / 365.0
        p.draw_deaths(idx, gompertz(age) * mult * frac, earliest, dec31, self.rng)

    def _context(self, year: int, jan1: np.datetime64, dec31: np.datetime64) -> YearContext:
        p, sp = self.people, self.spells
        n = len(p)
        ov = sp.overlapping(jan1, dec31)
        ongoing = ov & (sp.end > dec31)
        alive_end = np.isnat(p.death) | (p.death > dec31)
        limit = np.where(alive_end, dec31, p.death)
        return YearContext(
            year=year,
            jan1=jan1,
            dec31=dec31,
            age=self.age_now,
            group=age_group_of(self.age_now),
            pool=p.in_pool.copy(),
            start_low=np.where(np.isnat(self.entry), jan1, self.entry),
            limit=limit,
            window_hi=limit.copy(),
            lt_carried=sp.persons_with([21], ov, n) & p.in_pool,
            lt_yearend=sp.persons_with([21], ongoing, n) & alive_end & p.in_pool,
            st_yearend=sp.persons_with([18, 19, 20, 22], ongoing, n) & alive_end & p.in_pool,
            died=~alive_end,
        )

    def _new_diagnoses(self, ctx: YearContext) -> None:
        who = np.flatnonzero(ctx.pool & (self.rng.random(len(ctx.pool)) < 0.06))
        if len(who):
            filled = (self.people.diag[who] >= 0).sum(axis=1)
            self._diagnoses(who, ctx.start_low[who], ctx.limit[who], filled + 1)

    def _exits(self, ctx: YearContext, nxt: Quotas) -> None:
        """Choose who continues into next year; the others' running services end this year."""
        p, sp, rng = self.people, self.spells, self.rng
        n = len(p)
        running = (sp.start <= ctx.dec31) & (sp.end > ctx.dec31)
        cand = ctx.pool & ~ctx.died & sp.persons_with(list(range(1, 30)), running, n)
        protected = cand & (ctx.lt_yearend | ctx.st_yearend)
        group_next = age_group_of(ctx.age + 1)
        cell = group_next * 2 + p.sex - 1
        services = np.bincount(sp.person[running], minlength=n).astype(np.float64)
        keep = protected.copy()
        for c in range(12):
            cap = int(nxt.cells[c] * _KEEP[c // 2]) - int((protected & (cell == c)).sum())
            if cap > 0:
                free = cand & ~protected & (cell == c)
                keep |= pick(np.where(free, 1.0 + services, 0.0), cap, rng)
        leaving = np.flatnonzero(ctx.pool & ~keep & ~ctx.died)
        rows = np.flatnonzero(person_mask(leaving, n)[sp.person] & running)
        if len(rows):
            sp.end[rows] = uniform_dates(
                np.maximum(sp.start[rows], ctx.jan1), np.full(len(rows), ctx.dec31), rng
            )
        p.in_pool[:] = keep
