"""Errors of the case service: each an `IplosError` the CLI and the API turn into a clear answer.

```
IplosError
 ├── CaseNotFound        no such case, or one the user may not see (API: 404)
 ├── PermissionDenied    the role may never give this command (API: 403)
 ├── CommandRefused      not allowed now, or invalid; carries the problems (API: 409 / 422)
 └── ConcurrencyError    the case changed since it was read (API: 409); retry with fresh state
```
"""

from __future__ import annotations

from collections.abc import Sequence

from iplos.errors import IplosError, Problem


class CaseNotFound(IplosError):
    """The case does not exist or is not visible to this user."""


class PermissionDenied(IplosError):
    """The user's role may not give this command on any case."""


class CommandRefused(IplosError):
    """The command is not allowed in the case's current state, or its input is invalid."""

    def __init__(self, message: str, problems: Sequence[Problem] = (), invalid: bool = False) -> None:
        super().__init__(message, problems)
        self.invalid = invalid


class ConcurrencyError(IplosError):
    """Another command changed the case first; nothing was written."""
