"""Small registers written by hand per docs/registers.md, for linkage and delivery tests.

Built here (not with `iplos.synth`) so that every expected figure can be computed from plain Python
data alongside: `SmallRegisters.truth` holds each person's fnr-free facts per årgang.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iplos.config import Settings
from iplos.engine import RegisterStore
from iplos.ident import KeyStore, generate_array, pseudonymise

KOMMUNER = ("0301", "1201", "1601", "1103", "0219", "1902")
ITEMS = ("spise", "hukommelse", "personlig_hygiene")
INSTITUTION = frozenset({8, 18, 19, 20, 21, 22, 25})


@dataclass
class SmallRegisters:
    """What was written: the settings, the fnr per person and per-person facts for expected values."""

    settings: Settings
    years: tuple[int, ...]
    fnr: list[str]
    birth_year: list[int]
    sex: list[int]
    kommune: list[str]
    death: list[dt.date | None]
    cause: list[str | None]
    institution_year: list[int | None]
    in_iplos: list[bool]
    keys: KeyStore = field(repr=False, default_factory=KeyStore)

    def age(self, person: int, year: int) -> int:
        return year - self.birth_year[person]

    def alive_in(self, person: int, year: int) -> bool:
        d = self.death[person]
        return d is None or d.year >= year


def write_small_registers(
    settings: Settings, n: int = 240, years: tuple[int, ...] = (2012, 2013, 2014), seed: int = 7
) -> SmallRegisters:
    rng = np.random.default_rng(seed)
    birth = rng.integers(1915, 1942, size=n)
    sex = rng.integers(1, 3, size=n)
    dates = np.array([np.datetime64(f"{y}-03-15") for y in birth])
    fnr = [str(v) for v in generate_array(dates, sex, rng)]
    while len(set(fnr)) < n:  # pragma: no cover - collisions are rare
        fnr = list(dict.fromkeys(fnr))
        extra = generate_array(dates[: n - len(fnr)], sex[: n - len(fnr)], rng)
        fnr += [str(v) for v in extra]
    kommune = [KOMMUNER[i] for i in rng.integers(0, len(KOMMUNER), size=n)]
    death: list[dt.date | None] = []
    cause: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.3:
            death.append(dt.date(int(rng.choice(years)), int(rng.integers(1, 13)), 10))
            cause.append(str(rng.choice(["I219", "C349", "F03", "J189"])))
        else:
            death.append(None)
            cause.append(None)
    institution_year = [int(rng.choice(years)) if rng.random() < 0.2 else None for _ in range(n)]
    in_iplos = [bool(rng.random() < 0.95) for _ in range(n)]
    keys = KeyStore(path=settings.key_path)
    for register in ("iplos", "kpr", "dar", "npr", "ssb"):
        keys.ensure(register)
    keys.save()
    settings.keyholder_dir.mkdir(parents=True, exist_ok=True)
    # The last person is in the registers but not in the key holder's identity list (unmatched).
    pq.write_table(
        pa.table({"fnr": pa.array(fnr[:-1], pa.string())}), settings.keyholder_dir / "identities.parquet"
    )
    ps_iplos = pseudonymise(fnr, keys.key("iplos"))
    ps_dar = pseudonymise(fnr, keys.key("dar"))
    store = RegisterStore(settings)
    for year in years:
        rows = [i for i in range(n) if in_iplos[i] and (death[i] is None or death[i].year >= year)]  # type: ignore[union-attr]
        store.write_aargang(
            "iplos",
            "person",
            year,
            pa.table(
                {
                    "pseudonym": pa.array([ps_iplos[i] for i in rows], pa.string()),
                    "fodselsaar": pa.array([int(birth[i]) for i in rows], pa.int16()),
                    "kjonn": pa.array([int(sex[i]) for i in rows], pa.int8()),
                    "kommune": pa.array([kommune[i] for i in rows], pa.string()),
                    "bydel": pa.array([None] * len(rows), pa.string()),
                    "husstand": pa.array([1 + i % 2 for i in rows], pa.int8()),
                    "dodsdato": pa.array(
                        [death[i] if death[i] is not None and death[i].year == year else None for i in rows],  # type: ignore[union-attr]
                        pa.date32(),
                    ),
                    "individuell_plan": pa.array([2] * len(rows), pa.int8()),
                    "koordinator": pa.array([2] * len(rows), pa.int8()),
                    "lege_vurdert_dato": pa.array([None] * len(rows), pa.date32()),
                    "tannhelse_vurdert_dato": pa.array([None] * len(rows), pa.date32()),
                }
            ),
        )
        services: dict[str, list[object]] = {
            k: [] for k in ("pseudonym", "tjeneste", "vedtaksdato", "startdato", "sluttdato", "timer_per_uke")
        }
        for i in rows:
            start = dt.date(year - 1, 6, 1)
            services["pseudonym"].append(ps_iplos[i])
            services["tjeneste"].append(15)
            services["vedtaksdato"].append(start)
            services["startdato"].append(start)
            services["sluttdato"].append(death[i])
            services["timer_per_uke"].append(float(1 + i % 5))
            if institution_year[i] == year:
                services["pseudonym"].append(ps_iplos[i])
                services["tjeneste"].append(21)
                services["vedtaksdato"].append(dt.date(year, 2, 1))
                services["startdato"].append(dt.date(year, 2, 1))
                services["sluttdato"].append(death[i])
                services["timer_per_uke"].append(None)
        store.write_aargang(
            "iplos",
            "tjeneste",
            year,
            pa.table(
                {
                    "pseudonym": pa.array(services["pseudonym"], pa.string()),
                    "tjeneste": pa.array(services["tjeneste"], pa.int16()),
                    "vedtaksdato": pa.array(services["vedtaksdato"], pa.date32()),
                    "startdato": pa.array(services["startdato"], pa.date32()),
                    "sluttdato": pa.array(services["sluttdato"], pa.date32()),
                    "timer_per_uke": pa.array(services["timer_per_uke"], pa.float64()),
                    "leverandor_orgnr": pa.array(["974760673"] * len(services["pseudonym"]), pa.string()),
                }
            ),
        )
        funksjon: dict[str, pa.Array] = {
            "pseudonym": pa.array([ps_iplos[i] for i in rows for _ in (0, 1)], pa.string()),
            "vurderingsdato": pa.array([dt.date(year, m, 1) for _ in rows for m in (2, 9)], pa.date32()),
        }
        for j, item in enumerate(ITEMS):
            # The September assessment (the last) scores (i + j) % 5 + 1; February scores 9.
            funksjon[item] = pa.array([v for i in rows for v in (9, (i + j) % 5 + 1)], pa.int8())
        store.write_aargang("iplos", "funksjon", year, pa.table(funksjon))
    for year in years:
        dead = [i for i in range(n) if death[i] is not None and death[i].year == year]  # type: ignore[union-attr]
        store.write_aargang(
            "dar",
            "dodsfall",
            year,
            pa.table(
                {
                    "pseudonym": pa.array([ps_dar[i] for i in dead], pa.string()),
                    "dodsdato": pa.array([death[i] for i in dead], pa.date32()),
                    "underliggende_dodsarsak": pa.array([cause[i] for i in dead], pa.string()),
                }
            ),
        )
    return SmallRegisters(
        settings=settings,
        years=years,
        fnr=fnr,
        birth_year=[int(b) for b in birth],
        sex=[int(s) for s in sex],
        kommune=kommune,
        death=death,
        cause=cause,
        institution_year=institution_year,
        in_iplos=in_iplos,
        keys=keys,
    )
