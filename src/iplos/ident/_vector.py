"""Validate and generate identity numbers by the million, as numpy arrays of digits.

The rules are those of `iplos.ident._fnr` (a property test checks both agree on every input); here
they run column-wise over an ``(n, 11)`` digit matrix, so that a register column of millions of
values is checked in a second.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iplos.errors import IplosError
from iplos.ident._fnr import ALL_KINDS, K1_WEIGHTS, K2_WEIGHTS

__all__ = ["generate_array", "is_valid_array"]

_W1 = np.array(K1_WEIGHTS, dtype=np.int64)
_W2 = np.array(K2_WEIGHTS, dtype=np.int64)
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_KIND_CODES = {"fnr": 0, "dnr": 1, "hnr": 2, "fhnr": 3}


def _digits_from_arrow(
    values: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    shaped = pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{11}$"), False)
    ok = shaped.to_numpy(zero_copy_only=False).astype(bool)
    filled = pc.if_else(shaped, values, pa.scalar("00000000000", values.type))
    fixed = pc.cast(filled, pa.binary(11))
    buf = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    start = fixed.offset * 11
    mat = buf[start : start + 11 * len(fixed)].reshape(-1, 11).astype(np.int64) - 48
    return mat, ok


def _digits_from_numpy(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    values = np.asarray(values).reshape(-1)
    kind = values.dtype.kind
    if kind == "O":
        return _digits_from_arrow(pa.array(values, type=pa.string(), from_pandas=True))
    if kind not in ("U", "S"):
        raise IplosError(f"expected an array of strings, got dtype {values.dtype}")
    n = len(values)
    width = values.dtype.itemsize // (4 if kind == "U" else 1)
    if width < 11:
        return np.zeros((n, 11), dtype=np.int64), np.zeros(n, dtype=bool)
    codes = values.view(np.uint32 if kind == "U" else np.uint8).reshape(n, width).astype(np.int64)
    mat = codes[:, :11] - 48
    ok: npt.NDArray[np.bool_] = np.asarray(((mat >= 0) & (mat <= 9)).all(axis=1))
    if width > 11:
        ok &= np.asarray((codes[:, 11:] == 0).all(axis=1))
    return np.where(ok[:, None], mat, 0), ok


def _leap(year: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    return np.asarray(((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0), dtype=bool)


def _validate(d: npt.NDArray[np.int64], kinds: frozenset[str], allow_2032: bool) -> npt.NDArray[np.bool_]:
    r1 = (d[:, :9] @ _W1 + d[:, 9]) % 11
    k1_ok = (r1 == 0) | ((r1 <= 3) if allow_2032 else False)
    k2_ok = (d[:, :10] @ _W2 + d[:, 10]) % 11 == 0
    new_rule = r1 != 0
    day = d[:, 0] * 10 + d[:, 1]
    month = d[:, 2] * 10 + d[:, 3]
    yy = d[:, 4] * 10 + d[:, 5]
    ind = d[:, 6] * 100 + d[:, 7] * 10 + d[:, 8]
    fh = d[:, 0] >= 8
    is_d = ~fh & (day > 40)
    is_h = ~fh & (month > 40)
    day = np.where(is_d, day - 40, day)
    month = np.where(is_h, month - 40, month)
    century = np.select(
        [ind < 500, (ind < 750) & (yy >= 54), yy < 40, ind >= 900], [1900, 1800, 2000, 1900], default=0
    )
    century = np.where(new_rule, 0, century)
    no_century = century == 0
    year = np.where(no_century, 2000, century) + yy
    month_ok = (month >= 1) & (month <= 12)
    max_day = _DAYS[np.clip(month, 0, 12)] - ((np.clip(month, 0, 12) == 2) & ~_leap(year))
    date_ok = month_ok & (day >= 1) & (day <= max_day) & ~(is_d & is_h)
    if not allow_2032:
        date_ok &= ~no_century
    kind_code = np.select([fh, is_d, is_h], [3, 1, 2], default=0)
    kind_ok = np.isin(kind_code, [_KIND_CODES[k] for k in kinds])
    return np.asarray(k1_ok & k2_ok & (fh | date_ok) & kind_ok, dtype=bool)


def is_valid_array(
    values: npt.NDArray[Any] | pa.Array | pa.ChunkedArray,
    *,
    kinds: frozenset[str] = ALL_KINDS,
    allow_2032: bool = True,
) -> npt.NDArray[np.bool_]:
    """Validity of each value, as `is_valid` would judge it; nulls and non-strings are invalid.

    Accepts a numpy array of ``str``/``bytes``/objects or a pyarrow (chunked) string array.
    """
    unknown = set(kinds) - ALL_KINDS
    if unknown:
        raise IplosError(f"unknown number kinds {sorted(unknown)}; known: {sorted(ALL_KINDS)}")
    if isinstance(values, pa.Array | pa.ChunkedArray):
        mat, ok = _digits_from_arrow(values)
    else:
        mat, ok = _digits_from_numpy(values)
    if len(ok) == 0:
        return ok
    return ok & _validate(mat, frozenset(kinds), allow_2032)


def generate_array(
    birth_dates: npt.NDArray[np.datetime64],
    sexes: npt.NDArray[np.integer[Any]],
    rng: np.random.Generator,
    kind: Literal["fnr", "dnr"] | npt.NDArray[np.bool_] = "fnr",
) -> npt.NDArray[np.str_]:
    """Random valid numbers (dtype ``<U11``) for people born on ``birth_dates`` of ``sexes`` (1/2).

    ``kind`` is ``"fnr"``, ``"dnr"`` or a boolean array (True = D-number) per person. Numbers are
    not unique: a caller that needs unique numbers re-draws the duplicates.
    """
    dates = np.asarray(birth_dates, dtype="datetime64[D]").reshape(-1)
    sex = np.asarray(sexes).astype(np.int64).reshape(-1)
    n = len(dates)
    if len(sex) != n:
        raise IplosError(f"{n} birth dates but {len(sex)} sexes")
    if n and not np.isin(sex, [1, 2]).all():
        raise IplosError("sex must be 1 (mann) or 2 (kvinne)")
    dnr = np.broadcast_to(np.asarray(kind == "dnr") if isinstance(kind, str) else np.asarray(kind), (n,))
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    if n and ((years < 1854) | (years > 2039)).any():
        raise IplosError("birth years must lie in 1854-2039 (the classic individnummer series)")
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    lo = np.select([years < 1900, years < 2000], [500, 0], default=500)
    hi = np.select([years < 1900, years < 2000], [749, 499], default=999)
    d = np.zeros((n, 11), dtype=np.int64)
    day = days + np.where(dnr, 40, 0)
    d[:, 0], d[:, 1] = day // 10, day % 10
    d[:, 2], d[:, 3] = months // 10, months % 10
    d[:, 4], d[:, 5] = (years % 100) // 10, years % 10
    todo = np.arange(n)
    while len(todo):
        span = (hi[todo] - lo[todo]) // 2 + 1
        ind = lo[todo] + 2 * rng.integers(0, span) + np.where(sex[todo] == 1, 1, 0)
        d[todo, 6], d[todo, 7], d[todo, 8] = ind // 100, (ind // 10) % 10, ind % 10
        k1 = (11 - (d[todo, :9] @ _W1) % 11) % 11
        d[todo, 9] = np.where(k1 == 10, 0, k1)
        k2 = (11 - (d[todo, :10] @ _W2) % 11) % 11
        d[todo, 10] = np.where(k2 == 10, 0, k2)
        todo = todo[(k1 == 10) | (k2 == 10)]
    return (d.astype(np.uint8) + 48).view("S11").reshape(-1).astype("U11")
