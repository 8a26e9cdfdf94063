"""The messages page: what the notifications told the logged-in user (the same text as the e-mails),
and where the user wants them (an e-mail address, or none for the app only, and a language)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from iplos.cases import User
from iplos.cases.outbox_store import Outbox
from iplos.errors import IplosError
from iplos.web._render import PageUser, PostedForm, redirect, render, service_of


def _outbox(request: Request) -> Outbox:
    return service_of(request).outbox


def _page(request: Request, user: User, error: str | None = None, status_code: int = 200) -> Response:
    outbox = _outbox(request)
    return render(
        request,
        "messages.html.j2",
        status_code=status_code,
        user=user,
        messages=outbox.for_user(user.username),
        contact=outbox.contact(user.username),
        error=error,
    )


def build_messages_router() -> APIRouter:
    router = APIRouter(prefix="/app", include_in_schema=False)

    @router.get("/messages", response_class=HTMLResponse)
    def messages(request: Request, user: PageUser) -> Response:
        return _page(request, user)

    @router.post("/messages/contact", response_class=HTMLResponse)
    def contact(request: Request, user: PageUser, form: PostedForm) -> Response:
        email = str(form.get("email", "")).strip() or None
        language = str(form.get("language", "nb"))
        try:
            _outbox(request).set_contact(user.username, email, language)
        except IplosError as exc:
            return _page(request, user, error=exc.message, status_code=422)
        return redirect("/app/messages")

    return router
