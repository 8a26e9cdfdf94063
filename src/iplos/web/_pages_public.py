"""Pages anyone may open: the front page, login and logout, the language switch, transparency.

The transparency page lists the approved projects (title, institution, registers, variables,
period) and the live processing-time statistics, both computed from the events at each request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iplos.cases import Case, CaseService, default_catalogue, grant
from iplos.web._i18n import LANGS, translate
from iplos.web._render import PostedForm, lang_of, redirect, render, service_of, sessions
from iplos.web._session import LANG_COOKIE, login_keys, secure

HOME: dict[str, str] = {
    "applicant": "/app",
    "reviewer": "/app/queue",
    "processor": "/app/work",
    "administrator": "/app/admin/users",
}
PUBLISHED = ("approved", "partly_approved")


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go on to (never another site: '//evil', 'https://...', '\\\\x' are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def build_public_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def front(request: Request) -> Response:
        user = sessions(request).user(request)
        if user is not None:
            return redirect(HOME[user.role])
        return render(request, "front.html.j2")

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "") -> Response:
        return render(request, "login.html.j2", next=safe_next(next, ""), username="")

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, form: PostedForm) -> Response:
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        target = safe_next(str(form.get("next", "")), "")
        throttle = sessions(request).throttle
        keys = login_keys(request, username)
        wait = throttle.wait(keys)
        if wait is not None:
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            return render(
                request,
                "login.html.j2",
                status_code=429,
                error=translate(lang_of(request), "login.throttled", minutes=minutes),
                next=target,
                username=username,
            )
        user = service_of(request).users.check_password(username, password)
        if user is None:
            throttle.failed(keys)
            return render(
                request,
                "login.html.j2",
                status_code=401,
                error=_t(request, "login.failed"),
                next=target,
                username=username,
            )
        throttle.succeeded(keys[0])
        response = redirect(target or HOME[user.role])
        sessions(request).log_in(request, response, user)
        return response

    @router.post("/logout")
    def logout(request: Request, form: PostedForm) -> Response:
        response = redirect("/")
        sessions(request).log_out(request, response)
        return response

    @router.get("/lang/{code}")
    def language(request: Request, code: str, next: str = "/") -> Response:
        response: Response = RedirectResponse(safe_next(next), status_code=303)
        if code in LANGS:
            response.set_cookie(
                LANG_COOKIE,
                code,
                max_age=365 * 86400,
                samesite="lax",
                secure=secure(request),
                httponly=True,
                path="/",
            )
        return response

    @router.get("/transparency", response_class=HTMLResponse)
    def transparency(request: Request) -> Response:
        service = service_of(request)
        return render(
            request,
            "transparency.html.j2",
            user=sessions(request).user(request),
            projects=projects_for(service),
            stats=service.statistics(),
        )

    return router


# Cases whose decision approved them, in any later status (offered, delivered, ... closed).
_SHOWN = frozenset(
    {
        "approved",
        "partly_approved",
        "offered",
        "offer_declined",
        "accepted",
        "linked",
        "anonymisation",
        "anonymisation_agreed",
        "delivered",
        "invoiced",
        "deletion_confirmed",
        "closed",
        "appealed",
    }
)


def _public(case: Case) -> dict[str, Any] | None:
    """What the public may know of an approved case: never the applicant's username or the reasons."""
    if case.outcome not in PUBLISHED:
        return None
    # What the decision grants after its register approvals, as the letter states it (a denied KPR
    # narrows the years and the variables), not what the application asked for.
    given = grant(case, default_catalogue())
    years = sorted(given.years)
    return {
        "case_id": case.case_id,
        "title": case.content.project.title,
        "institution": case.content.project.institution,
        "registers": case.approved_registers(),
        "variables": [(d.register, d.name, d.level) for d in given.variables],
        "first_year": years[0] if years else None,
        "last_year": years[-1] if years else None,
        "decided_at": case.decided_at,
        "outcome": case.outcome,
    }


def _t(request: Request, key: str) -> str:
    return translate(lang_of(request), key)


def projects_for(service: CaseService) -> list[dict[str, Any]]:
    """The approved projects as the transparency page lists them."""
    found = [_public(service.get(s.case_id)) for s in service.list(None) if s.status in _SHOWN]
    return [p for p in found if p is not None]
