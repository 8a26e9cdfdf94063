"""Protections every response and request of the web application gets, for the API and pages alike.

`SecurityMiddleware` (pure ASGI, so it sees the raw body before any route):

| what | how |
|---|---|
| body size | `Content-Length` above `max_body` bytes (`max_upload` for an attachment upload), or a streamed body that grows past it: 413 |
| text that cannot be stored | a JSON or form body that is not UTF-8, or holds a lone surrogate, NUL or another control character in any string or field name: 400 naming the field; same for the path and the query string |
| headers on every response | `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, a `Content-Security-Policy` (with `frame-ancestors 'none'`), `Referrer-Policy: no-referrer`, `Cache-Control: no-store` unless the app set one, `Strict-Transport-Security` when the request came over https; no `Server` header |

`LoginThrottle` counts failed logins per account and per client address in a sliding window; once
either is over its limit, logins from there are refused with 429 and `Retry-After`, even with the
right password, until the window has passed. Counters live in the process (one server process
per deployment behind the proxy; several processes each keep their own).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from iplos.errors import text_problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 1_000_000
"""Bytes a request body may have (an application with its variables is a few tens of kB)."""
MAX_UPLOAD = 10 * 1024 * 1024 + 64 * 1024
"""Bytes of an attachment upload (`.../cases/{id}/attachments`): a 10 MiB PDF and its form."""
_UPLOAD_PATH = re.compile(r"^/(app|api)/cases/[^/]+/attachments$")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)
"""FastAPI's /docs page loads Swagger UI from its CDN with an inline start script."""
HSTS = "max-age=63072000; includeSubDomains"


def _json_error(status: int, detail: str, **extra: str) -> tuple[int, bytes]:
    return status, json.dumps({"detail": detail, "error": "BadRequest", **extra}).encode("utf-8")


def _walk(value: object, where: str) -> str | None:
    """The first field whose text cannot be stored, with why."""
    if isinstance(value, str):
        why = text_problem(value)
        return f"{where or 'body'}: the text {why}" if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            why = text_problem(key)
            if why:
                return f"{where or 'body'}: a field name {why}"
            found = _walk(item, f"{where}.{key}" if where else key)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, f"{where}[{index}]")
            if found:
                return found
    return None


def body_problem(content_type: str, body: bytes) -> str | None:
    """Why a request body cannot be accepted (None when it can): not UTF-8, or unstorable text."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ("application/json", "application/x-www-form-urlencoded") and not kind.endswith("+json"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 (byte {exc.start})"
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            return "a form field is not UTF-8"
        return _walk(dict(pairs), "")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None  # the route answers 422 for malformed JSON
    return _walk(value, "")


def _url_problem(scope: Scope) -> str | None:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    for part, data in (("path", raw_path), ("query string", query)):
        try:
            text = unquote(data.decode("ascii", "strict"), errors="strict")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return f"the {part} is not UTF-8"
        why = text_problem(text)
        if why:
            return f"the {part} {why}"
    return None


@dataclass
class SecurityMiddleware:
    """Headers on every response, a bounded body, and refusal of text no store can keep."""

    app: ASGIApp
    max_body: int = MAX_BODY
    max_upload: int = MAX_UPLOAD
    csp: str = PAGE_CSP
    api_prefix: str = "/api"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        https = scope.get("scheme") == "https"
        send = self._with_headers(send, path, https)
        problem = _url_problem(scope)
        if problem:
            await _answer(send, *_json_error(400, problem))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.max_upload if _UPLOAD_PATH.match(path) else self.max_body
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await _answer(send, *_json_error(400, "Content-Length is not a number"))
                return
            if int(length) > limit:
                await _answer(send, *_too_large(limit))
                return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and length in (None, "0"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, *_too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(headers.get("content-type", ""), body)
        if problem:
            await _answer(send, *_json_error(400, problem))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _with_headers(self, send: Send, path: str, https: bool) -> Send:
        if path.startswith(self.api_prefix):
            csp = API_CSP
        elif path in ("/docs", "/redoc") or path.startswith("/docs/"):
            csp = DOCS_CSP
        else:
            csp = self.csp

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in raw}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"content-security-policy": csp.encode(),
                    b"referrer-policy": b"no-referrer",
                    b"cache-control": b"no-store",
                }
                if https:
                    extra[b"strict-transport-security"] = HSTS.encode()
                raw.extend((k, v) for k, v in extra.items() if k not in present)
                message["headers"] = raw
            await send(message)

        return wrapped


def _too_large(limit: int) -> tuple[int, bytes]:
    return _json_error(413, f"the request body is larger than {limit:,} bytes")


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@dataclass
class LoginThrottle:
    """Failed logins per account and per client in a sliding window; over the limit, wait.

    Defaults: 5 failures per account or 20 per client address in 15 minutes.
    """

    per_account: int = 5
    per_client: int = 20
    window: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _keys(self, username: str, client: str) -> list[tuple[str, int]]:
        return [
            (f"account:{username.strip().lower()}", self.per_account),
            (f"client:{client}", self.per_client),
        ]

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until a login may be tried again (0: now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, client):
                times = self._failures.get(key)
                if not times:
                    continue
                while times and times[0] <= now - self.window:
                    times.popleft()
                if len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + self.window - now)
        return math.ceil(wait)

    def failed(self, username: str, client: str) -> None:
        """Record a failed login."""
        now = self.clock()
        with self._lock:
            for key, limit in self._keys(username, client):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > limit:
                    times.popleft()
            if len(self._failures) > 100_000:  # bounded memory under a spray of usernames
                self._failures.clear()

    def succeeded(self, username: str) -> None:
        """A right password clears the account's failures (not the client's)."""
        with self._lock:
            self._failures.pop(f"account:{username.strip().lower()}", None)


__all__ = ["MAX_BODY", "LoginThrottle", "SecurityMiddleware", "body_problem"]
