"""Attachments on the case page: upload a PDF (REK approval, DPIA, another register's decision) and
open one attached.

The file is checked (`check_pdf`), stored content-addressed (`AttachmentStore`), then recorded as
an `AttachmentAdded` event with its SHA-256; a file stored whose command is refused stays in the
store unreferenced (it is named by its content, so it can do no harm and a retry reuses it). A file
is served only to those who may see the case, only if the case lists it, and only while it still
hashes to the SHA-256 the case recorded.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from iplos.cases import (
    ATTACHMENT_KINDS,
    CaseService,
    CommandRefused,
    ConcurrencyError,
    PermissionDenied,
    User,
)
from iplos.cases.commands import AddAttachment
from iplos.errors import IplosError, Problem
from iplos.web._attachments import FIELD, MAX_ATTACHMENT, AttachmentStore, check_pdf
from iplos.web._render import PageUser, PostedForm, redirect, service_of


def store_of(request: Request) -> AttachmentStore | None:
    store: AttachmentStore | None = request.app.state.attachments
    return store


def safe_filename(name: str) -> str:
    """The upload's own name without any path, and only characters safe in a header."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = re.sub(r"[^\w.\- ()æøåÆØÅ]", "_", base)[:200]
    return base or "attachment.pdf"


def attach(
    service: CaseService,
    store: AttachmentStore,
    case_id: str,
    user: User,
    kind: str,
    filename: str,
    data: bytes,
    expected_version: int | None = None,
) -> None:
    """Check, store and record one attachment (IplosError with the problem at its field if refused)."""
    if kind not in ATTACHMENT_KINDS:
        raise IplosError(
            "choose the kind of document",
            [Problem(f"not one of {', '.join(ATTACHMENT_KINDS)}", column="attachment.kind", value=kind)],
        )
    name = safe_filename(filename)
    pages = check_pdf(data, name)
    digest = store.put(data)
    command = AddAttachment(kind, name, digest, len(data), pages)
    service.execute(case_id, command, user.actor, expected_version=expected_version)


def read_upload(upload: object) -> tuple[str, bytes]:
    """The name and at most one byte more than the limit of an uploaded file (so a larger one is seen)."""
    if not isinstance(upload, UploadFile):
        raise IplosError("choose a PDF file", [Problem("no file was chosen", column=FIELD)])
    return upload.filename or "", upload.file.read(MAX_ATTACHMENT + 1)


def build_attachments_router() -> APIRouter:
    router = APIRouter(prefix="/app/cases", include_in_schema=False)

    @router.post("/{case_id}/attachments", response_class=HTMLResponse)
    def upload(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        from iplos.web._pages_case import _failure, _version, case_page

        service = service_of(request)
        service.get(case_id, user.actor)  # 404 first for a case the user may not see
        store = store_of(request)
        if store is None:
            raise HTTPException(409, "this server keeps no attachments")
        try:
            filename, data = read_upload(form.get("file"))
            attach(service, store, case_id, user, str(form.get("kind", "")), filename, data, _version(form))
        except (CommandRefused, ConcurrencyError, PermissionDenied) as exc:
            return _failure(request, user, case_id, exc)
        except IplosError as exc:
            return case_page(
                request, user, case_id, error=exc.message, problems=exc.problems, status_code=422
            )
        return redirect(f"/app/cases/{case_id}#attachments")

    @router.get("/{case_id}/attachments/{sha256}")
    def download(request: Request, user: PageUser, case_id: str, sha256: str) -> Response:
        case = service_of(request).get(case_id, user.actor)
        found = next((a for a in case.attachments if a.sha256 == sha256), None)
        store = store_of(request)
        if found is None or store is None:
            raise HTTPException(404, "no such attachment on this case")
        data = store.read(sha256)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
        )

    return router
