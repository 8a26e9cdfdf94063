"""How case errors become HTTP answers (a JSON body with `detail` and the located `problems`).

| error | status |
|---|---|
| CaseNotFound (also: an applicant asking for another's case) | 404 |
| PermissionDenied (the role may never do this) | 403 |
| CommandRefused, not allowed in the current status | 409 |
| CommandRefused, invalid input (problems listed) | 422 |
| ConcurrencyError (the case changed; reload and retry) | 409 |
| other IplosError | 400 |
| a body too large (`security.SecurityMiddleware`) | 413 |
| a body or URL with text no store can keep | 400 |
| too many failed logins (`security.LoginThrottle`) | 429 |

Every API operation declares these answers in the OpenAPI document (`app._declare_errors`).
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from iplos.cases import CaseNotFound, CommandRefused, ConcurrencyError, PermissionDenied
from iplos.errors import IplosError

ERROR_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "detail": {},
        "error": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}
COMMON_ERRORS = {
    400: "Bad request: unreadable input, or text no store can keep",
    413: "The request body is too large",
    422: "Invalid input; the problems name each field",
}
AUTH_ERRORS = {
    401: "Not authenticated",
    403: "Your role may not do this",
    404: "No such case (or not yours)",
    409: "Not allowed in the case's status, or the case changed meanwhile",
}
LOGIN_ERRORS = {
    401: "Wrong username or password",
    429: "Too many failed logins; wait for Retry-After seconds",
}


def _status(exc: IplosError) -> int:
    if isinstance(exc, CaseNotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, CommandRefused):
        return 422 if exc.invalid else 409
    if isinstance(exc, ConcurrencyError):
        return 409
    return 400


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IplosError)
    body = {
        "detail": exc.message,
        "error": type(exc).__name__,
        "problems": [{k: v for k, v in asdict(p).items() if v is not None} for p in exc.problems],
    }
    return JSONResponse(body, status_code=_status(exc))


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(IplosError, _handle)
