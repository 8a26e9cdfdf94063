"""The decision letter as PDF in bokmål and English: issued to everyone on the case, previewed by the
reviewer (marked as a draft); its text read back with pypdf."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import Site, make_site  # type: ignore[import-not-found]
from pypdf import PdfReader

from iplos.cases.examples import drive


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


WORDS = {
    "nb": ("Vedtak: Innvilget", "Innvilgede variabler", "5-årsgrupper", "Klageadgang", "Detaljnivå høyst"),
    "en": (
        "Decision: Approved",
        "Variables granted",
        "5-year groups",
        "Right to appeal",
        "At most this detail",
    ),
}


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_issued_letter_as_pdf(site: Site, lang: str) -> None:
    case = drive(site.service, "approved")
    kari = site.visitor("kari", lang)
    page = kari.get(f"/app/cases/{case.case_id}/letter")
    assert f"/app/cases/{case.case_id}/letter.pdf" in page.text
    answer = kari.get(f"/app/cases/{case.case_id}/letter.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.content)
    for word in WORDS[lang]:
        assert word in text, word
    assert case.case_id in text and case.content.project.title in text
    assert "5 years" not in text and ("5-årsgrupper" not in text or lang == "nb")
    assert "UTKAST" not in text and "DRAFT" not in text
    assert site.visitor("per", lang).get(f"/app/cases/{case.case_id}/letter.pdf").status_code == 404


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_reviewer_previews_the_letter_as_pdf(site: Site, lang: str) -> None:
    case = drive(site.service, "under_review")
    rita = site.visitor("rita", lang)
    url = f"/app/cases/{case.case_id}/letter/preview.pdf"
    answer = rita.get(url, outcome="rejected", reasons="Mangler REK-godkjenning\nFor mange variabler")
    assert answer.status_code == 200
    text = pdf_text(answer.content)
    assert ("UTKAST" if lang == "nb" else "DRAFT") in text
    assert ("Vedtak: Avslått" if lang == "nb" else "Decision: Rejected") in text
    assert "Mangler REK-godkjenning" in text and "For mange variabler" in text
    assert site.service.get(case.case_id).decided_at is None  # nothing decided
    assert site.visitor("kari", lang).get(url).status_code == 403
