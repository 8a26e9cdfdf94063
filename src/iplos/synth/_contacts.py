"""KPR's contacts: everyone with a contact with the municipal health and care services in a year.

KPR (from 2017) holds every contact with the municipal health service (GP, out-of-hours service,
physiotherapy, child and school health, mental health), not only the care services of IPLOS: about
four in five residents have at least one contact a year, ten times the care recipients. The
`kpr.kontakt` table has one row per person, årgang and kind of contact.

The model, per chunk:
- the chunk's share of the residents who receive no care services (SSB's population of the first
  KPR year, minus the care recipients of that year) is drawn once by age, sex and kommune, and ages
  one year at a time; their kommune follows the reforms. A fixed sample: nobody is born into it,
  moves or dies (a simplification; they are not in `ssb.befolkning` or `dar` either);
- each year a resident has a contact with the probability of their age (`CONTACT_SHARE`, our
  assumption of the order of KPR's published figures, not a published table), every care
  recipient of the årgang too (more contacts, more kinds);
- each kind of contact is drawn by age (`_kinds`), the number of contacts from a Poisson law, the
  first and last date as the minimum and maximum of that many uniform days, the most frequent
  ICPC-2 diagnosis from a short list per kind (weights ours).

Memory is the chunk's: about ``chunk_persons`` * 12 residents, written one årgang at a time.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iplos.ident import PseudonymKey, pseudonymise
from iplos.synth._geography import MAX_AGE, carry_over, geography
from iplos.synth._identity import FnrIssuer
from iplos.synth._sampling import chunk_share, uniform_dates
from iplos.synth._targets import persons_target
from iplos.synth._year import ChunkSpec, YearContext

__all__ = ["CONTACT_SCHEMA", "CONTACT_SHARE", "ContactPopulation", "contact_table"]

# (upper age of the band, share with any contact in a year): an assumption, see the module docstring.
CONTACT_SHARE = ((5, 0.97), (17, 0.70), (29, 0.70), (49, 0.75), (66, 0.85), (79, 0.93), (200, 0.97))
KINDS = ("fastlege", "legevakt", "fysioterapi", "helsestasjon", "psykisk_helse")  # codes 1-5
_MEAN_EXTRA = np.array([2.0, 0.3, 8.0, 2.0, 5.0])  # mean contacts beyond the first, per kind
_DIAGNOSES: dict[int, tuple[tuple[str, ...], tuple[float, ...]]] = {
    1: (
        ("A97", "R74", "K86", "L03", "T90", "P76", "A04", "R05", "S18", "H71", "D73", "T93", "L86", "P74"),
        (14, 12, 10, 8, 6, 6, 5, 5, 4, 4, 3, 4, 5, 4),
    ),
    2: (("R74", "S18", "L81", "H71", "D73", "R78", "A11"), (20, 18, 10, 10, 10, 8, 6)),
    3: (("L03", "L84", "L92", "L86", "L87"), (30, 20, 20, 15, 10)),
    4: (("A98", "A97", "R74"), (70, 20, 10)),
    5: (("P76", "P74", "P15", "P19", "P29"), (35, 30, 12, 10, 8)),
}
_S, _D = pa.string(), pa.date32()
CONTACT_SCHEMA = pa.schema(
    [
        ("pseudonym", _S),
        ("kontakttype", pa.int8()),
        ("antall_kontakter", pa.int16()),
        ("forste_kontakt", _D),
        ("siste_kontakt", _D),
        ("hyppigste_diagnose", _S),
        ("kommune", _S),
    ]
)


def contact_share(age: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The share of residents of each age with any contact in a year (`CONTACT_SHARE`)."""
    edges = np.array([hi for hi, _ in CONTACT_SHARE[:-1]])
    shares = np.array([s for _, s in CONTACT_SHARE])
    return np.asarray(shares[np.searchsorted(edges, age, side="left")], dtype=np.float64)


class ContactPopulation:
    """The chunk's residents outside care: birth, sex, kommune, fødselsnummer and KPR pseudonym."""

    def __init__(
        self, spec: ChunkSpec, year: int, rng: np.random.Generator, issuer: FnrIssuer, key: PseudonymKey
    ) -> None:
        geo = geography(year)
        national = geo.national  # (age, sex) residents on 1 January
        outside = max(0.0, float(national.sum()) - persons_target(year)) * spec.scale
        n = chunk_share(outside, spec.n_chunks, spec.index, f"contacts:{year}")
        weights = national.ravel() / national.sum()
        cell = rng.choice(len(weights), size=n, p=weights)
        age, sex = cell // 2, (cell % 2 + 1).astype(np.int64)
        first = (year - age - 1970).astype("datetime64[Y]").astype("datetime64[D]")
        following = (year - age - 1969).astype("datetime64[Y]").astype("datetime64[D]")
        last = (following - np.timedelta64(1, "D")).astype("datetime64[D]")
        self.birth = uniform_dates(first, last, rng)
        self.birth_year = (self.birth.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int64)
        self.sex = sex
        self.kommune = geo.draw(np.minimum(age, MAX_AGE), sex, rng)
        self.year = year
        self.fnr = issuer.issue(self.birth, sex, np.zeros(n, dtype=bool), rng)
        self.pseudonym = pa.array(pseudonymise(self.fnr.tolist(), key), type=pa.string())

    def __len__(self) -> int:
        return len(self.sex)

    def advance(self, year: int, rng: np.random.Generator) -> None:
        """Carry the kommune codes into ``year``'s classification (reforms of 2018, 2020, 2024)."""
        if year != self.year:
            age = year - self.birth_year
            self.kommune = carry_over(self.kommune, age, self.sex, self.year, year, rng)
            self.year = year


