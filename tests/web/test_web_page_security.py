"""The pages' defences: CSRF on every POST, output escaping of hostile text, roles and sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pages_helpers import Site, make_site  # type: ignore[import-not-found]

from iplos.cases import LinkageRequest, Project
from iplos.cases.examples import Cast, drive, example_application
from iplos.web._pages import ROUTERS

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


def page_posts() -> list[str]:
    """Every POST path of the pages, with sample path parameters."""
    paths = []
    for build in ROUTERS:
        for route in build().routes:
            if isinstance(route, APIRoute) and "POST" in route.methods:
                paths.append(route.path)
    return paths


def test_every_page_post_demands_the_csrf_token(site: Site) -> None:
    case = drive(site.service, "under_review")
    kari, ada = site.visitor("kari"), site.visitor("ada")
    posts = page_posts()
    assert len(posts) >= 10 and "/login" in posts and "/app/cases/{case_id}/do/{command}" in posts
    for path in posts:
        concrete = (
            path.replace("{case_id}", case.case_id)
            .replace("{command}", "withdraw")
            .replace("{username}", "per")
        )
        for who in (kari, ada):
            without = who.client.post(
                concrete, data={"reason": "forged", "username": "kari", "password": "x"}
            )
            assert without.status_code == 403, (concrete, without.status_code)
            forged = who.client.post(concrete, data={"csrf_token": "0" * 64, "reason": "forged"})
            assert forged.status_code == 403, concrete
    assert site.service.get(case.case_id).status == "under_review"
    assert site.service.users.get("per") is not None and site.service.users.get("per").active  # type: ignore[union-attr]


def test_a_token_from_another_browser_is_refused(site: Site) -> None:
    kari, per = site.visitor("kari"), site.visitor("per")
    theirs = per.csrf
    assert kari.client.post("/app/cases", data={"csrf_token": theirs}).status_code == 403
    assert kari.post("/app/cases").status_code == 200


def test_hostile_text_is_shown_as_text(site: Site) -> None:
    content = example_application(site.clock().date(), members=("ola",))
    content = replace(
        content,
        project=replace(content.project, title=HOSTILE, institution=HOSTILE, leader=HOSTILE),
        variables=(*content.variables[:-1], replace(content.variables[-1], justification=HOSTILE * 2)),
        linkages=(LinkageRequest("dar", HOSTILE, HOSTILE),),
        storage_security=HOSTILE,
    )
    site.service.users.create("evil-user", "correct horse battery staple", "applicant", display_name=HOSTILE)
    case = drive(site.service, "under_review", application=content)
    site.service.return_to_applicant(case.case_id, Cast().reviewer, [HOSTILE])
    pages = {
        "kari": [f"/app/cases/{case.case_id}", f"/app/cases/{case.case_id}/edit", "/app"],
        "rita": ["/app/queue", f"/app/cases/{case.case_id}"],
        "ada": ["/app/admin/users", "/app/admin/audit"],
        "evil-user": ["/app"],
    }
    for user, paths in pages.items():
        visitor = site.visitor(user)
        for path in paths:
            html = visitor.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, (user, path)
            assert "&lt;script&gt;" in html or user in ("ada",) or path == "/app", (user, path)
    assert "&lt;script&gt;" in site.visitor("ada").get("/app/admin/users").text


def test_hostile_text_in_an_approved_case_on_the_public_page(site: Site) -> None:
    content = example_application(site.clock().date())
    content = replace(content, project=Project(**{**content.project.__dict__, "title": HOSTILE}))
    drive(site.service, "approved", application=content)
    html = site.visitor(None).get("/transparency").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_hostile_search_and_query_text(site: Site) -> None:
    kari = site.visitor("kari")
    html = kari.get("/app/catalogue", q=HOSTILE).text
    assert "<script>alert" not in html
    missing = kari.get("/app/catalogue/iplos/<b>x<i>")
    assert missing.status_code == 404 and "<b>x" not in missing.text
    assert re.search(r"&lt;b&gt;x&lt;i&gt;", missing.text)


def test_variable_names_from_a_form_are_checked(site: Site) -> None:
    kari = site.visitor("kari")
    cid = kari.post("/app/cases").url.path.split("/")[3]
    refused = kari.post(f"/app/cases/{cid}/cart", {"register": "keyholder", "name": "fnr"})
    assert refused.status_code in (404, 422)
    assert site.service.get(cid).content.variables == ()


def test_login_is_throttled_after_five_failures(site: Site) -> None:
    v = site.visitor(None)
    v.get("/login")
    for _ in range(5):
        assert v.post("/login", {"username": "kari", "password": "not the password"}).status_code == 401
    blocked = v.post("/login", {"username": "kari", "password": "correct horse battery staple"})
    assert blocked.status_code == 429 and "Try again in 15 minutes" in blocked.text
    assert site.service.users.check_password("kari", "correct horse battery staple") is not None
    other = v.post("/login", {"username": "rita", "password": "correct horse battery staple"})
    assert other.status_code == 429  # the same client address is held back too
    site.clock.advance(hours=0.27)  # 16 minutes: the oldest failure has left the window
    assert (
        v.post("/login", {"username": "kari", "password": "correct horse battery staple"}).status_code == 200
    )


def test_templates_have_no_inline_script_or_style() -> None:
    """So a Content-Security-Policy of 'self' for scripts and styles holds for every page."""
    from importlib.resources import files

    for template in (files("iplos.web") / "templates").iterdir():
        text = template.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template.name
