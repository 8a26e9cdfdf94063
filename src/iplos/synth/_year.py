"""What one chunk holds for one year while it is being simulated, and its quotas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from iplos.synth._sampling import chunk_share
from iplos.synth._targets import AGE_GROUPS, year_targets

__all__ = ["ChunkSpec", "Quotas", "YearContext", "quotas"]


@dataclass(frozen=True)
class ChunkSpec:
    """One chunk of the synthetic population: its index, the scale and the simulated years."""

    index: int
    n_chunks: int
    scale: float
    years: tuple[int, ...]  # every simulated year, burn-in included, ascending


@dataclass(frozen=True)
class Quotas:
    """A chunk's whole-number targets for one year (its exact share of the scaled national ones)."""

    cells: npt.NDArray[np.int64]  # (12,) persons by age group * 2 + sex - 1
    long_term: int
    institution: int
    home_both: int
    home_hn_only: int
    home_ph_only: int
    bpa: int
    avlastning: int
    stottekontakt: int
    omsorgsstonad: int
    decisions: int
    living_alone_share: float


def quotas(spec: ChunkSpec, year: int) -> Quotas:
    """The chunk's quotas for ``year`` (years before 2007 use 2007's figures)."""
    t = year_targets(max(year, 2007))
    s, n, i = spec.scale, spec.n_chunks, spec.index

    def share(value: float, key: str) -> int:
        return chunk_share(value * s, n, i, f"{key}:{year}")

    cells = np.array(
        [share(float(t.cells[g, x]), f"cell{g}{x}") for g in range(len(AGE_GROUPS)) for x in range(2)],
        dtype=np.int64,
    )
    return Quotas(
        cells=cells,
        long_term=share(t.long_term_residents, "lt"),
        institution=share(t.institution_residents, "inst"),
        home_both=share(t.home_both, "both"),
        home_hn_only=share(t.home_hn_only, "hn"),
        home_ph_only=share(t.home_ph_only, "ph"),
        bpa=share(t.bpa, "bpa"),
        avlastning=share(t.avlastning, "avl"),
        stottekontakt=share(t.stottekontakt, "stk"),
        omsorgsstonad=share(t.omsorgsstonad, "oms"),
        decisions=share(t.decisions, "dec"),
        living_alone_share=t.living_alone_share,
    )


@dataclass
class YearContext:
    """Per-person arrays of the year being simulated (all of the chunk's persons)."""

    year: int
    jan1: np.datetime64
    dec31: np.datetime64
    age: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    pool: npt.NDArray[np.bool_]
    start_low: npt.NDArray[np.datetime64]  # earliest service start this year (1 Jan or entry)
    limit: npt.NDArray[np.datetime64]  # latest service day this year (31 Dec or death)
    window_hi: npt.NDArray[np.datetime64]  # latest start of a home service (before long-term care)
    lt_carried: npt.NDArray[np.bool_]
    lt_yearend: npt.NDArray[np.bool_]
    st_yearend: npt.NDArray[np.bool_]
    died: npt.NDArray[np.bool_]  # died during the year (on or before 31 December)

    @property
    def window_ok(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.pool & (self.window_hi >= self.start_low))
