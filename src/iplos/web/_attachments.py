"""PDF attachments: checked (magic bytes, parsed by pypdf, size-limited) and stored by their SHA-256.

`check_pdf(data, filename)` gives the page count or raises `IplosError` with the problem at
`attachment.file`. `AttachmentStore(root)` keeps each file once, at `<root>/<aa>/<sha256>.pdf`
(content-addressed; written atomically), and reads it back only if it still hashes to its name.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from iplos.atomic import write_bytes_atomic
from iplos.errors import IplosError, Problem

MAX_ATTACHMENT = 10 * 1024 * 1024
"""Bytes an attachment may have (10 MiB: a scanned approval letter is well under)."""
FIELD = "attachment.file"


def _refuse(message: str, rule: str, filename: str) -> IplosError:
    return IplosError(message, [Problem(message, column=FIELD, value=filename, rule=rule)])


def check_pdf(data: bytes, filename: str, max_bytes: int = MAX_ATTACHMENT) -> int:
    """The number of pages of a PDF upload; every reason it is refused named at `attachment.file`."""
    if not data:
        raise _refuse("the file is empty", "attachment_empty", filename)
    if len(data) > max_bytes:
        raise _refuse(
            f"the file has {len(data):,} bytes, more than the {max_bytes:,} allowed",
            "attachment_size",
            filename,
        )
    if not data.startswith(b"%PDF-"):
        raise _refuse("the file is not a PDF (it does not start with %PDF-)", "attachment_not_pdf", filename)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse(
                "the PDF is encrypted; attach it without a password", "attachment_encrypted", filename
            )
        pages = len(reader.pages)
    except IplosError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise _refuse(
            f"the PDF cannot be read ({type(exc).__name__})", "attachment_not_pdf", filename
        ) from None
    if pages < 1:
        raise _refuse("the PDF has no pages", "attachment_not_pdf", filename)
    return pages


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AttachmentStore:
    """Attachments as files named by their SHA-256 under one folder (each content stored once)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise IplosError(f"not a SHA-256: {sha256[:80]!r}")
        return self.root / sha256[:2] / f"{sha256}.pdf"

    def put(self, data: bytes) -> str:
        """Store `data` (atomically, once) and return its SHA-256."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if not (target.exists() and sha256_hex(target.read_bytes()) == digest):
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(target, data)
        return digest

    def read(self, sha256: str) -> bytes:
        """The stored file, refused if it is missing or no longer hashes to its name."""
        target = self.path(sha256)
        if not target.is_file():
            raise IplosError(f"attachment {sha256[:12]}... is not in the store")
        data = target.read_bytes()
        if sha256_hex(data) != sha256:
            raise IplosError(f"attachment {sha256[:12]}... has changed since it was stored; it is not served")
        return data
