"""Convert the frozen records of `cases` to plain JSON values and back, driven by their type hints.

Events are stored as JSON and hash-chained, so the conversion must be canonical: the same record
always gives the same JSON text (`canonical_json`). Supported field types: str, int, float, bool,
None, date, datetime (timezone-aware, stored as ISO 8601 in UTC), Literal, tuple[T, ...], Mapping of
str to a supported type or to JSON (`Any`), unions with None, and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from iplos.errors import IplosError

T = TypeVar("T")

JSON = Any


def to_json(value: object) -> JSON:
    """Return the JSON form (dicts, lists, strings, numbers) of a record or value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise IplosError(f"timestamp {value.isoformat()} has no time zone")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def canonical_json(value: object) -> str:
    """JSON text with sorted keys and no spaces: the form that is hashed."""
    return json.dumps(to_json(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(tp: Any, data: JSON, where: str = "") -> Any:
    """Rebuild a value of type `tp` from its JSON form; errors name the field path."""
    if tp is Any:
        return data
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if data is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:
            return from_json(others[0], data, where)
        raise TypeError(f"unsupported union {tp}")
    if origin is typing.Literal:
        if data not in get_args(tp):
            raise IplosError(
                f"{where or 'value'}: {data!r} is not one of {', '.join(map(repr, get_args(tp)))}"
            )
        return data
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(data, list):
            raise IplosError(f"{where or 'value'}: expected a list, got {type(data).__name__}")
        return tuple(from_json(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
    if origin in (Mapping, dict) or (origin is not None and origin is typing.Mapping):
        _, vt = get_args(tp)
        if not isinstance(data, dict):
            raise IplosError(f"{where or 'value'}: expected an object, got {type(data).__name__}")
        return {str(k): from_json(vt, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(data, str) and hasattr(tp, "from_text"):
            # A record an older version stored as free text (e.g. a population in words).
            return tp.from_text(data)
        if not isinstance(data, dict):
            raise IplosError(f"{where or tp.__name__}: expected an object, got {type(data).__name__}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = from_json(hints[f.name], data[f.name], f"{where}.{f.name}".lstrip("."))
        unknown = set(data) - {f.name for f in dataclasses.fields(tp)}
        if unknown:
            raise IplosError(f"{where or tp.__name__}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            return tp(**kwargs)
        except TypeError as exc:
            raise IplosError(f"{where or tp.__name__}: {exc}") from None
    if tp is datetime:
        if not isinstance(data, str):
            raise IplosError(f"{where}: expected an ISO timestamp")
        value = datetime.fromisoformat(data)
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if tp is date:
        if not isinstance(data, str):
            raise IplosError(f"{where}: expected an ISO date")
        try:
            return date.fromisoformat(data)
        except ValueError:
            raise IplosError(f"{where}: {data!r} is not a date (YYYY-MM-DD)") from None
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise IplosError(f"{where}: expected a number, got {data!r}")
        return float(data)
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise IplosError(f"{where}: expected {tp.__name__}, got {data!r}")
        return data
    raise TypeError(f"unsupported type {tp!r}")


def decode(cls: type[T], data: JSON) -> T:
    """Typed `from_json` for a dataclass."""
    value: T = from_json(cls, data)
    return value
