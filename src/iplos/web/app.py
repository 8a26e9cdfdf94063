"""`create_app`: the FastAPI application (JSON API with its OpenAPI document at /docs, and the pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from iplos import __version__
from iplos.cases import CaseService
from iplos.preview import Previews
from iplos.web import _errors, _pages
from iplos.web._routes import build_router
from iplos.web.auth import Authenticator, BearerTokens
from iplos.web.oidc import OidcLogin
from iplos.web.security import MAX_BODY, LoginThrottle, SecurityMiddleware


def create_app(
    service: CaseService,
    authenticators: list[Authenticator] | None = None,
    secret: bytes | None = None,
    deliveries: Path | None = None,
    *,
    throttle: LoginThrottle | None = None,
    max_body: int = MAX_BODY,
    previews: Previews | None = None,
    attachments: Path | None = None,
    oidc: OidcLogin | None = None,
) -> FastAPI:
    """The web application over one case service: the JSON API (authenticators default to local
    bearer tokens) and the pages (cookie sessions; `secret` keys the CSRF tokens, random if None;
    `deliveries` is the folder delivered files are downloaded from, None for no downloads).

    `throttle` limits failed logins (default: `LoginThrottle()`); `max_body` bounds request bodies.
    `previews` computes the applicant's risk previews and counter-proposal consequences (default:
    on the process's synthetic register only, generated on first use). `attachments` is the folder
    uploaded PDFs are stored in by SHA-256 (None: uploads are refused). `oidc` adds an OpenID
    Connect login (ID-porten style) beside the local accounts on the login page.
    """
    app = FastAPI(
        title="iplos",
        version=__version__,
        description="Applications for IPLOS register data: cases from draft to invoice. "
        "Log in at POST /api/auth/token, then send `Authorization: Bearer <token>`.",
    )
    app.state.service = service
    app.state.throttle = throttle or LoginThrottle()
    app.state.previews = previews or Previews()
    app.state.oidc = oidc
    _errors.install(app)
    app.include_router(
        build_router(service, authenticators or [BearerTokens(service.users)], app.state.throttle)
    )
    _pages.install(app, service, secret, deliveries, attachments)
    app.add_middleware(SecurityMiddleware, max_body=max_body)
    _declare_errors(app)
    return app


def _declare_errors(app: FastAPI) -> None:
    """Every API operation's OpenAPI entry lists the error answers it can give (see `_errors`)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = _errors.ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                codes = dict(_errors.COMMON_ERRORS)
                codes.update(_errors.LOGIN_ERRORS if path == "/api/auth/token" else _errors.AUTH_ERRORS)
                for code, text in codes.items():
                    responses.setdefault(str(code), {"description": text, **ref})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
