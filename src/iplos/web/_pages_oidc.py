"""The OpenID Connect login pages: `/login/oidc` sends the browser to the provider, and
`/login/oidc/callback` takes it back, checks everything (`iplos.web.oidc.OidcLogin`) and starts an
ordinary session for the linked local account. Without a configured provider both answer 404.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iplos.web._i18n import translate
from iplos.web._render import lang_of, render, service_of, sessions
from iplos.web._session import secure
from iplos.web.oidc import OidcError, OidcLogin

STATE_COOKIE = "iplos_oidc_state"


def oidc_of(request: Request) -> OidcLogin:
    login: OidcLogin | None = getattr(request.app.state, "oidc", None)
    if login is None:
        raise HTTPException(404, "no OpenID Connect provider is configured")
    return login


def build_oidc_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login/oidc")
    def start(request: Request) -> Response:
        url, state = oidc_of(request).start()
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            STATE_COOKIE,
            state,
            httponly=True,
            samesite="lax",
            secure=secure(request),
            path="/login/oidc",
            max_age=600,
        )
        return response

    @router.get("/login/oidc/callback", response_class=HTMLResponse)
    def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
        from iplos.web._pages_public import HOME

        login = oidc_of(request)
        try:
            if error:
                raise OidcError(f"the provider answered {error[:60]!r}")
            claims = login.finish(code, state, request.cookies.get(STATE_COOKIE))
            user = service_of(request).users.get(login.username(claims))
            if user is None or not user.active:
                raise OidcError("the linked account is not active")
        except OidcError as exc:
            message = translate(lang_of(request), "login.oidc_failed", reason=exc.message)
            response: Response = render(
                request, "login.html.j2", status_code=401, error=message, next="", username=""
            )
            response.delete_cookie(STATE_COOKIE, path="/login/oidc")
            return response
        response = RedirectResponse(HOME[user.role], status_code=303)
        response.delete_cookie(STATE_COOKIE, path="/login/oidc")
        sessions(request).log_in(request, response, user)
        return response

    return router
