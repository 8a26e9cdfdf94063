"""Routes of the JSON API: login, users, case queries, and one route per command.

Commands are `POST /api/cases/{case_id}/{command}` (`POST /api/cases` opens a draft) with the
command's fields as the JSON body; an optional `If-Match: <version>` header makes the command
fail with 409 if the case has moved on since it was read (optimistic concurrency).

(No `from __future__ import annotations` here: FastAPI reads the route annotations, some of which
are local aliases, at definition time.)
"""

import dataclasses
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse

from iplos.cases import (
    COMMAND_TYPES,
    PERMISSIONS,
    Actor,
    CaseService,
    Command,
    Role,
    Status,
    User,
    event_to_json,
    to_json,
)
from iplos.cases.commands import AddAttachment, CreateDraft
from iplos.web.auth import Authenticator
from iplos.web.security import LoginThrottle

JSONDict = dict[str, Any]
STAFF: frozenset[str] = frozenset({"reviewer", "processor", "administrator"})


def _obj(value: object) -> JSONDict:
    """The JSON object form of a record."""
    data: JSONDict = to_json(value)
    return data


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().strip('"')
    if not text.isdigit():
        raise HTTPException(400, f"If-Match must be the case version (an integer), not {if_match!r}")
    return int(text)


def build_router(
    service: CaseService, authenticators: list[Authenticator], throttle: LoginThrottle | None = None
) -> APIRouter:
    """All API routes bound to one service."""
    router = APIRouter(prefix="/api")

    def current_user(request: Request) -> User:
        for auth in authenticators:
            user = auth.authenticate(request)
            if user is not None:
                return user
        raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})

    CurrentUser = Annotated[User, Depends(current_user)]

    def staff(user: CurrentUser) -> User:
        if user.role not in STAFF:
            raise HTTPException(403, f"a {user.role} may not use this")
        return user

    def admin(user: CurrentUser) -> User:
        if user.role != "administrator":
            raise HTTPException(403, "only an administrator may manage accounts")
        return user

    # authentication ---------------------------------------------------------------------------------
    @router.post("/auth/token", tags=["auth"])
    def login(
        request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> JSONDict:
        """Exchange a username and password (OAuth2 password form) for a bearer token."""
        client = request.client.host if request.client else "unknown"
        wait = throttle.retry_after(username, client) if throttle else 0
        if wait:
            raise HTTPException(
                429, f"too many failed logins; try again in {wait} s", headers={"Retry-After": str(wait)}
            )
        user = service.users.check_password(username, password)
        if user is None:
            if throttle:
                throttle.failed(username, client)
            raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
        if throttle:
            throttle.succeeded(user.username)
        token = service.users.issue_token(user.username)
        return {"access_token": token, "token_type": "bearer", "role": user.role}

    @router.post("/auth/logout", tags=["auth"])
    def logout(request: Request, user: CurrentUser) -> JSONDict:
        """Revoke the bearer token used for this request."""
        _, _, token = request.headers.get("authorization", "").partition(" ")
        service.users.revoke_token(token.strip())
        return {"revoked": True}

    @router.get("/me", tags=["auth"])
    def me(user: CurrentUser) -> JSONDict:
        """Who you are logged in as."""
        return _obj(user)

    @router.get("/users", tags=["users"])
    def users(user: Annotated[User, Depends(admin)]) -> list[JSONDict]:
        """All accounts (administrators only)."""
        return [to_json(u) for u in service.users.list()]

    @router.post("/users", tags=["users"], status_code=201)
    def create_user(
        user: Annotated[User, Depends(admin)],
        username: Annotated[str, Body()],
        password: Annotated[str, Body()],
        role: Annotated[Role, Body()],
        display_name: Annotated[str, Body()] = "",
    ) -> JSONDict:
        """Create an account (administrators only)."""
        return _obj(service.users.create(username, password, role, display_name))

    # queries ----------------------------------------------------------------------------------------
    @router.get("/cases", tags=["cases"])
    def list_cases(user: CurrentUser, status: Status | None = None) -> list[JSONDict]:
        """Cases you may see (applicants: their own and their projects'), each with its clock."""
        return [to_json(s) for s in service.list(user.actor, status)]

    @router.post("/cases", tags=["commands"], status_code=201)
    def create_draft(user: CurrentUser, body: CreateDraft) -> JSONDict:
        """Open a new application as a draft (kind new, change or new_period)."""
        return _obj(service.execute(None, body, user.actor))

    @router.get("/cases/{case_id}", tags=["cases"])
    def get_case(case_id: str, user: CurrentUser) -> JSONDict:
        """The case's current state (404 for a case an applicant may not see)."""
        return _obj(service.get(case_id, user.actor))

    @router.get("/cases/{case_id}/events", tags=["cases"])
    def events(case_id: str, user: CurrentUser) -> list[JSONDict]:
        """The case's hash-chained events, oldest first."""
        return [
            {"seq": e.seq, "prev_hash": e.prev_hash, "hash": e.hash, "event": event_to_json(e.event)}
            for e in service.history(case_id, user.actor)
        ]

    @router.get("/cases/{case_id}/clock", tags=["cases"])
    def clock(case_id: str, user: CurrentUser) -> JSONDict:
        """Days used and left of the 30-day limit, overdue flag, expected delivery date."""
        return _obj(service.clock(case_id, user.actor))

    @router.get("/cases/{case_id}/letter", tags=["cases"], response_model=None)
    def letter(
        case_id: str, user: CurrentUser, format: Literal["json", "markdown"] = Query("json")
    ) -> JSONDict | PlainTextResponse:
        """The decision letter (vedtak) as JSON (structured and Markdown) or as Markdown text."""
        result = service.letter(case_id, user.actor)
        if format == "markdown":
            return PlainTextResponse(result.markdown, media_type="text/markdown; charset=utf-8")
        return {"case_id": result.case_id, "data": result.data, "markdown": result.markdown}

    @router.get("/cases/{case_id}/invoice", tags=["cases"])
    def invoice(case_id: str, user: CurrentUser) -> JSONDict:
        """The issued invoice, or a draft from the hours recorded so far (number 'draft')."""
        return _obj(service.invoice(case_id, user.actor))

    @router.get("/cases/{case_id}/diff", tags=["cases"])
    def case_diff(case_id: str, user: CurrentUser) -> list[JSONDict]:
        """What a change or new-period application changes against the approved case."""
        return [to_json(c) for c in service.diff(case_id, user.actor)]

    @router.get("/cases/{case_id}/verify", tags=["cases"])
    def verify(case_id: str, user: Annotated[User, Depends(staff)]) -> JSONDict:
        """Check the case's hash chain (staff only)."""
        report = service.verify(case_id)[0]
        return {**to_json(report), "ok": report.ok}

    @router.get("/statistics", tags=["cases"])
    def stats(user: Annotated[User, Depends(staff)]) -> JSONDict:
        """Processing times (median, 90th percentile), share decided within 30 days, cases per status."""
        return _obj(service.statistics())

    @router.get("/cases/{case_id}/risk-preview", tags=["cases"])
    def risk_preview(case_id: str, request: Request, user: CurrentUser) -> JSONDict:
        """The case's quasi-identifiers measured per person on the synthetic register (no real data),
        as if everything it asks for were granted, and the coarsenings that would make it anonymous."""
        case = service.get(case_id, user.actor)
        preview: JSONDict = request.app.state.previews.risk(case).to_dict()
        return preview

    @router.post("/cases/{case_id}/counter-preview", tags=["cases"])
    def counter_preview(
        case_id: str, request: Request, user: CurrentUser, plan: Annotated[JSONDict, Body()]
    ) -> JSONDict:
        """What an anonymisation plan (a counter-proposal) would do, before it is filed: suppressed
        persons, risk and loss on the case's linked extract, else on the synthetic register (`basis`)."""
        case = service.get(case_id, user.actor)
        answer: JSONDict = request.app.state.previews.counter(case, plan).to_dict()
        return answer

    @router.post("/cases/{case_id}/attachments", tags=["commands"])
    def add_attachment(
        case_id: str,
        request: Request,
        user: CurrentUser,
        kind: Annotated[str, Form(description="rek_approval, dpia, register_decision or other")],
        file: Annotated[UploadFile, File(description="the PDF (at most 10 MiB)")],
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONDict:
        """Attach a PDF (multipart upload): checked, stored by its SHA-256, recorded as AttachmentAdded."""
        from iplos.web._pages_attachments import attach, read_upload, store_of

        service.get(case_id, user.actor)
        store = store_of(request)
        if store is None:
            raise HTTPException(409, "this server keeps no attachments")
        filename, data = read_upload(file)
        attach(service, store, case_id, user, kind, filename, data, _version(if_match))
        return _obj(service.get(case_id, user.actor).attachments[-1])

    @router.get("/rate-card", tags=["reference"])
    def rate_card(user: CurrentUser) -> JSONDict:
        """The hourly rates offers and invoices are priced with."""
        return _obj(service.rate_card)

    @router.get("/permissions", tags=["reference"])
    def permissions(user: CurrentUser) -> JSONDict:
        """Which role may give which command in which status."""
        return {role: {s: sorted(c) for s, c in table.items() if c} for role, table in PERMISSIONS.items()}

    for name, command_type in COMMAND_TYPES.items():
        if command_type not in (CreateDraft, AddAttachment):  # an attachment comes as an upload
            router.add_api_route(
                f"/cases/{{case_id}}/{name}",
                _command_endpoint(service, command_type, current_user),
                methods=["POST"],
                tags=["commands"],
                name=name,
                summary=name.replace("_", " ").capitalize(),
                description=inspect.getdoc(command_type) or "",
            )
    return router


def _command_endpoint(
    service: CaseService, command_type: type[Command], current_user: Callable[..., User]
) -> Callable[..., JSONDict]:
    """A route function for one command, with a signature FastAPI can read (body = the command)."""
    has_body = bool(dataclasses.fields(command_type))

    def endpoint(case_id: str, user: User, if_match: str | None, body: Command | None = None) -> JSONDict:
        command = body if body is not None else command_type()
        actor = Actor(user.username, user.role)
        return _obj(service.execute(case_id, command, actor, expected_version=_version(if_match)))

    params = [
        inspect.Parameter("case_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        inspect.Parameter(
            "user", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=User, default=Depends(current_user)
        ),
        inspect.Parameter(
            "if_match",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=str | None,
            default=Header(None, description="The case version you read; refused (409) if it moved on"),
        ),
    ]
    if has_body:
        params.append(
            inspect.Parameter(
                "body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=command_type, default=Body(...)
            )
        )
    endpoint.__signature__ = inspect.Signature(params, return_annotation=JSONDict)  # type: ignore[attr-defined]
    endpoint.__name__ = command_type.command_name
    return endpoint
