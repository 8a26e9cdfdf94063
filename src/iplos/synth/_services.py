"""Who gets which service in a year: quotas filled on top of the services carried from last year.

Every calibrated count is met exactly by "fill to quota": the persons who already hold a service
count first; the rest of the quota goes to eligible persons drawn by weight (age, need). Weights
make services heavier with age: long-term care and home nursing go mostly to the old and frail,
BPA, avlastning, støttekontakt and omsorgsstønad mostly to the young.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iplos.synth._codes import S
from iplos.synth._people import People
from iplos.synth._sampling import pick, uniform_dates
from iplos.synth._spells import Spells, code_mask, person_mask
from iplos.synth._year import Quotas, YearContext

__all__ = ["allocate"]

_DAY = np.timedelta64(1, "D")
_INSTITUTION = [18, 19, 20, 21, 22]
_SHORT = np.array([S.UTREDNING, S.REHABILITERING, S.TIDSBEGRENSET_ANNET])

# Weight per age group (0-17, 18-49, 50-66, 67-79, 80-89, 90+).
_W = {
    "lt": (0.0, 0.01, 0.06, 0.4, 1.2, 2.6),
    "st": (0.0, 0.02, 0.15, 0.7, 1.2, 1.4),
    "both": (0.02, 0.12, 0.4, 1.0, 1.8, 2.2),
    "hn": (0.1, 0.7, 0.9, 1.0, 1.2, 1.2),
    "ph": (0.05, 0.3, 0.6, 1.2, 1.6, 1.6),
    "bpa": (0.4, 1.0, 0.8, 0.15, 0.02, 0.01),
    "avl": (3.0, 0.6, 0.1, 0.05, 0.05, 0.03),
    "stk": (0.8, 1.0, 0.5, 0.08, 0.02, 0.01),
    "oms": (3.0, 0.5, 0.2, 0.1, 0.08, 0.05),
    "alarm": (0.0, 0.02, 0.2, 1.0, 1.8, 2.0),
    "mat": (0.0, 0.05, 0.3, 1.0, 1.5, 1.5),
    "dag": (0.1, 0.8, 0.6, 0.6, 0.6, 0.3),
}


def _w(name: str, ctx: YearContext) -> npt.NDArray[np.float64]:
    return np.asarray(np.array(_W[name])[ctx.group], dtype=np.float64)


def _start(
    ctx: YearContext, who: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[np.datetime64]:
    return uniform_dates(ctx.start_low[who], ctx.window_hi[who], rng)


def _fill(
    have: npt.NDArray[np.bool_],
    target: int,
    weights: npt.NDArray[np.float64],
    eligible: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> npt.NDArray[np.int64]:
    """Persons to give a service so that ``target`` hold it (none when enough do already)."""
    need = target - int(have.sum())
    if need <= 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(pick(np.where(eligible & ~have, weights, 0.0), need, rng))


def _has(spells: Spells, ctx: YearContext, codes: list[int], n: int) -> npt.NDArray[np.bool_]:
    return spells.persons_with(codes, spells.overlapping(ctx.jan1, ctx.dec31), n)


def _long_term(ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator) -> None:
    """Admissions to long-term care, so that exactly the quota lives there on 31 December."""
    n = len(people)
    frail = (0.2 + people.severity) ** 2
    free = ctx.pool & ~ctx.lt_carried & (ctx.limit > ctx.start_low)
    alive_end = free & ~ctx.died
    k_alive = q.long_term - int(ctx.lt_yearend.sum())
    admit = np.zeros(n, dtype=bool)
    if k_alive > 0:
        admit |= pick(np.where(alive_end, _w("lt", ctx) * frail, 0.0), k_alive, rng)
        # Many die within the year of admission; they are admitted too, but not counted on 31 Dec.
        admit |= pick(np.where(free & ctx.died, _w("lt", ctx) * frail, 0.0), round(0.45 * k_alive), rng)
    who = np.flatnonzero(admit)
    if len(who) == 0:
        return
    day = uniform_dates(ctx.start_low[who], ctx.limit[who] - _DAY, rng)
    # Services at home end the day before the admission.
    rows = np.flatnonzero(person_mask(who, n)[spells.person])
    if len(rows):
        spells.cut(rows, day[np.searchsorted(who, spells.person[rows])] - _DAY)
    rows = spells.add(who, S.LANGTIDSOPPHOLD, day, rng, people.severity[who])
    # A long-term stay lasts at least into next year unless death ends it.
    spells.end[rows] = np.maximum(spells.end[rows], ctx.dec31 + _DAY)
    ctx.window_hi[who] = day - _DAY
    ctx.lt_yearend[who[~ctx.died[who]]] = True
    people.severity[who] += 0.15


def _short_stays(
    ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator
) -> None:
    """Short stays: exactly the quota ongoing on 31 December, and more during the year."""
    n = len(people)
    frail = 0.3 + people.severity
    k = q.institution - int(ctx.lt_yearend.sum()) - int((ctx.st_yearend & ~ctx.lt_yearend).sum())
    eligible = ctx.pool & ~ctx.died & ~ctx.lt_yearend & ~ctx.st_yearend
    who = np.flatnonzero(pick(np.where(eligible, _w("st", ctx) * frail, 0.0), k, rng))
    if len(who):
        low = np.maximum(ctx.start_low[who], ctx.dec31 - np.timedelta64(30, "D"))
        start = uniform_dates(low, np.full(len(who), ctx.dec31), rng)
        end = ctx.dec31 + rng.integers(1, 40, len(who)).astype("timedelta64[D]")
        spells.add(
            who, rng.choice(_SHORT, len(who), p=[0.15, 0.35, 0.5]), start, rng, people.severity[who], end
        )
        ctx.st_yearend[who] = True
    # Stays that begin and end within the year, mostly for the old living at home.
    p = np.where(ctx.age >= 67, 0.06 + 0.2 * people.severity, np.where(ctx.age >= 50, 0.02, 0.0))
    room = ctx.window_hi - np.where(ctx.st_yearend, 35, 0).astype("timedelta64[D]") - ctx.start_low
    able = ctx.pool & ~ctx.lt_carried & (room > np.timedelta64(20, "D"))
    who = np.flatnonzero(able & (rng.random(n) < p))
    if len(who):
        times = 1 + rng.poisson(0.35, len(who))
        who = np.repeat(who, times)
        hi = ctx.window_hi[who] - np.where(ctx.st_yearend[who], 35, 0).astype("timedelta64[D]")
        start = uniform_dates(ctx.start_low[who], hi - np.timedelta64(8, "D"), rng)
        end = np.minimum(start + rng.integers(5, 29, len(who)).astype("timedelta64[D]"), hi)
        spells.add(
            who, rng.choice(_SHORT, len(who), p=[0.2, 0.4, 0.4]), start, rng, people.severity[who], end
        )


def _home(ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator) -> None:
    """Praktisk bistand and hjemmesykepleie: exact counts of 'both', 'only home nursing', 'only help'."""
    n = len(people)
    ph = _has(spells, ctx, [S.PRAKTISK_BISTAND, S.OPPLAERING], n) & ctx.pool
    hn = _has(spells, ctx, [S.HJEMMESYKEPLEIE], n) & ctx.pool
    ok = ctx.window_ok & ~ctx.lt_carried
    frail = 0.3 + people.severity
    c_both, c_ph, c_hn = ph & hn, ph & ~hn, hn & ~ph
    need_both = q.home_both - int(c_both.sum())
    up_ph = pick(np.where(c_ph & ok, frail, 0.0), min(round(0.15 * c_ph.sum()), max(need_both, 0)), rng)
    up_hn = pick(
        np.where(c_hn & ok, frail, 0.0), min(round(0.15 * c_hn.sum()), max(need_both - up_ph.sum(), 0)), rng
    )
    none = ok & ~ph & ~hn
    new_both = _fill(c_both | up_ph | up_hn, q.home_both, _w("both", ctx) * frail, none, rng)
    taken = np.zeros(n, dtype=bool)
    taken[new_both] = True
    new_ph = _fill(c_ph & ~up_ph, q.home_ph_only, _w("ph", ctx) * frail, none & ~taken, rng)
    taken[new_ph] = True
    new_hn = _fill(c_hn & ~up_hn, q.home_hn_only, _w("hn", ctx) * frail, none & ~taken, rng)
    get_ph = np.concatenate([np.flatnonzero(up_hn), new_both, new_ph])
    get_hn = np.concatenate([np.flatnonzero(up_ph), new_both, new_hn])
    codes = np.where(rng.random(len(get_ph)) < 0.05, S.OPPLAERING, S.PRAKTISK_BISTAND)
    spells.add(get_ph, codes, _start(ctx, get_ph, rng), rng, people.severity[get_ph])
    spells.add(get_hn, S.HJEMMESYKEPLEIE, _start(ctx, get_hn, rng), rng, people.severity[get_hn])


def _others(ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator) -> None:
    """BPA, avlastning, støttekontakt and omsorgsstønad to their exact counts."""
    n = len(people)
    ok = ctx.window_ok & ~ctx.lt_carried
    for name, codes, target in (
        ("bpa", [S.BPA], q.bpa),
        ("avl", [S.AVLASTNING_UTENFOR, S.AVLASTNING_INSTITUSJON], q.avlastning),
        ("stk", [S.STOTTEKONTAKT], q.stottekontakt),
        ("oms", [S.OMSORGSSTONAD], q.omsorgsstonad),
    ):
        served = spells.persons_with(list(range(1, 30)), spells.overlapping(ctx.jan1, ctx.dec31), n)
        weight = _w(name, ctx) * np.where(served, 1.0, 6.0)  # first help those who have none yet
        who = _fill(_has(spells, ctx, codes, n) & ctx.pool, target, weight, ok, rng)
        code = codes[0] if len(codes) == 1 else np.where(rng.random(len(who)) < 0.7, codes[0], codes[1])
        spells.add(who, code, _start(ctx, who, rng), rng, people.severity[who])


def _redecide(ctx: YearContext, spells: Spells, rng: np.random.Generator) -> None:
    """Some running home services get a new vedtak in the year (changed hours)."""
    carried = (spells.start < ctx.jan1) & (spells.end > ctx.jan1) & code_mask([1, 15, 3])[spells.code]
    rows = np.flatnonzero(carried & (rng.random(len(spells)) < 0.12))
    if len(rows):
        spells.redecide(rows, ctx.window_hi[spells.person[rows]], rng, ctx.jan1)


def _top_up(ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator) -> None:
    """Everyone in the register gets a service; then add-ons bring the vedtak count to its quota."""
    n = len(people)
    ov = spells.overlapping(ctx.jan1, ctx.dec31)
    served = spells.persons_with(list(range(1, 30)), ov, n)
    bare = np.flatnonzero(ctx.pool & ~served)
    if len(bare):
        filler = np.where(ctx.age[bare] >= 67, S.TRYGGHETSALARM, S.DAGAKTIVITET)
        low = ctx.start_low[bare]
        spells.add(
            bare,
            filler,
            uniform_dates(low, np.maximum(ctx.window_hi[bare], low), rng),
            rng,
            people.severity[bare],
        )
    deficit = q.decisions - int(spells.overlapping(ctx.jan1, ctx.dec31).sum())
    if deficit <= 0:
        return
    ok = ctx.window_ok & ~ctx.lt_carried & ~ctx.lt_yearend
    at_home = _has(spells, ctx, [1, 2, 15], n)
    for name, code, part in (
        ("alarm", S.TRYGGHETSALARM, 0.5),
        ("mat", S.MATOMBRINGING, 0.2),
        ("dag", S.DAGAKTIVITET, 0.2),
        ("alarm", S.DAGOPPHOLD, 0.1),
    ):
        have = _has(spells, ctx, [code], n) & ctx.pool
        k = round(deficit * part)
        who = np.flatnonzero(
            pick(np.where(ok & ~have, _w(name, ctx) * np.where(at_home, 3.0, 1.0), 0.0), k, rng)
        )
        spells.add(who, code, _start(ctx, who, rng), rng, people.severity[who])


def allocate(ctx: YearContext, people: People, spells: Spells, q: Quotas, rng: np.random.Generator) -> None:
    """All services of the year, in order: long-term care, short stays, home services, others."""
    _long_term(ctx, people, spells, q, rng)
    _short_stays(ctx, people, spells, q, rng)
    _home(ctx, people, spells, q, rng)
    _others(ctx, people, spells, q, rng)
    _redecide(ctx, spells, rng)
    _top_up(ctx, people, spells, q, rng)
    # Nothing outlives its person: every spell ends by the day of death.
    dead = np.flatnonzero(ctx.pool & ctx.died)
    rows = np.flatnonzero(person_mask(dead, len(people))[spells.person])
    if len(rows):
        spells.cut(rows, ctx.limit[spells.person[rows]])
