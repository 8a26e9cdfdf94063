"""The error every iplos failure that a user can act on is raised as.

An `IplosError` says what went wrong and where: file, row, column, field and value, so that
the command line can print one clear line per problem. It never carries a fødselsnummer or a
pseudonym key: callers pass a redacted value (see `redact`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with its location."""

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    rule: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.message}" if prefix else self.message
        if self.value is not None:
            text += f" (value {self.value!r})"
        if self.rule is not None:
            text += f" [rule {self.rule}]"
        return text


class IplosError(Exception):
    """A failure the user can act on; carries one or more located problems."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems: tuple[Problem, ...] = tuple(problems)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        return "\n".join(lines)


def redact(value: object, keep: int = 0) -> str:
    """Return a value safe to show in an error: digits masked, at most `keep` leading characters kept.

    >>> redact("01010112345")
    '***********'
    >>> redact("0301", keep=4)
    '0301'
    """
    text = str(value)
    return text[:keep] + "*" * max(0, len(text) - keep)


_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    r"""Why `text` cannot be stored or hashed (None when it can).

    Refused: a lone UTF-16 surrogate (no UTF-8 form, so it cannot be hashed), NUL (PostgreSQL text
    refuses it) and the other C0 control characters except tab, line feed and carriage return.

    >>> text_problem("Ålesund\tok")
    >>> text_problem("a\x00b")
    'holds the control character U+0000 at position 1'
    """
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return f"holds a lone UTF-16 surrogate (U+{ord(char):04X}) at position {match.start()}"
    return f"holds the control character U+{ord(char):04X} at position {match.start()}"