def _kinds(
    age: npt.NDArray[np.int64], care: npt.NDArray[np.bool_], rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """(persons, 5) which kinds of contact each person has this year; at least one each."""
    p = np.zeros((len(age), len(KINDS)))
    p[:, 0] = np.where(age < 6, 0.6, np.where(care, 0.98, 0.9))
    p[:, 1] = np.where(care, 0.35, 0.2)
    p[:, 2] = np.where(age < 6, 0.0, np.minimum(0.05 + 0.002 * age + 0.15 * care, 0.4))
    p[:, 3] = np.where(age <= 5, 0.95, np.where(age <= 17, 0.4, 0.0))
    p[:, 4] = np.where((age >= 18) & (age <= 66), 0.05 + 0.1 * care, 0.01)
    has = rng.random(p.shape) < p
    none = ~has.any(axis=1)
    has[none, np.where(age[none] <= 5, 3, 0)] = True
    return has


def contact_table(
    pseudonyms: pa.Array,
    age: npt.NDArray[np.int64],
    kommune: npt.NDArray[np.str_],
    low: npt.NDArray[np.datetime64],
    high: npt.NDArray[np.datetime64],
    care: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> pa.Table:
    """`kpr.kontakt` rows of persons who had a contact this year (dates between `low` and `high`)."""
    has = _kinds(age, care, rng)
    person, kind = np.nonzero(has)
    lam = (
        _MEAN_EXTRA[kind] * np.where(care[person], 1.8, 1.0) * np.where(kind == 0, 1 + age[person] / 40, 1.0)
    )
    count = np.minimum(1 + rng.poisson(lam), 366).astype(np.int64)
    span = (high[person] - low[person]).astype(np.int64)
    u_first = 1 - rng.random(len(count)) ** (1 / count)  # the minimum of `count` uniforms
    u_last = u_first + (1 - u_first) * rng.random(len(count)) ** (1 / np.maximum(count - 1, 1))
    u_last = np.where(count == 1, u_first, u_last)
    first = low[person] + np.floor(u_first * span).astype("timedelta64[D]")
    last = low[person] + np.floor(u_last * span).astype("timedelta64[D]")
    diagnosis = np.empty(len(kind), dtype="U3")
    for code, (codes, weights) in _DIAGNOSES.items():
        rows = np.flatnonzero(kind == code - 1)
        w = np.array(weights, dtype=np.float64)
        diagnosis[rows] = np.array(codes)[rng.choice(len(codes), size=len(rows), p=w / w.sum())]
    return pa.Table.from_arrays(
        [
            pseudonyms.take(pa.array(person, type=pa.int64())),
            pa.array(kind + 1, type=pa.int8()),
            pa.array(count, type=pa.int16()),
            pa.array(first.astype("datetime64[D]"), type=_D),
            pa.array(last.astype("datetime64[D]"), type=_D),
            pa.array(diagnosis.tolist(), type=_S),
            pa.array(kommune[person].tolist(), type=_S),
        ],
        schema=CONTACT_SCHEMA,
    )


def year_contacts(
    population: ContactPopulation,
    care_pseudonyms: pa.Array,
    ctx: YearContext,
    care_who: npt.NDArray[np.int64],
    care_kommune: npt.NDArray[np.str_],
    rng: np.random.Generator,
) -> pa.Table:
    """The chunk's `kpr.kontakt` for one årgang: care recipients (all) and the residents with a contact."""
    year = ctx.year
    population.advance(year, rng)
    age = year - population.birth_year
    contact = rng.random(len(population)) < contact_share(age)
    idx = np.flatnonzero(contact)
    jan1, dec31 = ctx.jan1, ctx.dec31
    outside = contact_table(
        population.pseudonym.take(pa.array(idx, type=pa.int64())),
        age[idx],
        population.kommune[idx],
        np.full(len(idx), jan1),
        np.full(len(idx), dec31),
        np.zeros(len(idx), dtype=bool),
        rng,
    )
    # Care recipients: contacts while alive in the year (from 1 January or their entry, to 31
    # December or death), with their own kommune.
    inside = contact_table(
        care_pseudonyms,
        ctx.age[care_who],
        care_kommune,
        ctx.start_low[care_who],
        ctx.limit[care_who],
        np.ones(len(care_who), dtype=bool),
        rng,
    )
    return pa.concat_tables([inside, outside])
