"""The synthetic persons of one chunk: who they are, where they live, when they die.

Columns are numpy arrays that grow as persons enter. Per-person uniforms (``u_*``) are drawn once,
so that yearly attributes derived from them (living alone, bydel, marital status) persist from
year to year instead of being redrawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from iplos.synth._sampling import uniform_dates

__all__ = ["NAT", "People", "gompertz"]

NAT = np.datetime64("NaT", "D")
_UNIFORMS = (
    "u_bydel",
    "u_alone",
    "u_plan",
    "u_coord",
    "u_siv",
    "u_edu",
    "u_inc",
    "u_land",
    "u_lege",
    "u_tann",
)
N_DIAG = 4


def gompertz(age: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Yearly probability of death in the general population at ``age`` (Norway, roughly 2010)."""
    q = np.exp(-10.4 + 0.093 * age.astype(np.float64))
    return np.asarray(np.minimum(np.where(age < 1, 0.003, q), 0.6))


@dataclass
class People:
    """Columns of every person of a chunk (recipients and the extra persons of linked registers)."""

    n_years: int
    birth: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.empty(0, "datetime64[D]"))
    byear: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    sex: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    dnr: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    extra: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    kommune: npt.NDArray[np.str_] = field(default_factory=lambda: np.empty(0, "U4"))
    severity: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    death: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.empty(0, "datetime64[D]"))
    in_pool: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    ever_pool: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, bool))
    diag: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty((0, N_DIAG), np.int64))
    diag_date: npt.NDArray[np.datetime64] = field(
        default_factory=lambda: np.empty((0, N_DIAG), "datetime64[D]")
    )
    fylke: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty((0, 0), np.int64))
    u: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fylke = np.zeros((0, self.n_years), np.int64)
        for name in _UNIFORMS:
            self.u.setdefault(name, np.empty(0, np.float64))

    def __len__(self) -> int:
        return len(self.birth)

    @property
    def birth_year(self) -> npt.NDArray[np.int64]:
        return self.byear

    def alive_on(self, day: np.datetime64) -> npt.NDArray[np.bool_]:
        """Born on or before ``day`` and not dead before it."""
        return np.asarray((self.birth <= day) & (np.isnat(self.death) | (self.death >= day)))

    def add(
        self,
        birth: npt.NDArray[np.datetime64],
        sex: npt.NDArray[np.int64],
        kommune: npt.NDArray[np.str_],
        severity: npt.NDArray[np.float64],
        extra: bool,
        rng: np.random.Generator,
    ) -> npt.NDArray[np.int64]:
        """Append persons; returns their indices."""
        n = len(birth)
        start = len(self)
        age = (np.datetime64("2015-01-01") - birth).astype(np.int64) // 365
        working_age = (age >= 18) & (age < 67)
        self.birth = np.concatenate([self.birth, birth.astype("datetime64[D]")])
        self.byear = np.concatenate([self.byear, birth.astype("datetime64[Y]").astype(np.int64) + 1970])
        self.sex = np.concatenate([self.sex, sex.astype(np.int64)])
        self.dnr = np.concatenate([self.dnr, rng.random(n) < np.where(working_age, 0.03, 0.005)])
        self.extra = np.concatenate([self.extra, np.full(n, extra)])
        self.kommune = np.concatenate([self.kommune, kommune.astype("U4")])
        self.severity = np.concatenate([self.severity, severity])
        self.death = np.concatenate([self.death, np.full(n, NAT)])
        self.in_pool = np.concatenate([self.in_pool, np.zeros(n, bool)])
        self.ever_pool = np.concatenate([self.ever_pool, np.zeros(n, bool)])
        self.diag = np.concatenate([self.diag, np.full((n, N_DIAG), -1, np.int64)])
        self.diag_date = np.concatenate([self.diag_date, np.full((n, N_DIAG), NAT)])
        self.fylke = np.concatenate([self.fylke, np.zeros((n, self.n_years), np.int64)])
        for name in _UNIFORMS:
            self.u[name] = np.concatenate([self.u[name], rng.random(n)])
        return np.arange(start, start + n)

    def draw_deaths(
        self,
        idx: npt.NDArray[np.int64],
        q: npt.NDArray[np.float64],
        earliest: npt.NDArray[np.datetime64],
        last: np.datetime64,
        rng: np.random.Generator,
    ) -> None:
        """Persons ``idx`` die with probability ``q``, on a day in ``[earliest, last]``."""
        dies = rng.random(len(idx)) < q
        who = idx[dies]
        self.death[who] = uniform_dates(earliest[dies], np.full(len(who), last), rng)
