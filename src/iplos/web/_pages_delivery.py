"""Downloading a delivery: the files of a delivered case, checked against its manifest first.

A delivery is the folder `<deliveries>/<case id>/<delivery id>/` with `MANIFEST.sha256` (lines
`<sha256>  <file name>`); the case records the manifest's own SHA-256 (`record_delivery`). A file
is served only when the manifest still hashes to what the case recorded and the file to what the
manifest says, so a changed or swapped file is refused (409), never handed out. Only the case's
applicants (owner and project members) and the processor may download, and only while the case
is delivered or invoiced (after the deletion is confirmed there is nothing to fetch).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from iplos.cases import Case, User
from iplos.web._render import PageUser, render, require, service_of

MANIFEST = "MANIFEST.sha256"
DOWNLOADABLE = ("delivered", "invoiced")
_LINE = re.compile(r"^([0-9a-f]{64})\s+\*?(.+)$")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder(request: Request, user: User, case_id: str, delivery_id: str) -> tuple[Case, Path]:
    require(user, "applicant", "processor")
    case = service_of(request).get(case_id, user.actor)
    recorded = next((d for d in case.deliveries if d.delivery_id == delivery_id), None)
    root: Path | None = request.app.state.deliveries
    if recorded is None or root is None:
        raise HTTPException(404, f"case {case_id} has no delivery {delivery_id!r} here")
    if case.status not in DOWNLOADABLE:
        raise HTTPException(409, f"case {case_id} is {case.status}: the delivery can no longer be downloaded")
    folder = (root / case_id / delivery_id).resolve()
    if root.resolve() not in folder.parents or not (folder / MANIFEST).is_file():
        raise HTTPException(404, f"the files of delivery {delivery_id!r} are not on this server")
    if sha256_of(folder / MANIFEST) != recorded.manifest_sha256:
        raise HTTPException(
            409, f"the manifest of delivery {delivery_id!r} differs from the one recorded on the case"
        )
    return case, folder


def manifest_entries(folder: Path) -> dict[str, str]:
    """File name -> SHA-256, from the manifest (a line that is no manifest line is an error)."""
    entries: dict[str, str] = {}
    for n, line in enumerate((folder / MANIFEST).read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line.strip())
        if m is None:
            raise HTTPException(409, f"{MANIFEST} line {n} is not '<sha256>  <file>'")
        entries[m.group(2)] = m.group(1)
    return entries


def build_delivery_router() -> APIRouter:
    router = APIRouter(prefix="/app/cases", include_in_schema=False)

    @router.get("/{case_id}/deliveries/{delivery_id}", response_class=HTMLResponse)
    def listing(request: Request, user: PageUser, case_id: str, delivery_id: str) -> Response:
        case, folder = _folder(request, user, case_id, delivery_id)
        entries = manifest_entries(folder)
        files = [
            {
                "name": name,
                "sha256": digest,
                "size": (folder / name).stat().st_size if (folder / name).is_file() else None,
            }
            for name, digest in sorted(entries.items())
        ]
        return render(
            request,
            "delivery.html.j2",
            user=user,
            case=case,
            delivery_id=delivery_id,
            files=files,
            manifest=MANIFEST,
        )

    @router.get("/{case_id}/deliveries/{delivery_id}/{name}")
    def download(request: Request, user: PageUser, case_id: str, delivery_id: str, name: str) -> Response:
        _, folder = _folder(request, user, case_id, delivery_id)
        if name == MANIFEST:
            return FileResponse(folder / MANIFEST, filename=MANIFEST, media_type="text/plain")
        entries = manifest_entries(folder)
        if name not in entries or "/" in name or "\\" in name or name.startswith("."):
            raise HTTPException(404, f"{name!r} is not a file of delivery {delivery_id!r}")
        path = folder / name
        if not path.is_file() or sha256_of(path) != entries[name]:
            raise HTTPException(409, f"{name} differs from its manifest line: not handed out")
        return FileResponse(path, filename=name, media_type="application/octet-stream")

    return router
