"""The applicant's additions in a real browser (Debian's chromium under Playwright), in bokmål and
English: composing with the risk preview (and its in-place update under the CSP), attaching a PDF,
the counter-proposal with its consequences before filing, the decision letter as PDF; axe-core
finds no serious or critical WCAG 2.1 AA violation on these pages.

Set IPLOS_SCREENSHOTS=<folder> to keep a screenshot of each page (docs/screenshots/ is made so).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import LiveServer, axe_violations, live_server  # type: ignore[import-not-found]
from fpdf import FPDF
from pypdf import PdfReader
from test_web_browser import Person, browser  # type: ignore[import-not-found]  # noqa: F401 (the fixture)

from iplos.cases.examples import drive
from iplos.preview import Previews, SyntheticRegister

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, preview_register: SyntheticRegister
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("browser-applicant")
    yield from live_server(root, previews=Previews(preview_register), attachments=root / "attachments")


def check(person: Person, name: str, part: str) -> None:
    """axe in both languages on these pages (`Person.check` runs it in nb); the screenshot shows
    the new part of the page (`part`, a selector) rather than its top."""
    person.check(name)
    if person.lang == "en":
        found = axe_violations(person.page)
        assert not found, f"{name} (en): {found}"
    folder = os.environ.get("IPLOS_SCREENSHOTS")
    if folder:
        person.page.locator(part).first.screenshot(path=str(Path(folder) / f"{name}-{person.lang}.png"))


def rek_pdf(tmp: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, "REK sor-ost 2025/12345: godkjent")
    path = tmp / "REK-vedtak.pdf"
    path.write_bytes(bytes(pdf.output()))
    return path


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_applicant_composes_attaches_counters_and_reads_the_letter(
    browser: Any,  # noqa: F811 (the fixture imported from test_web_browser)
    server: LiveServer,
    lang: str,
    tmp_path: Path,
) -> None:
    kari = Person(browser, server, "kari", lang)
    page = kari.page
    cid = drive(server.service, "draft").case_id

    # composing: save and show the risk on the synthetic register
    kari.go(f"/app/cases/{cid}/edit")
    with page.expect_navigation():
        page.click("button[name=action][value=preview]")
    page.wait_for_selector("#risk-preview table")
    assert kari.t("preview.suggestion") in page.inner_text("#risk-preview")
    check(kari, "risk-preview", "#risk-preview")
    # the in-place update (plain JavaScript under the page's CSP) replaces the section
    page.evaluate("document.querySelector('#risk-preview').setAttribute('data-old', '1')")
    page.click("[data-preview-load]")
    page.wait_for_selector("#risk-preview:not([data-old])")
    assert not kari.refused

    # attaching a PDF on the case page
    kari.go(f"/app/cases/{cid}")
    page.select_option("#attachment-kind", "rek_approval")
    page.set_input_files("input[type=file][name=file]", str(rek_pdf(tmp_path)))
    with page.expect_navigation():
        page.click("form[action$='/attachments'] button[type=submit]")
    assert "REK-vedtak.pdf" in page.inner_text("#attachments + table")
    check(kari, "attachments", "#attachments + table")

    # the counter-proposal with its consequences, before it is filed
    case = drive(server.service, "anonymisation", case_id=cid)
    kari.go(f"/app/cases/{cid}")
    page.select_option("#level-fodselsaar", "10 years")
    with page.expect_navigation():
        page.click("button[formaction*='counter-preview']")
    page.wait_for_selector("#counter-consequences table")
    text = page.inner_text("#counter-consequences")
    assert kari.t("preview.suppressed") in text and kari.t("counter.before") in text
    assert server.service.get(cid).version == case.version  # nothing filed
    check(kari, "counter-consequences", "#counter-consequences")

    # the decision letter as PDF, in the page's language
    kari.go(f"/app/cases/{cid}/letter")
    check(kari, "letter-attachments", "article.letter")
    answer = kari.context.request.get(
        f"{server.url}/app/cases/{cid}/letter.pdf", headers={"Accept-Language": lang}
    )
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    letter = "".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)
    assert ("Klageadgang" if lang == "nb" else "Right to appeal") in letter
    assert "REK-vedtak.pdf" in letter.replace("\n", "")
    kari.close()
