"""Project serial numbers (`lopenr`): random, unique within a delivery, unrelated to any pseudonym.

Each delivery draws its own numbers from a cryptographic stream (SHAKE-256, keyed with 32 random bytes
from the operating system that are never stored), so the numbers of one delivery say nothing about the
numbers of another and cannot be recomputed from a pseudonym or a fødselsnummer: two deliveries cannot
be joined with each other on `lopenr`. Numbers already issued to earlier deliveries of the same case can
be excluded, so two deliveries of one case never share a number.

Numbers have nine digits (100000000-999999999) so that they fit Stata's and SPSS's 32-bit integers.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError

LOWEST = 100_000_000
HIGHEST = 999_999_999
_SPACE = HIGHEST - LOWEST + 1
# Largest multiple of the space below 2**32: candidates above it are rejected, so no number is favoured.
_LIMIT = (2**32 // _SPACE) * _SPACE
_DOMAIN = b"iplos/lopenr/v1\x00"


def new_seed() -> bytes:
    """32 bytes from the operating system's CSPRNG: the per-delivery seed (never stored)."""
    return secrets.token_bytes(32)


def draw_serial_numbers(
    n: int, seed: bytes | None = None, exclude: Iterable[int] = ()
) -> npt.NDArray[np.int32]:
    """Draw `n` distinct nine-digit serial numbers, none of them in `exclude`.

    The same seed gives the same numbers (for tests); without a seed a fresh one is drawn.

    >>> a = draw_serial_numbers(5, seed=b"x" * 32)
    >>> len(set(a.tolist())) == 5 and bool((a >= LOWEST).all() and (a <= HIGHEST).all())
    True
    """
    if n < 0:
        raise IplosError(f"cannot draw a negative number of serial numbers ({n})")
    excluded = np.unique(np.fromiter((int(v) for v in exclude), dtype=np.int64))
    if n + excluded.size > _SPACE // 2:
        raise IplosError(f"{n} serial numbers do not fit the nine-digit space with {excluded.size} excluded")
    if seed is None:
        seed = new_seed()
    if len(seed) < 16:
        raise IplosError("a serial-number seed must have at least 16 bytes")
    if n == 0:
        return np.empty(0, dtype=np.int32)
    want = n + excluded.size // 4 + 64
    while True:
        # SHAKE-256 is an extendable-output function: a longer read repeats the shorter one as prefix,
        # so the result depends only on the seed, never on how many rounds it took.
        stream = hashlib.shake_256(_DOMAIN + seed).digest(4 * (want + want // 8))
        raw = np.frombuffer(stream, dtype="<u4").astype(np.int64)
        raw = raw[raw < _LIMIT]
        candidates = LOWEST + raw % _SPACE
        if excluded.size:
            candidates = candidates[~np.isin(candidates, excluded)]
        _, first = np.unique(candidates, return_index=True)
        if first.size >= n:
            order = np.sort(first)[:n]
            return candidates[order].astype(np.int32)
        want *= 2
