"""Identity of synthetic persons: a unique fødselsnummer or D-number each, and register pseudonyms."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iplos.ident import PseudonymKey, generate_array, pseudonymise

__all__ = ["FnrIssuer", "Identities"]


class FnrIssuer:
    """Hands out valid numbers that were never handed out before in this run (across chunks)."""

    def __init__(self) -> None:
        # A set answers "issued before?" in constant time; a sorted array re-sorted per call made
        # each chunk slower than the one before it.
        self._issued: set[int] = set()

    def issue(
        self,
        birth: npt.NDArray[np.datetime64],
        sex: npt.NDArray[np.int64],
        dnr: npt.NDArray[np.bool_],
        rng: np.random.Generator,
    ) -> npt.NDArray[np.str_]:
        """One new number per person; a duplicate (same birth date, sex, individnummer) is drawn again."""
        out = generate_array(birth, sex, rng, kind=dnr)
        todo = np.arange(len(out))
        for _ in range(1000):
            values = out[todo].astype(np.int64).tolist()
            bad = []
            for i, value in zip(todo.tolist(), values, strict=True):
                if value in self._issued:
                    bad.append(i)
                else:
                    self._issued.add(value)
            if not bad:
                break
            todo = np.array(bad, dtype=np.int64)
            out[todo] = generate_array(birth[todo], sex[todo], rng, kind=dnr[todo])
        else:  # pragma: no cover - only with a birth date that has no free individnummer left
            raise RuntimeError("could not find unused identity numbers")
        return out

    def __len__(self) -> int:
        return len(self._issued)


class Identities:
    """The numbers of a chunk's persons and their pseudonym in each register, in person order."""

    def __init__(self, keys: dict[str, PseudonymKey]) -> None:
        self._keys = keys
        self._fnr: list[npt.NDArray[np.str_]] = []
        self._pseudonyms: dict[str, list[pa.Array]] = {r: [] for r in keys}
        self._cache: dict[str, pa.ChunkedArray] = {}

    def add(self, fnr: npt.NDArray[np.str_]) -> None:
        self._fnr.append(fnr)
        values = fnr.tolist()
        for register, key in self._keys.items():
            self._pseudonyms[register].append(pa.array(pseudonymise(values, key), type=pa.string()))
        self._cache.clear()

    def fnr(self) -> npt.NDArray[np.str_]:
        return np.concatenate(self._fnr) if self._fnr else np.empty(0, "U11")

    def pseudonyms(self, register: str, persons: npt.NDArray[np.int64]) -> pa.Array:
        """The ``register`` pseudonym of each person index (a pyarrow string array)."""
        if register not in self._cache:
            self._cache[register] = pa.chunked_array(self._pseudonyms[register], type=pa.string())
        return self._cache[register].take(pa.array(persons, type=pa.int64())).combine_chunks()
