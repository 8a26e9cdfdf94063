"""Sessions and CSRF protection for the pages (the JSON API uses bearer tokens and needs neither).

A login issues an opaque token from the user store (only its SHA-256 is stored, it expires and
can be revoked) and puts it in the `iplos_session` cookie: HttpOnly, SameSite=Lax, and Secure when
the request came over https. Every form carries `csrf_token`, an HMAC of the per-browser
`iplos_csrf` cookie under the app's secret; every POST to a page is refused (403) unless the
field matches the cookie (`checked_form`). A forged cross-site form cannot read the cookie nor
compute the HMAC, and SameSite keeps the session cookie off cross-site POSTs besides.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request, Response
from starlette.datastructures import FormData

from iplos.cases import User, UserStore

SESSION_COOKIE = "iplos_session"
CSRF_COOKIE = "iplos_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "lang"


class Sessions:
    """Cookie sessions over the user store's tokens, and the CSRF tokens that go with them."""

    def __init__(
        self, users: UserStore, secret: bytes | None = None, now: Callable[[], datetime] | None = None
    ) -> None:
        self.users = users
        self.secret = secret or secrets.token_bytes(32)
        self.throttle = LoginThrottle(now or (lambda: datetime.now(UTC)))

    def user(self, request: Request) -> User | None:
        """The logged-in user, or None (no cookie, expired, revoked or disabled)."""
        token = request.cookies.get(SESSION_COOKIE)
        return self.users.user_for_token(token) if token else None

    def csrf_seed(self, request: Request) -> str:
        """This browser's CSRF cookie value, made (and stored on the request) when it has none."""
        seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
        if not seed:
            seed = secrets.token_urlsafe(32)
            request.state.csrf_seed = seed
            request.state.csrf_new = True
        return str(seed)

    def csrf_token(self, request: Request) -> str:
        """The value every form of this browser must send back in `csrf_token`."""
        return hmac.new(self.secret, self.csrf_seed(request).encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, form: FormData) -> None:
        """Refuse (403) a POST whose CSRF field does not belong to this browser's cookie."""
        seed = request.cookies.get(CSRF_COOKIE)
        sent = form.get(CSRF_FIELD)
        if not seed or not isinstance(sent, str):
            raise HTTPException(403, "missing CSRF token: reload the page and try again")
        expected = hmac.new(self.secret, seed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sent):
            raise HTTPException(403, "invalid CSRF token: reload the page and try again")

    def finish(self, request: Request, response: Response) -> Response:
        """Set the CSRF cookie on the response when this request made one."""
        if getattr(request.state, "csrf_new", False):
            _set(request, response, CSRF_COOKIE, request.state.csrf_seed)
        return response

    def log_in(self, request: Request, response: Response, user: User) -> None:
        """Start a session (and a fresh CSRF cookie, so a token seen before login is worthless)."""
        _set(request, response, SESSION_COOKIE, self.users.issue_token(user.username))
        _set(request, response, CSRF_COOKIE, secrets.token_urlsafe(32))

    def log_out(self, request: Request, response: Response) -> None:
        """End the session: revoke its token and clear the cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self.users.revoke_token(token)
        response.delete_cookie(SESSION_COOKIE, path="/")


class LoginThrottle:
    """At most `limit` failed logins per username and per client address within `window`.

    Past the limit a login is refused without checking the password until the oldest failure
    leaves the window, so guessing costs an attacker the window per `limit` guesses; a success
    clears the username's count. Kept in memory: one process, as `iplos serve` runs.
    """

    def __init__(
        self, now: Callable[[], datetime], limit: int = 5, window: timedelta = timedelta(minutes=15)
    ) -> None:
        self.now, self.limit, self.window = now, limit, window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] >= self.window:
            found.popleft()
        return found

    def wait(self, keys: Iterable[str]) -> timedelta | None:
        """How long these keys must wait before the next try, or None if they may try now."""
        now = self.now()
        with self._lock:
            longest: timedelta | None = None
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self.limit:
                    left = recent[0] + self.window - now
                    longest = left if longest is None or left > longest else longest
            return longest

    def failed(self, keys: Iterable[str]) -> None:
        now = self.now()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)


def login_keys(request: Request, username: str) -> tuple[str, str]:
    """The throttle's keys of a login attempt: the username tried and the client address."""
    host = request.client.host if request.client else "unknown"
    return f"user:{username.lower()}", f"addr:{host}"


def secure(request: Request) -> bool:
    """Whether the request came over https (then cookies get the Secure flag)."""
    return request.url.scheme == "https"


def _set(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=secure(request), path="/", max_age=12 * 3600
    )


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after the CSRF check (a FastAPI dependency of every page POST)."""
    sessions: Sessions = request.app.state.sessions
    form = await request.form()
    sessions.check_csrf(request, form)
    return form
