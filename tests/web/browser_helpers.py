"""Helpers of the browser tests: Debian's chromium under Playwright, a live server, axe-core.

Playwright cannot download its own browser here, so it drives the `chromium` apt package
(`executable_path` from `which chromium`). Without chromium the browser tests skip, except in CI
(`CI=true`), where they fail: `.ci/run` installs it. axe-core is the `axe.min.js` that the
`axe-playwright-python` package ships (pinned in constraints.txt).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from iplos.cases import CaseService
from iplos.web import create_app

PASSWORD = "correct horse battery staple"
USERS = {"kari": "applicant", "rita": "reviewer", "sven": "processor", "ada": "administrator"}
NAMES = {
    "kari": "Kari Nordmann",
    "rita": "Rita Saksbehandler",
    "sven": "Sven Statistiker",
    "ada": "Ada Admin",
}
SERIOUS = ("serious", "critical")


def chromium_path() -> str:
    """The chromium binary, or skip (fail in CI) when there is none."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: install chromium (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def axe_source() -> Path:
    return Path(str(files("axe_playwright_python") / "axe.min.js"))


@dataclass
class LiveServer:
    url: str
    service: CaseService
    deliveries: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def live_server(path: Path, **app_options: Any) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 in a thread, over a SQLite case store with one user per role
    (`app_options` go to `create_app`: previews, attachments, ...)."""
    service = CaseService(f"sqlite:///{path / 'cases.db'}")
    for name, role in USERS.items():
        service.users.create(name, PASSWORD, role, NAMES[name])  # type: ignore[arg-type]
    port = _free_port()
    deliveries = path / "deliveries"
    app = create_app(service, deliveries=deliveries, **app_options)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start within 20 s")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", service, deliveries)
    server.should_exit = True
    thread.join(timeout=10)
    service.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_source()))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]
