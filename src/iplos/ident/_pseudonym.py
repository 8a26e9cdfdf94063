"""Keyed pseudonyms: HMAC-SHA-256 of an identity number under one register's key.

Each register has its own 32-byte secret, so the same person's pseudonyms in two registers have
nothing in common; only the key holder, who has the identity list and every key, can map one to the
other. HMAC follows RFC 2104; the inner and outer SHA-256 states are computed once per key and
copied per value, which is about twice as fast as `hmac.new` per value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pyarrow as pa

from iplos.errors import IplosError

__all__ = ["KEY_BYTES", "PseudonymKey", "pseudonymise"]

KEY_BYTES = 32
_BLOCK = 64  # SHA-256 block size


class PseudonymKey:
    """One register's secret key; its repr and str never show the secret."""

    __slots__ = ("_inner", "_outer", "_register", "_secret")

    def __init__(self, register: str, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) < KEY_BYTES:
            raise IplosError(f"the pseudonym key of register {register!r} must be at least {KEY_BYTES} bytes")
        self._register = register
        self._secret = secret
        padded = (hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret).ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    @property
    def register(self) -> str:
        """The register whose pseudonym domain this key defines."""
        return self._register

    def secret_hex(self) -> str:
        """The secret as hex, for the key file only; never log or show it."""
        return self._secret.hex()

    def key_id(self) -> str:
        """A short one-way identifier of the key (HMAC of a fixed label that no identity number can be).

        It tells whether a table of pseudonyms was made under this key without revealing the key;
        keep it within the key holder's folder all the same.
        """
        return hmac.new(self._secret, b"\x00iplos/key-id/v1", hashlib.sha256).hexdigest()[:32]

    def pseudonym(self, value: str) -> str:
        """HMAC-SHA-256 of ``value`` (UTF-8) as 64 lower-case hex characters."""
        inner = self._inner.copy()
        inner.update(value.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return f"PseudonymKey(register={self._register!r}, secret=<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PseudonymKey):
            return NotImplemented
        return self._register == other._register and self._secret == other._secret

    def __hash__(self) -> int:
        return hash((self._register, self._secret))

    def __reduce__(self) -> tuple[object, ...]:
        # Refuse pickling: a pickled key would end up in job queues or caches outside the key holder.
        raise TypeError("pseudonym keys cannot be pickled")


def _as_key(key: PseudonymKey | bytes) -> PseudonymKey:
    return key if isinstance(key, PseudonymKey) else PseudonymKey("<unnamed>", key)


def pseudonymise(
    values: pa.Array | pa.ChunkedArray | Iterable[str], key: PseudonymKey | bytes
) -> pa.Array | list[str]:
    """Pseudonym of each value under ``key``: a pyarrow string array for arrow input, else a list.

    Nulls in an arrow array stay null. About a million values a second on one core.

    >>> k = PseudonymKey("iplos", bytes(32))
    >>> pseudonymise(["30108299920"], k)[0][:16]
    '3573f5442b5e9357'
    """
    k = _as_key(key)
    inner0, outer0 = k._inner, k._outer
    if isinstance(values, pa.Array | pa.ChunkedArray):
        py = values.to_pylist()
        out_arrow: list[str | None] = []
        for v in py:
            if v is None:
                out_arrow.append(None)
                continue
            i = inner0.copy()
            i.update(str(v).encode("utf-8"))
            o = outer0.copy()
            o.update(i.digest())
            out_arrow.append(o.hexdigest())
        return pa.array(out_arrow, type=pa.string())
    out: list[str] = []
    append = out.append
    for v in values:
        i = inner0.copy()
        i.update(v.encode("utf-8"))
        o = outer0.copy()
        o.update(i.digest())
        append(o.hexdigest())
    return out
