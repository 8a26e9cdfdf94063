"""PDF attachments: checked, stored by SHA-256 (content-addressed, atomic), recorded as events, listed
on the case page and in the letter (HTML and PDF), served only while the file still hashes right."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from pages_helpers import Site, Visitor, make_site  # type: ignore[import-not-found]
from pypdf import PdfReader

from iplos.cases.examples import drive
from iplos.errors import IplosError
from iplos.web._attachments import MAX_ATTACHMENT, AttachmentStore, check_pdf


def make_pdf(text: str, pages: int = 1) -> bytes:
    pdf = FPDF()
    for i in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.cell(0, 10, f"{text} {i + 1}")
    return bytes(pdf.output())


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    for site in make_site(tmp_path):
        site.app.state.attachments = AttachmentStore(tmp_path / "attachments")
        yield site


def upload(v: Visitor, cid: str, data: bytes, name: str = "rek.pdf", kind: str = "rek_approval") -> object:
    if not v.csrf:
        v.get(f"/app/cases/{cid}")
    return v.client.post(
        f"/app/cases/{cid}/attachments",
        data={"csrf_token": v.csrf, "kind": kind},
        files={"file": (name, data, "application/pdf")},
    )


def test_check_pdf_counts_pages_and_refuses_what_is_not_one() -> None:
    assert check_pdf(make_pdf("REK", 3), "rek.pdf") == 3
    for data, rule in (
        (b"", "attachment_empty"),
        (b"GIF89a not a pdf", "attachment_not_pdf"),
        (b"%PDF-1.7\nthis is no pdf at all", "attachment_not_pdf"),
        (b"%PDF-" + b"0" * 64, "attachment_size"),
    ):
        with pytest.raises(IplosError) as caught:
            check_pdf(data, "x.pdf", max_bytes=32 if rule == "attachment_size" else MAX_ATTACHMENT)
        assert caught.value.problems[0].rule == rule and caught.value.problems[0].column == "attachment.file"


def test_the_store_is_content_addressed_and_refuses_a_changed_file(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    data = make_pdf("DPIA")
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest() and store.put(data) == digest
    path = tmp_path / digest[:2] / f"{digest}.pdf"
    assert path.read_bytes() == data and store.read(digest) == data
    path.write_bytes(data + b"%tampered")
    with pytest.raises(IplosError, match="changed"):
        store.read(digest)
    assert store.put(data) == digest and store.read(digest) == data  # a new upload repairs it
    with pytest.raises(IplosError):
        store.path("../../etc/passwd")


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_an_applicant_attaches_a_pdf_and_it_reaches_the_letter(site: Site, lang: str) -> None:
    case = drive(site.service, "draft")
    cid = case.case_id
    kari = site.visitor("kari", lang)
    data = make_pdf("REK sør-øst 2025/12345", 2)
    digest = hashlib.sha256(data).hexdigest()
    answer = upload(kari, cid, data, "REK-vedtak.pdf")
    assert answer.status_code == 200  # redirected to the case page  # type: ignore[attr-defined]
    page = kari.get(f"/app/cases/{cid}")
    assert digest in page.text and "REK-vedtak.pdf" in page.text
    assert ("REK-godkjenning" if lang == "nb" else "REK approval") in page.text
    assert ("Vedlegg lagt til" if lang == "nb" else "Attachment added") in page.text
    attached = site.service.get(cid).attachments
    assert [(a.kind, a.sha256, a.pages, a.size, a.added_by) for a in attached] == [
        ("rek_approval", digest, 2, len(data), "kari")
    ]
    got = kari.get(f"/app/cases/{cid}/attachments/{digest}")
    assert got.status_code == 200 and got.content == data
    assert site.visitor("per", lang).get(f"/app/cases/{cid}/attachments/{digest}").status_code == 404
    again = upload(kari, cid, data, "same.pdf", "dpia")
    assert again.status_code == 409 and "already attached" in again.text  # type: ignore[attr-defined]
    drive(site.service, "approved", case_id=cid)
    letter = kari.get(f"/app/cases/{cid}/letter")
    assert digest in letter.text and "REK-vedtak.pdf" in letter.text
    pdf = kari.get(f"/app/cases/{cid}/letter.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    assert digest in text and "REK-vedtak.pdf" in text
    assert ("REK-godkjenning" if lang == "nb" else "REK approval") in text


def test_what_is_not_a_pdf_is_refused_at_its_field(site: Site) -> None:
    cid = drive(site.service, "draft").case_id
    kari = site.visitor("kari", "nb")
    refused = upload(kari, cid, b"just text, renamed", "rek.pdf")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "Filen er ikke en lesbar PDF." in refused.text and 'aria-invalid="true"' in refused.text  # type: ignore[attr-defined]
    assert site.service.get(cid).attachments == ()
    bad_kind = upload(kari, cid, make_pdf("x"), "x.pdf", kind="holiday-photos")
    assert bad_kind.status_code == 422 and site.service.get(cid).attachments == ()  # type: ignore[attr-defined]


def test_a_changed_file_is_not_served(site: Site, tmp_path: Path) -> None:
    cid = drive(site.service, "draft").case_id
    kari = site.visitor("kari")
    data = make_pdf("DPIA")
    upload(kari, cid, data, "dpia.pdf", "dpia")
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "attachments" / digest[:2] / f"{digest}.pdf").write_bytes(b"%PDF-1.4 swapped")
    assert kari.get(f"/app/cases/{cid}/attachments/{digest}").status_code == 400


def test_the_api_takes_an_upload(site: Site) -> None:
    cid = drive(site.service, "draft").case_id
    token = site.service.users.issue_token("kari")
    data = make_pdf("decision from NPR")
    kari = site.visitor("kari")
    answer = kari.client.post(
        f"/api/cases/{cid}/attachments",
        data={"kind": "register_decision"},
        files={"file": ("npr.pdf", data, "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["sha256"] == hashlib.sha256(data).hexdigest()
    refused = kari.client.post(
        f"/api/cases/{cid}/attachments",
        data={"kind": "other"},
        files={"file": ("x.pdf", b"nope", "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code in (400, 422) and "attachment.file" in refused.text


def test_only_the_applicant_attaches_and_only_before_the_decision(site: Site) -> None:
    draft = drive(site.service, "draft").case_id
    decided = drive(site.service, "approved").case_id
    data = make_pdf("x")

    def api(user: str, cid: str) -> int:
        token = site.service.users.issue_token(user)
        return (
            site.visitor()
            .client.post(
                f"/api/cases/{cid}/attachments",
                data={"kind": "other"},
                files={"file": ("x.pdf", data, "application/pdf")},
                headers={"Authorization": f"Bearer {token}"},
            )
            .status_code
        )

    assert api("per", draft) == 404  # another applicant's case does not exist for them
    assert api("rita", draft) == 403  # a reviewer attaches nothing
    assert api("kari", decided) == 409  # not after the decision
    assert site.service.get(draft).attachments == () and site.service.get(decided).attachments == ()
    assert api("ola", draft) == 200  # a project member may
