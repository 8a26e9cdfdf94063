"""Helpers of the page tests: a browser-like client per user (cookies, CSRF token from the page)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from iplos.cases import CaseService
from iplos.cases.examples import ManualClock
from iplos.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from web_helpers import PASSWORD, T0, USERS  # type: ignore[import-not-found]

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


class Visitor:
    """One browser: its own cookies; `post` sends the CSRF token of the last page it saw."""

    def __init__(self, app: Any, lang: str = "en") -> None:
        self.client = TestClient(app, base_url="http://testserver", follow_redirects=True)
        self.client.headers["Accept-Language"] = lang
        self.csrf = ""
        self.last: httpx.Response | None = None
        self.username: str | None = None

    def get(self, path: str, **params: Any) -> httpx.Response:
        response = self.client.get(path, params=params)
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True) -> httpx.Response:
        if csrf and not self.csrf:
            self.get("/login")
        fields = {**(data or {}), **({"csrf_token": self.csrf} if csrf else {})}
        response = self.client.post(path, data=fields)
        self._remember(response)
        return response

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.username = username
        return response

    def _remember(self, response: httpx.Response) -> None:
        self.last = response
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)

    def close(self) -> None:
        self.client.close()


class Site:
    """The app over one SQLite case store with the test users, and a visitor per user."""

    def __init__(self, path: Path) -> None:
        self.clock = ManualClock(T0)
        self.service = CaseService(f"sqlite:///{path / 'cases.db'}", now=self.clock)
        for name, role in USERS.items():
            self.service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
        self.deliveries = path / "deliveries"
        self.app = create_app(self.service, deliveries=self.deliveries)
        self.visitors: list[Visitor] = []

    def visitor(self, username: str | None = None, lang: str = "en") -> Visitor:
        v = Visitor(self.app, lang)
        self.visitors.append(v)
        if username is not None:
            v.login(username)
        return v

    def advance(self, days: float) -> None:
        """Move the clock by days; sessions last 12 hours, so everyone logs in again."""
        self.clock.advance(days=days)
        for v in self.visitors:
            if v.username is not None:
                v.login(v.username)

    def close(self) -> None:
        for v in self.visitors:
            v.close()
        self.service.close()


def make_site(path: Path) -> Iterator[Site]:
    site = Site(path)
    yield site
    site.close()
