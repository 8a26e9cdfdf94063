"""Record keys of the cell key method: a secret number in [0, 1) per person, kept by the key holder.

A person's record key is the first 53 bits of HMAC-SHA-256(secret, the person's pseudonym), read
as a fraction, under one secret of the key holder (kept with the pseudonym keys in the key file, as
the key of the domain `RECORD_KEY_DOMAIN`). So the same person has the same key in every table and
every release, a cell's key (the sum of its persons' keys mod 1) is the same wherever the cell
appears, and nobody without the secret can compute a key (ABS TableBuilder's design; Thompson,
Broadfoot & Elazar, "Methodology for the automatic confidentialisation of statistical outputs from
remote servers at the Australian Bureau of Statistics", UNECE 2013). The keys live only in memory:
`RecordKeys` hands them out to the tabulation and has no way to write them, and its repr shows
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from iplos.config import Settings
from iplos.ident._keys import KeyStore
from iplos.ident._pseudonym import PseudonymKey

__all__ = ["RECORD_KEY_DOMAIN", "RecordKeys"]

RECORD_KEY_DOMAIN = "cell-key-record-keys"


class RecordKeys:
    """The key holder's record keys: `keys(ids)` gives each person's key in [0, 1)."""

    __slots__ = ("_key",)

    def __init__(self, key: PseudonymKey) -> None:
        self._key = key

    @classmethod
    def open(cls, settings: Settings) -> RecordKeys:
        """The record key secret of the key holder (created and saved on first use)."""
        store = KeyStore.open(settings)
        created = RECORD_KEY_DOMAIN not in store
        key = store.ensure(RECORD_KEY_DOMAIN)
        if created:
            store.save()
        return cls(key)

    def keys(self, ids: Sequence[str] | npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
        """Each id's record key in [0, 1) (equal ids, equal keys)."""
        out = np.empty(len(ids), dtype=np.float64)
        scale = float(2**53)
        for i, value in enumerate(ids):
            digest = self._key.pseudonym(str(value))
            out[i] = (int(digest[:16], 16) >> 11) / scale
        return out

    def __repr__(self) -> str:
        return "RecordKeys(<held by the key holder>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:  # no pickling: a pickle would be a copy of the secret
        raise TypeError("record keys cannot be pickled")
