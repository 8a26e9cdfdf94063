"""`create_app`: the FastAPI application (JSON API with its OpenAPI document at /docs, and the pages)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from iplos import __version__
from iplos.cases import CaseService
from iplos.web import _errors, _pages
from iplos.web._routes import build_router
from iplos.web.auth import Authenticator, BearerTokens


def create_app(
    service: CaseService,
    authenticators: list[Authenticator] | None = None,
    secret: bytes | None = None,
    deliveries: Path | None = None,
) -> FastAPI:
    """The web application over one case service: the JSON API (authenticators default to local
    bearer tokens) and the pages (cookie sessions; `secret` keys the CSRF tokens, random if None;
    `deliveries` is the folder delivered files are downloaded from, None for no downloads)."""
    app = FastAPI(
        title="iplos",
        version=__version__,
        description="Applications for IPLOS register data: cases from draft to invoice. "
        "Log in at POST /api/auth/token, then send `Authorization: Bearer <token>`.",
    )
    app.state.service = service
    _errors.install(app)
    app.include_router(build_router(service, authenticators or [BearerTokens(service.users)]))
    _pages.install(app, service, secret, deliveries)
    return app
