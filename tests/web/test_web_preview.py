"""The applicant's risk preview while composing and a counter-proposal's consequences before filing,
in the pages (nb and en) and the API, computed on a tiny synthetic register."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import Site, make_site  # type: ignore[import-not-found]
from test_web_pages import application_form  # type: ignore[import-not-found]
from web_helpers import USERS  # type: ignore[import-not-found]

from iplos.cases.examples import drive
from iplos.preview import Previews, SyntheticRegister


@pytest.fixture
def site(tmp_path: Path, preview_register: SyntheticRegister) -> Iterator[Site]:
    for site in make_site(tmp_path):
        site.app.state.previews = Previews(preview_register)
        yield site


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_applicant_sees_the_risk_while_composing(site: Site, lang: str) -> None:
    draft = drive(site.service, "draft")
    cid = draft.case_id
    kari = site.visitor("kari", lang)
    page = kari.post(f"/app/cases/{cid}/edit", {**application_form(draft.content), "action": "preview"})
    assert page.status_code == 200 and str(page.url).endswith(f"/app/cases/{cid}/edit?preview=1#risk-preview")
    assert 'id="risk-preview"' in page.text
    assert site.service.get(cid).content == draft.content  # saved as it was
    words = (
        ("syntetisk register", "Unike personer", "Grovere nivåer")
        if lang == "nb"
        else (
            "synthetic register",
            "Unique persons",
            "Coarser levels",
        )
    )
    for word in words:
        assert word in page.text
    if lang == "nb":
        assert "skjult (alle slått sammen)" in page.text or "årsgrupper" in page.text  # levels translated
    fragment = kari.get(f"/app/cases/{cid}/preview")
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<section id="risk-preview"')
    assert site.visitor("per", lang).get(f"/app/cases/{cid}/preview").status_code == 404


def test_the_risk_preview_in_the_api(site: Site) -> None:
    cid = drive(site.service, "draft").case_id
    kari = site.visitor("kari")
    token = site.service.users.issue_token("kari")
    answer = kari.client.get(f"/api/cases/{cid}/risk-preview", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["basis"] == "synthetic" and data["as_requested"]["persons"] > 0
    assert data["suggestion"]["acceptable"] is True
    assert "per" in USERS
    stranger = site.service.users.issue_token("per")
    assert (
        kari.client.get(
            f"/api/cases/{cid}/risk-preview", headers={"Authorization": f"Bearer {stranger}"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_counter_shows_its_consequences_before_it_is_filed(site: Site, lang: str) -> None:
    case = drive(site.service, "anonymisation")
    cid = case.case_id
    kari = site.visitor("kari", lang)
    form = {
        "version": str(case.version),
        "qi": ["fodselsaar", "kommune"],
        "level.fodselsaar": "10 years",
        "level.kommune": "fylke",
        "k": "5",
        "max_suppression": "0.05",
    }
    page = kari.post(f"/app/cases/{cid}/counter-preview", form)
    assert page.status_code == 200 and 'id="counter-consequences"' in page.text
    assert ("Undertrykte personer" if lang == "nb" else "Suppressed persons") in page.text
    assert ("syntetisk register" if lang == "nb" else "synthetic register") in page.text
    assert 'value="10 years" selected' in page.text  # the form as filled in, ready to file
    assert site.service.get(cid).version == case.version  # nothing filed
    token = site.service.users.issue_token("kari")
    api = kari.client.post(
        f"/api/cases/{cid}/counter-preview",
        json={"levels": {"fodselsaar": "10 years", "kommune": "fylke"}, "k": 5, "max_suppression": 0.05},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200 and api.json()["plan"]["levels"]["alder"] == "10 years"
    assert site.service.get(cid).version == case.version
