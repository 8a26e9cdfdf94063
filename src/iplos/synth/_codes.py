"""Code lists the synthetic register draws from: services, diagnoses, causes of death, health trusts.

Service codes are Volven 9151 as in the catalogue (``tjenestetype``); which of them carry hours per
week follows the catalogue's ``hour_based`` flags. Diagnosis codes are real ICD-10 (Helsedirektoratet's
list, no dot) and ICPC-2 codes common among care recipients; their weights are ours, not published.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "BYDELER",
    "HOUR_BASED",
    "INSTITUTION_STAYS",
    "S",
    "cause_codes",
    "diagnosis_table",
    "health_trust",
    "organisation_numbers",
]


class S:
    """Service codes used by the generator (Volven 9151)."""

    PRAKTISK_BISTAND = 1
    OPPLAERING = 2
    BPA = 3
    DAGAKTIVITET = 4
    MATOMBRINGING = 5
    TRYGGHETSALARM = 6
    AVLASTNING_UTENFOR = 7
    AVLASTNING_INSTITUSJON = 8
    STOTTEKONTAKT = 9
    OMSORGSSTONAD = 11
    HJEMMESYKEPLEIE = 15
    DAGOPPHOLD = 17
    UTREDNING = 18
    REHABILITERING = 19
    TIDSBEGRENSET_ANNET = 20
    LANGTIDSOPPHOLD = 21
    NATTOPPHOLD = 22


HOUR_BASED = frozenset({1, 2, 3, 7, 9, 11, 15})
INSTITUTION_STAYS = frozenset({18, 19, 20, 21, 22})

# Bydeler (KLASS 103): kommune code -> number of bydeler; the bydel code is kommune + 2 digits.
BYDELER: dict[str, int] = {"0301": 15, "1201": 8, "4601": 8, "1601": 4, "5001": 4, "1103": 7}

# (kodeverk, code, weight for ages 0-49, 50-66, 67-79, 80+)
_DIAGNOSES: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("ICD10", "F03", (0.0, 0.5, 3.0, 8.0)),
    ("ICD10", "F009", (0.0, 0.3, 1.5, 3.0)),
    ("ICD10", "G309", (0.0, 0.3, 1.0, 2.0)),
    ("ICD10", "I639", (0.1, 1.5, 3.0, 3.0)),
    ("ICD10", "I509", (0.1, 0.8, 2.0, 3.5)),
    ("ICD10", "I489", (0.0, 0.5, 1.5, 2.5)),
    ("ICD10", "J449", (0.1, 1.5, 2.5, 2.0)),
    ("ICD10", "E119", (0.5, 2.0, 2.5, 2.0)),
    ("ICD10", "M819", (0.0, 0.3, 1.0, 2.0)),
    ("ICD10", "S720", (0.0, 0.2, 1.0, 2.5)),
    ("ICD10", "C189", (0.1, 0.8, 1.0, 0.8)),
    ("ICD10", "C509", (0.2, 1.0, 0.8, 0.5)),
    ("ICD10", "C61", (0.0, 0.5, 1.0, 1.0)),
    ("ICD10", "G20", (0.0, 0.4, 1.0, 0.8)),
    ("ICD10", "G35", (1.0, 1.0, 0.3, 0.0)),
    ("ICD10", "F200", (2.0, 1.0, 0.3, 0.1)),
    ("ICD10", "F329", (2.0, 1.0, 0.5, 0.3)),
    ("ICD10", "F102", (1.0, 1.5, 0.5, 0.1)),
    ("ICD10", "F700", (3.0, 0.8, 0.2, 0.0)),
    ("ICD10", "F711", (2.0, 0.5, 0.1, 0.0)),
    ("ICD10", "F840", (2.5, 0.1, 0.0, 0.0)),
    ("ICD10", "G809", (2.0, 0.5, 0.1, 0.0)),
    ("ICD10", "Q909", (1.5, 0.5, 0.1, 0.0)),
    ("ICD10", "N189", (0.1, 0.5, 1.0, 1.5)),
    ("ICD10", "R54", (0.0, 0.0, 0.5, 3.0)),
    ("ICPC2", "P70", (0.0, 0.3, 2.0, 5.0)),
    ("ICPC2", "K90", (0.1, 1.0, 2.0, 2.0)),
    ("ICPC2", "K77", (0.0, 0.5, 1.5, 2.5)),
    ("ICPC2", "R95", (0.1, 1.0, 1.5, 1.2)),
    ("ICPC2", "T90", (0.3, 1.5, 1.5, 1.2)),
    ("ICPC2", "L95", (0.0, 0.2, 0.8, 1.5)),
    ("ICPC2", "P85", (2.0, 0.5, 0.1, 0.0)),
    ("ICPC2", "P76", (1.5, 1.0, 0.5, 0.3)),
    ("ICPC2", "K86", (0.1, 1.0, 1.5, 1.5)),
    ("ICPC2", "A04", (0.5, 0.5, 0.5, 1.0)),
)

# Underlying causes of death (ICD-10), weights for ages 0-66, 67-79, 80+.
_CAUSES: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("I219", (1.0, 1.5, 1.5)),
    ("I251", (0.8, 1.5, 2.0)),
    ("I639", (0.5, 1.0, 1.5)),
    ("I509", (0.2, 0.8, 1.5)),
    ("F03", (0.1, 1.0, 3.0)),
    ("G309", (0.1, 0.6, 1.2)),
    ("C349", (2.0, 1.5, 0.6)),
    ("C189", (1.0, 0.8, 0.5)),
    ("C509", (1.0, 0.5, 0.3)),
    ("C61", (0.3, 0.6, 0.6)),
    ("C259", (0.8, 0.6, 0.3)),
    ("J449", (0.5, 1.2, 1.0)),
    ("J189", (0.3, 0.6, 1.5)),
    ("A419", (0.3, 0.4, 0.6)),
    ("N189", (0.2, 0.3, 0.5)),
    ("G20", (0.1, 0.3, 0.4)),
    ("F102", (1.0, 0.3, 0.1)),
    ("R54", (0.0, 0.1, 1.0)),
)


def diagnosis_table() -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """(kodeverk, code, weights (n, 4 age bands)) with rows normalised per age band."""
    kodeverk = np.array([d[0] for d in _DIAGNOSES])
    codes = np.array([d[1] for d in _DIAGNOSES])
    weights = np.array([d[2] for d in _DIAGNOSES], dtype=np.float64)
    return kodeverk, codes, weights / weights.sum(axis=0)


def cause_codes() -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """(ICD-10 codes, weights (n, 3 age bands)) of underlying causes of death."""
    codes = np.array([c[0] for c in _CAUSES])
    weights = np.array([c[1] for c in _CAUSES], dtype=np.float64)
    return codes, weights / weights.sum(axis=0)


# Fylke (first two digits of the kommune code, any era) -> health trust code of the catalogue.
_HF_BY_FYLKE: dict[int, str] = {
    1: "104", 30: "108", 31: "104", 2: "101", 32: "101", 3: "102", 4: "103", 5: "103", 34: "103",
    6: "108", 33: "108", 7: "105", 38: "105", 39: "105", 8: "106", 40: "106", 9: "107", 10: "107",
    42: "107", 11: "201", 12: "203", 46: "203", 14: "204", 15: "301", 16: "302", 50: "302",
    17: "303", 18: "402", 19: "403", 54: "403", 55: "403", 20: "404", 56: "404",
}  # fmt: skip


def health_trust(fylke: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Health trust serving each fylke code (the private-institution code 900 when unknown)."""
    lookup = np.full(100, "900", dtype="U3")
    for f, hf in _HF_BY_FYLKE.items():
        lookup[f] = hf
    return lookup[np.clip(fylke, 0, 99)]


_ORG_WEIGHTS = np.array([3, 2, 7, 6, 5, 4, 3, 2])


def organisation_numbers(kommuner: npt.NDArray[np.str_], providers: int = 3) -> npt.NDArray[np.str_]:
    """Valid 9-digit organisation numbers (mod 11, Brønnøysundregistrene) per kommune and provider.

    Deterministic in the kommune code, so a kommune keeps its providers across years; shape
    ``(len(kommuner), providers)``.
    """
    codes = np.array([int(k) for k in kommuner], dtype=np.int64)
    out = np.empty((len(codes), providers), dtype="U9")
    for p in range(providers):
        offset = codes * 7919 + p * 104_729
        todo = np.ones(len(codes), dtype=bool)
        for bump in range(50):
            cand = 90_000_000 + (offset + bump * 1_000_003) % 9_999_999
            digits = (cand[:, None] // 10 ** np.arange(7, -1, -1)) % 10
            check = (11 - (digits @ _ORG_WEIGHTS) % 11) % 11
            take = todo & (check != 10)
            out[take, p] = np.char.add(cand[take].astype("U8"), check[take].astype("U1"))
            todo &= ~take
            if not todo.any():
                break
    return out
