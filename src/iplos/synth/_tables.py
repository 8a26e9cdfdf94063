"""Arrow tables in the shape of docs/registers.md, made from a chunk's simulated year.

The care tables (person, tjeneste, funksjon, diagnose) are the same for `iplos` and `kpr` except
for the pseudonym column; the linked registers' tables are made per year from each person's life
(birth, death, years in care, where they lived).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iplos.synth._codes import BYDELER, cause_codes, diagnosis_table, health_trust, organisation_numbers
from iplos.synth._cohort import Cohort
from iplos.synth._people import NAT
from iplos.synth._sampling import pick, uniform_dates
from iplos.synth._targets import LIVING_ALONE_SHARE
from iplos.synth._year import YearContext

__all__ = ["FUNCTION_ITEMS", "SCHEMAS", "care_tables", "linked_tables"]

FUNCTION_ITEMS = (
    "sosial_deltakelse", "beslutninger_dagligliv", "styre_atferd", "alminnelig_husarbeid",
    "skaffe_varer_tjenester", "ivareta_egen_helse", "lage_mat", "spise", "personlig_hygiene",
    "av_pakledning", "toalett", "bevege_innendors", "bevege_utendors", "hukommelse", "kommunikasjon",
    "syn", "horsel",
)  # fmt: skip
_LOADING = np.array([1.0, 1.0, 0.7, 1.25, 1.25, 1.1, 1.2, 0.7, 1.0, 1.0, 0.9, 0.9, 1.1, 1.0, 0.8, 0.5, 0.55])
_CHILD_NA = np.isin(np.array(FUNCTION_ITEMS), ["alminnelig_husarbeid", "skaffe_varer_tjenester", "lage_mat",
                                               "ivareta_egen_helse"])  # fmt: skip

_S, _D, _I8, _I16 = pa.string(), pa.date32(), pa.int8(), pa.int16()
SCHEMAS: dict[tuple[str, str], pa.Schema] = {
    ("care", "person"): pa.schema([
        ("pseudonym", _S), ("fodselsaar", _I16), ("kjonn", _I8), ("kommune", _S), ("bydel", _S),
        ("husstand", _I8), ("dodsdato", _D), ("individuell_plan", _I8), ("koordinator", _I8),
        ("lege_vurdert_dato", _D), ("tannhelse_vurdert_dato", _D),
    ]),
    ("care", "tjeneste"): pa.schema([
        ("pseudonym", _S), ("tjeneste", _I16), ("vedtaksdato", _D), ("startdato", _D), ("sluttdato", _D),
        ("timer_per_uke", pa.float64()), ("leverandor_orgnr", _S),
    ]),
    ("care", "funksjon"): pa.schema([("pseudonym", _S), ("vurderingsdato", _D), *((i, _I8) for i in FUNCTION_ITEMS)]),
    ("care", "diagnose"): pa.schema([("pseudonym", _S), ("kodeverk", _S), ("kode", _S), ("diagnosedato", _D)]),
    ("dar", "dodsfall"): pa.schema([("pseudonym", _S), ("dodsdato", _D), ("underliggende_dodsarsak", _S)]),
    ("npr", "episode"): pa.schema([
        ("pseudonym", _S), ("innskrivningsdato", _D), ("utskrivningsdato", _D), ("hoveddiagnose", _S),
        ("helseforetak", _S),
    ]),
    ("ssb", "befolkning"): pa.schema([
        ("pseudonym", _S), ("sivilstand", _I8), ("utdanningsniva", _I8), ("inntektsdesil", _I8),
        ("landbakgrunn", _I8),
    ]),
}  # fmt: skip


def _dates(values: npt.NDArray[np.datetime64]) -> pa.Array:
    values = values.astype("datetime64[D]")
    return pa.array(values, type=pa.date32(), mask=np.isnat(values))


def _table(
    kind: tuple[str, str], pseudonyms: pa.Array, columns: dict[str, pa.Array | npt.NDArray[np.generic]]
) -> pa.Table:
    schema = SCHEMAS[kind]
    arrays = [pseudonyms]
    for field in list(schema)[1:]:
        value = columns[field.name]
        arrays.append(value if isinstance(value, pa.Array) else pa.array(value, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _person(
    cohort: Cohort, ctx: YearContext, who: npt.NDArray[np.int64], rng: np.random.Generator
) -> dict[str, pa.Array | npt.NDArray[np.generic]]:
    p = cohort.people
    age, group = ctx.age[who], ctx.group[who]
    women = p.sex[who] == 2
    kommune = p.kommune[who]
    n_bydel = np.zeros(len(who), dtype=np.int64)
    for code, count in BYDELER.items():
        n_bydel[kommune == code] = count
    bydel_no = 1 + np.floor(p.u["u_bydel"][who] * np.maximum(n_bydel, 1)).astype(np.int64)
    bydel = np.char.add(kommune, np.char.zfill(bydel_no.astype("U2"), 2))
    # Living alone: exactly the published share of those not in an institution on 31 December,
    # chosen with each person's own uniform so that the same people live alone year after year.
    institution = (ctx.lt_yearend | ctx.st_yearend)[who]
    w = np.select(
        [age < 18, age < 30, age < 67, age < 80],
        [0.0, 0.3, 1.0, np.where(women, 1.8, 1.2)],
        default=np.where(women, 3.0, 1.6),
    )
    home = ~institution
    alone = pick(
        np.where(home, w, 0.0), round(LIVING_ALONE_SHARE * home.sum()), rng, keys=p.u["u_alone"][who]
    )
    others = np.where(age < 18, 3, np.where((age < 30) & (p.u["u_siv"][who] < 0.5), 3, 2))
    husstand = np.where(home, np.where(alone, 1, others), np.where(p.u["u_alone"][who] < 0.7, 1, 2))
    plan = p.u["u_plan"][who] < np.array([0.35, 0.2, 0.08, 0.03, 0.02, 0.01])[group]
    coord = (plan & (p.u["u_coord"][who] < 0.7)) | (p.u["u_coord"][who] > 0.97)
    died = ctx.died[who]
    low = np.maximum(ctx.start_low[who] - np.timedelta64(365, "D"), p.birth[who])
    lege = np.where(p.u["u_lege"][who] < 0.75, uniform_dates(low, ctx.limit[who], rng), NAT)
    tann = np.where(p.u["u_tann"][who] < 0.4, uniform_dates(low, ctx.limit[who], rng), NAT)
    return {
        "fodselsaar": p.birth_year[who],
        "kjonn": p.sex[who],
        "kommune": pa.array(kommune.tolist(), type=pa.string()),
        "bydel": pa.array(bydel.tolist(), type=pa.string(), mask=n_bydel == 0),
        "husstand": husstand,
        "dodsdato": _dates(np.where(died, ctx.limit[who], NAT)),
        "individuell_plan": np.where(plan, 1, 2),
        "koordinator": np.where(coord, 1, 2),
        "lege_vurdert_dato": _dates(lege),
        "tannhelse_vurdert_dato": _dates(tann),
    }


def care_tables(
    cohort: Cohort, ctx: YearContext, registers: list[str], rng: np.random.Generator
) -> dict[tuple[str, str], pa.Table]:
    """The person, tjeneste, funksjon and diagnose tables of the year, for each care register."""
    p, sp = cohort.people, cohort.spells
    who = np.flatnonzero(ctx.pool)
    person = _person(cohort, ctx, who, rng)
    rows = np.flatnonzero(sp.overlapping(ctx.jan1, ctx.dec31))
    rows = rows[np.argsort(sp.person[rows], kind="stable")]
    owner = sp.person[rows]
    # Providers by the kommune each person lives in (looked up per person, not per row: faster).
    kommuner, person_kommune = np.unique(p.kommune[who], return_inverse=True)
    at = np.searchsorted(who, owner)
    orgnr = (
        organisation_numbers(kommuner)[person_kommune[at], sp.provider[rows]]
        if len(rows)
        else np.empty(0, "U9")
    )
    end = sp.end[rows]
    hours = sp.hours[rows]
    tjeneste = {
        "tjeneste": sp.code[rows],
        "vedtaksdato": _dates(sp.vedtak[rows]),
        "startdato": _dates(sp.start[rows]),
        "sluttdato": _dates(np.where(end <= ctx.dec31, end, NAT)),
        "timer_per_uke": pa.array(hours, type=pa.float64(), mask=np.isnan(hours)),
        "leverandor_orgnr": pa.array(orgnr.tolist(), type=pa.string()),
    }
    # One functional assessment a year (two for some) for everyone with more than an alarm or meals.
    assessed_rows = rows[~np.isin(sp.code[rows], [5, 6])]
    assessed = np.unique(sp.person[assessed_rows])
    twice = assessed[rng.random(len(assessed)) < 0.2]
    fw = np.sort(np.concatenate([assessed, twice]))
    severity = p.severity[fw] + 0.25 * (ctx.lt_yearend | ctx.lt_carried)[fw]
    z = severity[:, None] * _LOADING[None, :] + rng.normal(0.0, 0.3, (len(fw), len(_LOADING)))
    scores = np.clip(1 + np.floor(z * 3.2), 1, 5).astype(np.int64)
    scores = np.where((ctx.age[fw] < 12)[:, None] & _CHILD_NA[None, :], 9, scores)
    scores = np.where(rng.random(scores.shape) < 0.02, 9, scores)
    funksjon: dict[str, pa.Array | npt.NDArray[np.generic]] = {
        "vurderingsdato": _dates(uniform_dates(ctx.start_low[fw], ctx.limit[fw], rng))
    }
    funksjon.update({item: scores[:, i] for i, item in enumerate(FUNCTION_ITEMS)})
    kodeverk, codes, _ = diagnosis_table()
    slot_person, slot = np.nonzero(p.diag[who] >= 0)
    dw = who[slot_person]
    d_code = p.diag[dw, slot]
    d_date = p.diag_date[dw, slot]
    keep = np.isnat(d_date) | (d_date <= ctx.dec31)
    dw, d_code, d_date = dw[keep], d_code[keep], d_date[keep]
    diagnose = {
        "kodeverk": pa.array(kodeverk[d_code].tolist(), type=pa.string()),
        "kode": pa.array(codes[d_code].tolist(), type=pa.string()),
        "diagnosedato": _dates(d_date),
    }
    out: dict[tuple[str, str], pa.Table] = {}
    for register in registers:
        ids = cohort.ids
        out[(register, "person")] = _table(("care", "person"), ids.pseudonyms(register, who), person)
        out[(register, "tjeneste")] = _table(("care", "tjeneste"), ids.pseudonyms(register, owner), tjeneste)
        out[(register, "funksjon")] = _table(("care", "funksjon"), ids.pseudonyms(register, fw), funksjon)
        out[(register, "diagnose")] = _table(("care", "diagnose"), ids.pseudonyms(register, dw), diagnose)
    return out


_SIVILSTAND = {  # cumulative P(ugift, gift, enke/enkemann, skilt) by age band, for men and women
    1: np.array(
        [[0.85, 0.98, 0.98], [0.4, 0.86, 0.87], [0.2, 0.76, 0.8], [0.1, 0.72, 0.82], [0.07, 0.6, 0.9]]
    ),
    2: np.array(
        [[0.8, 0.97, 0.97], [0.35, 0.84, 0.86], [0.15, 0.72, 0.8], [0.07, 0.5, 0.84], [0.06, 0.22, 0.92]]
    ),
}
_EDUCATION = np.array([2, 4, 6, 7])
_EDU_CUM = {0: np.array([0.55, 0.85, 0.95]), 1: np.array([0.3, 0.7, 0.9]), 2: np.array([0.2, 0.6, 0.85])}


def linked_tables(cohort: Cohort, yi: int, rng: np.random.Generator) -> dict[tuple[str, str], pa.Table]:
    """dar.dodsfall, npr.episode and ssb.befolkning of year ``spec.years[yi]``."""
    p = cohort.people
    year = cohort.spec.years[yi]
    jan1, dec31 = np.datetime64(f"{year}-01-01", "D"), np.datetime64(f"{year}-12-31", "D")
    alive = np.flatnonzero((p.birth <= dec31) & (np.isnat(p.death) | (p.death >= jan1)))
    age = year - p.birth_year[alive]
    died = ~np.isnat(p.death[alive]) & (p.death[alive] <= dec31)
    band3 = np.searchsorted(np.array([67, 80]), age, side="right")
    # dar: who died this year, with an underlying cause typical of their age.
    dead = alive[died]
    causes, cw = cause_codes()
    cum = np.cumsum(cw[:, band3[died]], axis=0)
    cause = (rng.random(len(dead))[None, :] > cum).sum(axis=0).clip(0, len(causes) - 1)
    dar = _table(
        ("dar", "dodsfall"),
        cohort.ids.pseudonyms("dar", dead),
        {"dodsdato": _dates(p.death[dead]), "underliggende_dodsarsak": causes[cause]},
    )
    # npr: hospital episodes, more for those in care, the frail and the dying.
    in_care = cohort.pool_hist[alive, yi]
    lam = np.where(in_care, 0.6 + 0.8 * p.severity[alive], 0.25) + np.where(died, 0.8, 0.0)
    times = rng.poisson(lam)
    ep = np.repeat(np.arange(len(alive)), times)
    who = alive[ep]
    last = np.where(died[ep], p.death[who], dec31)
    inn = uniform_dates(np.maximum(p.birth[who], jan1), last, rng)
    stay = (rng.geometric(0.25, len(who)) - 1).astype("timedelta64[D]")
    ut = np.where(died[ep], np.minimum(inn + stay, last), inn + stay)
    kodeverk, codes, dw = diagnosis_table()
    icd = kodeverk == "ICD10"
    band4 = np.searchsorted(np.array([50, 67, 80]), age[ep], side="right")
    weights = dw[icd][:, band4]
    cum = np.cumsum(weights / weights.sum(axis=0), axis=0)
    diag = (rng.random(len(who))[None, :] > cum).sum(axis=0).clip(0, int(icd.sum()) - 1)
    npr = _table(("npr", "episode"), cohort.ids.pseudonyms("npr", who), {
        "innskrivningsdato": _dates(inn), "utskrivningsdato": _dates(ut),
        "hoveddiagnose": codes[icd][diag], "helseforetak": health_trust(p.fylke[who, yi]),
    })  # fmt: skip
    # ssb: everyone alive in the year, attributes derived from each person's own uniforms.
    sex = p.sex[alive]
    band5 = np.searchsorted(np.array([30, 50, 67, 80]), age, side="right")
    u = p.u["u_siv"][alive]
    siv = np.ones(len(alive), dtype=np.int64)
    for s in (1, 2):
        rows = (sex == s) & (age >= 18)
        siv[rows] = 1 + (u[rows][:, None] > _SIVILSTAND[s][band5[rows]]).sum(axis=1)
    cohort_band = np.searchsorted(np.array([1930, 1960]), p.birth_year[alive], side="right")
    edu = np.empty(len(alive), dtype=np.int64)
    for b, cum_edu in _EDU_CUM.items():
        rows = cohort_band == b
        edu[rows] = _EDUCATION[(p.u["u_edu"][alive][rows][:, None] > cum_edu[None, :]).sum(axis=1)]
    edu = np.where(age < 13, 1, np.where(age < 16, 2, edu))
    edu = np.where(p.u["u_edu"][alive] > 0.985, 9, edu)
    inc = np.clip(1 + np.floor(10 * p.u["u_inc"][alive] ** 1.4), 1, 10).astype(np.int64)
    ul = p.u["u_land"][alive]
    land = np.where(p.dnr[alive] | (ul > 0.92), 2 + np.floor((ul % 0.08) / 0.08 * 8).astype(np.int64), 1)
    ssb = _table(
        ("ssb", "befolkning"),
        cohort.ids.pseudonyms("ssb", alive),
        {"sivilstand": siv, "utdanningsniva": edu, "inntektsdesil": inc, "landbakgrunn": np.clip(land, 1, 9)},
    )
    return {("dar", "dodsfall"): dar, ("npr", "episode"): npr, ("ssb", "befolkning"): ssb}
