"""The messages page: each person sees the notifications they were sent, in the app, and sets their
e-mail address and language; hostile titles are shown as text; the page is there in nb and en."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import Site, make_site  # type: ignore[import-not-found]

from iplos.cases.examples import drive, example_application
from iplos.web._messages import MESSAGES


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


def test_each_person_sees_their_messages(site: Site) -> None:
    app = example_application(site.clock().date(), members=("ola",))
    hostile = '<script>alert("x")</script>'
    app = dataclasses.replace(app, project=dataclasses.replace(app.project, title=hostile))
    case = drive(site.service, "approved", application=app)
    kari = site.visitor("kari", "en")
    page = kari.get("/app/messages")
    assert page.status_code == 200
    assert f"/app/cases/{case.case_id}" in page.text
    assert "Søknaden" in page.text  # the messages are in kari's language (bokmål by default)
    assert hostile not in page.text and "&lt;script&gt;" in page.text
    assert "Messages" in page.text and "here only" in page.text  # the page itself in English
    # the reviewer sees the submission, not the applicant's receipt
    rita_page = site.visitor("rita", "nb").get("/app/messages")
    assert "Ny søknad" in rita_page.text and "mottatt" not in rita_page.text
    assert "Dine meldinger" in rita_page.text


def test_setting_the_address_and_language(site: Site) -> None:
    kari = site.visitor("kari", "nb")
    kari.get("/app/messages")
    response = kari.post("/app/messages/contact", {"email": "kari@example.no", "language": "en"})
    assert response.status_code == 200
    assert site.service.outbox.contact("kari").email == "kari@example.no"
    assert site.service.outbox.contact("kari").language == "en"
    bad = kari.post("/app/messages/contact", {"email": "<b>x", "language": "nb"})
    assert bad.status_code == 422 and "&lt;b&gt;x" in bad.text
    assert site.service.outbox.contact("kari").email == "kari@example.no"
    # later messages come in the chosen language, and by e-mail
    drive(site.service, "submitted")
    [row] = site.service.outbox.for_user("kari")
    assert row.language == "en" and row.status == "pending" and row.email == "kari@example.no"


def test_the_contact_form_needs_the_csrf_token(site: Site) -> None:
    kari = site.visitor("kari")
    kari.get("/app/messages")
    assert kari.post("/app/messages/contact", {"email": "a@b.no"}, csrf=False).status_code == 403
    assert site.service.outbox.contact("kari").email is None


def test_messages_page_needs_a_login(site: Site) -> None:
    anonymous = site.visitor()
    page = anonymous.get("/app/messages")
    assert page.url.path == "/login"


def test_every_messages_key_in_both_languages() -> None:
    keys = [k for k in MESSAGES["nb"] if k.startswith("messages.") or k == "nav.messages"]
    assert len(keys) >= 15
    for key in keys:
        assert MESSAGES["nb"][key] and MESSAGES["en"][key], key
    for status in ("pending", "sending", "sent", "failed", "app_only"):
        assert f"messages.status.{status}" in MESSAGES["en"]
