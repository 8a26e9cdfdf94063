"""Small sampling tools: exact quotas, weighted picks without replacement, random dates."""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

__all__ = ["chunk_share", "pick", "uniform_dates"]


def chunk_share(total: float, n_chunks: int, index: int, key: str) -> int:
    """This chunk's whole part of ``round(total)``, so that the parts of all chunks add up exactly.

    The remainder goes to different chunks for different ``key``s, so no chunk is always larger.
    """
    whole = round(total)
    base, rest = divmod(whole, n_chunks)
    rotate = zlib.crc32(key.encode()) % n_chunks
    return base + (1 if (index - rotate) % n_chunks < rest else 0)


def pick(
    weights: npt.NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    keys: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.bool_]:
    """Mask of exactly ``min(k, positive weights)`` items drawn without replacement by weight.

    Efraimidis & Spirakis (2006): take the ``k`` largest ``u ** (1 / w)``. Passing the same ``keys``
    (uniforms) year after year makes the choice persistent: the same people stay chosen while their
    weights change little.
    """
    n = len(weights)
    out = np.zeros(n, dtype=bool)
    positive = weights > 0
    k = min(int(k), int(positive.sum()))
    if k <= 0:
        return out
    u = rng.random(n) if keys is None else keys
    score = np.full(n, -np.inf)
    score[positive] = np.log(np.maximum(u[positive], 1e-300)) / weights[positive]
    chosen = np.argpartition(-score, k - 1)[:k]
    out[chosen] = True
    return out


def uniform_dates(
    low: npt.NDArray[np.datetime64], high: npt.NDArray[np.datetime64], rng: np.random.Generator
) -> npt.NDArray[np.datetime64]:
    """A random day in ``[low, high]`` for each pair (``high < low`` gives ``low``)."""
    lo = low.astype("datetime64[D]").astype(np.int64)
    hi = np.maximum(high.astype("datetime64[D]").astype(np.int64), lo)
    return (lo + np.floor(rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)).astype("datetime64[D]")
