"""Downloading a delivery from the pages: only checked files, only for the case's recipients."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import Site, make_site  # type: ignore[import-not-found]

from iplos.cases.examples import Cast, drive


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


def deliver(site: Site) -> tuple[str, Path]:
    """A case delivered with a folder of files and its manifest, as the delivery writes them."""
    case = drive(site.service, "anonymisation_agreed")
    folder = site.deliveries / case.case_id / "d001"
    folder.mkdir(parents=True)
    files = {"extract.csv": b"lopenr,kjonn\n1,1\n2,2\n", "codebook.html": "<h1>Kodebok – kjønn</h1>".encode()}
    lines = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (folder / "MANIFEST.sha256").write_text("".join(lines), "utf-8")
    digest = hashlib.sha256((folder / "MANIFEST.sha256").read_bytes()).hexdigest()
    site.service.record_delivery(case.case_id, Cast().processor, "d001", digest)
    return case.case_id, folder


def test_the_applicant_downloads_the_checked_files(site: Site) -> None:
    cid, folder = deliver(site)
    kari = site.visitor("kari")
    listing = kari.get(f"/app/cases/{cid}/deliveries/d001")
    assert listing.status_code == 200, listing.text[-600:]
    assert "extract.csv" in listing.text and "MANIFEST.sha256" in listing.text
    assert f'href="/app/cases/{cid}/deliveries/d001"' in kari.get(f"/app/cases/{cid}").text
    got = kari.get(f"/app/cases/{cid}/deliveries/d001/extract.csv")
    assert got.status_code == 200 and got.content == (folder / "extract.csv").read_bytes()
    assert "attachment" in got.headers["content-disposition"]
    assert kari.get(f"/app/cases/{cid}/deliveries/d001/MANIFEST.sha256").status_code == 200
    assert site.visitor("ola").get(f"/app/cases/{cid}/deliveries/d001/extract.csv").status_code == 200


def test_a_changed_file_or_manifest_is_not_handed_out(site: Site) -> None:
    cid, folder = deliver(site)
    kari = site.visitor("kari")
    (folder / "extract.csv").write_bytes(b"lopenr,kjonn\n1,1\n")
    assert kari.get(f"/app/cases/{cid}/deliveries/d001/extract.csv").status_code == 409
    assert kari.get(f"/app/cases/{cid}/deliveries/d001/codebook.html").status_code == 200
    with (folder / "MANIFEST.sha256").open("a") as f:
        f.write(f"{'0' * 64}  extra.csv\n")
    assert kari.get(f"/app/cases/{cid}/deliveries/d001/codebook.html").status_code == 409
    assert kari.get(f"/app/cases/{cid}/deliveries/d001").status_code == 409


def test_only_the_recipients_and_only_listed_files(site: Site) -> None:
    cid, folder = deliver(site)
    (folder.parent / "secret.txt").write_text("not in the manifest")
    assert site.visitor("per").get(f"/app/cases/{cid}/deliveries/d001/extract.csv").status_code == 404
    assert site.visitor("rita").get(f"/app/cases/{cid}/deliveries/d001/extract.csv").status_code == 403
    kari = site.visitor("kari")
    for name in ("secret.txt", "..%2Fsecret.txt", "%2E%2E%2Fsecret.txt", "nothing.csv"):
        response = kari.get(f"/app/cases/{cid}/deliveries/d001/{name}")
        assert response.status_code == 404, name
        assert "not in the manifest" not in response.text
    assert kari.get(f"/app/cases/{cid}/deliveries/d002").status_code == 404
    assert kari.get(f"/app/cases/{cid}/deliveries/%2E%2E").status_code == 404


def test_no_download_after_the_deletion_is_confirmed(site: Site) -> None:
    cid, _ = deliver(site)
    drive(site.service, "deletion_confirmed", case_id=cid)
    assert site.visitor("kari").get(f"/app/cases/{cid}/deliveries/d001/extract.csv").status_code == 409
