"""What a stored text may hold, checked before anything is hashed or written.

Every string of an event must be valid Unicode that every case store can keep: no lone UTF-16
surrogate (it cannot be encoded as UTF-8, so it cannot be hashed), no NUL (PostgreSQL text
refuses it) and no other C0 control character except tab, line feed and carriage return. Sizes
are bounded so that one command cannot make every listing slow: at most `MAX_ITEMS` items in a
list, `MAX_TEXT` characters in a string and `MAX_EVENT_BYTES` for the whole event.
"""

from __future__ import annotations

from collections.abc import Mapping

from iplos.errors import Problem, text_problem

MAX_ITEMS = 2_000
MAX_TEXT = 100_000
MAX_EVENT_BYTES = 2_000_000
MAX_ID = 100


def json_problems(value: object, where: str = "") -> list[Problem]:
    """Every string, list and size problem in a JSON value, each naming its field path."""
    problems: list[Problem] = []
    _walk(value, where, problems)
    return problems[:20]


def _walk(value: object, where: str, problems: list[Problem]) -> None:
    if len(problems) >= 20:
        return
    if isinstance(value, str):
        why = text_problem(value)
        if why:
            problems.append(Problem(f"the text {why}", column=where or None))
        elif len(value) > MAX_TEXT:
            problems.append(
                Problem(f"the text is {len(value):,} characters; at most {MAX_TEXT:,}", column=where or None)
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            why = text_problem(key_text)
            if why:
                problems.append(Problem(f"a field name {why}", column=where or None))
                continue
            _walk(item, f"{where}.{key_text}" if where else key_text, problems)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            problems.append(
                Problem(f"the list has {len(value):,} items; at most {MAX_ITEMS:,}", column=where or None)
            )
            return
        for index, item in enumerate(value):
            _walk(item, f"{where}[{index}]", problems)


def identifier_ok(value: str) -> bool:
    """Whether a case id or username can even be looked up (short, no control or surrogate)."""
    return 0 < len(value) <= MAX_ID and text_problem(value) is None
