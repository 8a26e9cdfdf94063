"""The server-rendered pages on the FastAPI app: routers, static files and HTML error pages.

`install(app, service)` adds them beside the JSON API. Errors on `/api/...` keep their JSON
answers; on pages they become an HTML page in the user's language with the same status code
(404 for a case the user may not see, 403 for a role that may not, 409 for a refused command).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from iplos.cases import CaseNotFound, CaseService, CommandRefused, ConcurrencyError, PermissionDenied
from iplos.errors import IplosError
from iplos.web import _errors
from iplos.web._attachments import AttachmentStore
from iplos.web._pages_applicant import build_applicant_router
from iplos.web._pages_attachments import build_attachments_router
from iplos.web._pages_case import build_case_router
from iplos.web._pages_delivery import build_delivery_router
from iplos.web._pages_jobs import build_jobs_router
from iplos.web._pages_messages import build_messages_router
from iplos.web._pages_oidc import build_oidc_router
from iplos.web._pages_preview import build_preview_router
from iplos.web._pages_public import build_public_router
from iplos.web._pages_staff import build_staff_router
from iplos.web._render import Forbidden, LoginRequired, redirect, render
from iplos.web._session import Sessions


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/docs", "/openapi.json")


def _error_page(request: Request, status_code: int, message: str) -> Response:
    sessions: Sessions = request.app.state.sessions
    return render(
        request,
        "error.html.j2",
        status_code=status_code,
        user=sessions.user(request),
        code=status_code,
        message=message,
    )


async def _iplos_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IplosError)
    if _is_api(request):
        return await _errors._handle(request, exc)
    code = 400
    if isinstance(exc, CaseNotFound):
        code = 404
    elif isinstance(exc, PermissionDenied):
        code = 403
    elif isinstance(exc, CommandRefused):
        code = 422 if exc.invalid else 409
    elif isinstance(exc, ConcurrencyError):
        code = 409
    return _error_page(request, code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        return await http_exception_handler(request, exc)
    return _error_page(request, exc.status_code, str(exc.detail))


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    from urllib.parse import quote

    return redirect(f"/login?next={quote(exc.next_url, safe='')}")


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    return _error_page(request, 403, f"a {exc.role} may not open this page")


ROUTERS = (
    build_public_router,
    build_applicant_router,
    build_case_router,
    build_delivery_router,
    build_staff_router,
    build_messages_router,
    build_preview_router,
    build_attachments_router,
    build_oidc_router,
    build_jobs_router,
)
"""The page routers' builders (a test walks their POST routes to check each demands the CSRF token)."""


def install(
    app: FastAPI,
    service: CaseService,
    secret: bytes | None = None,
    deliveries: Path | None = None,
    attachments: Path | None = None,
) -> None:
    """Add the pages, the static files and the HTML error handlers to the app (`deliveries`: the
    folder of delivered files, for the download pages; None: no downloads from this server;
    `attachments`: the folder uploaded PDFs are kept in by SHA-256; None: no uploads)."""
    app.state.sessions = Sessions(service.users, secret, service.now)
    app.state.deliveries = deliveries
    app.state.attachments = AttachmentStore(attachments) if attachments is not None else None
    app.mount("/static", StaticFiles(directory=str(files("iplos.web") / "static")), name="static")
    for build in ROUTERS:
        app.include_router(build())
    app.add_exception_handler(IplosError, _iplos_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Forbidden, _forbidden)
