"""The processor's job pages: start linkage and the search as a job, watch it, cancel; the chart of
risk against information loss; propose an alternative from it; the delivery as a job."""

from __future__ import annotations

import dataclasses
import html
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import Site, make_site  # type: ignore[import-not-found]

sys.path.insert(0, str(Path(__file__).parents[1] / "linkage"))

import linkage_fixtures as registers

from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.jobs import JobStore, Worker

YEARS = (2012, 2013, 2014)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Site, Settings]]:
    for s in make_site(tmp_path):
        settings = Settings(home=tmp_path, case_db=f"sqlite:///{tmp_path / 'cases.db'}")
        registers.write_small_registers(settings, n=400)
        yield s, settings


def _accepted(site: Site) -> str:
    content = dataclasses.replace(example_application(site.service.now().date()), aarganger=YEARS)
    return drive(site.service, "accepted", Cast(), application=content).case_id


def _work(site: Site, settings: Settings) -> None:
    Worker(settings, site.service, heartbeat=0.2, stale_after=5).run(once=True, poll=0.05)


def test_the_processor_runs_the_search_as_a_job_and_sees_the_chart(site: tuple[Site, Settings]) -> None:
    s, settings = site
    cid = _accepted(s)
    sven = s.visitor("sven")
    case_page = sven.get(f"/app/cases/{cid}")
    assert f'href="/app/cases/{cid}/jobs"' in case_page.text
    page = sven.get(f"/app/cases/{cid}/jobs")
    assert page.status_code == 200 and "Start linkage and the search for a plan" in page.text
    started = sven.post(f"/app/cases/{cid}/jobs", {"k": "5", "max_suppression": "0.05"})
    assert started.status_code == 200, started.text[-500:]
    assert "data-job-progress" in started.text and "Cancel the job" in started.text
    (job,) = JobStore(s.service.engine).list(case_id=cid)
    poll = sven.get(f"/app/cases/{cid}/jobs/{job.id}/progress").json()
    assert (poll["status"], poll["percent"], poll["final"]) == ("queued", 0, False)
    work = sven.get("/app/work").text
    assert f'<a href="/app/cases/{cid}/jobs">Linkage and anonymisation proposal: queued (0 %)</a>' in work
    again = sven.post(f"/app/cases/{cid}/jobs", {"k": "5"})
    assert again.status_code == 409 and "already has a queued" in again.text
    _work(s, settings)
    done = sven.get(f"/app/cases/{cid}/jobs/{job.id}/progress").json()
    assert (done["status"], done["percent"], done["final"]) == ("done", 100, True)
    page = sven.get(f"/app/cases/{cid}/jobs")
    assert "data-job-progress" not in page.text and "proposed a plan" in page.text
    # the chart: an SVG with the proposal, its alternatives and the 1/k line, and the same in a table
    chart = sven.get(f"/app/cases/{cid}/alternatives")
    assert chart.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in chart.text and 'role="img"' in chart.text
    assert "k = 5: risk at most 0.2" in chart.text and "stroke-dasharray" in chart.text
    rows = re.findall(r'<tr><th scope="row">', chart.text)
    alternatives = len(s.service.get(cid).anonymisation_rounds[-1].plan["results"]["search"]["alternatives"])
    assert len(rows) == 1 + alternatives and alternatives >= 2
    assert chart.text.count("<circle") >= alternatives
    assert "/do/propose_anonymisation" not in chart.text  # the applicant's turn, not the processor's
    alternatives_of = s.service.get(cid).anonymisation_rounds[-1].plan["results"]["search"]["alternatives"]
    # the applicant, in bokmål, counters with alternative 2 from the chart
    kari = s.visitor("kari", lang="nb")
    seen = kari.get(f"/app/cases/{cid}/alternatives")
    assert seen.status_code == 200 and "Risiko mot informasjonstap" in seen.text
    assert "k = 5: risiko høyst 0,2" in seen.text and "Motforslag: alternativ 2" in seen.text
    response = kari.post(
        f"/app/cases/{cid}/do/counter_anonymisation", _form_of(seen.text, "counter_anonymisation", 2)
    )
    assert response.status_code == 200, response.text[-500:]
    latest = s.service.get(cid).anonymisation_rounds[-1]
    assert latest.party == "applicant" and dict(latest.plan["levels"]) == alternatives_of[1]["levels"]
    assert kari.get(f"/app/cases/{cid}/jobs").status_code == 403
    # the processor answers by proposing alternative 1 from the same chart: a new round with its levels
    chart = sven.get(f"/app/cases/{cid}/alternatives")
    assert "Counter with" not in chart.text and "Propose alternative 1" in chart.text
    response = sven.post(
        f"/app/cases/{cid}/do/propose_anonymisation", _form_of(chart.text, "propose_anonymisation", 1)
    )
    assert response.status_code == 200, response.text[-500:]
    latest = s.service.get(cid).anonymisation_rounds[-1]
    assert latest.party == "processor" and dict(latest.plan["levels"]) == alternatives_of[0]["levels"]


def _form_of(page: str, command: str, n: int) -> dict[str, list[str]]:
    """The fields of the chart's n-th alternative's form for `command` (as the browser sends them)."""
    forms = re.findall(
        rf'<form method="post" action="/app/cases/[^"]+/do/{command}">(.*?)</form>', page, re.S
    )
    assert len(forms) >= n
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', forms[n - 1]):
        if name != "csrf_token":
            data.setdefault(name, []).append(html.unescape(value))
    return data


def test_cancel_a_queued_job_from_the_page(site: tuple[Site, Settings]) -> None:
    s, _ = site
    cid = _accepted(s)
    sven = s.visitor("sven", lang="nb")
    page = sven.post(f"/app/cases/{cid}/jobs", {})
    assert "Avbryt jobben" in page.text
    (job,) = JobStore(s.service.engine).list(case_id=cid)
    cancelled = sven.post(f"/app/cases/{cid}/jobs/{job.id}/cancel", {})
    assert cancelled.status_code == 200 and "avbrutt" in cancelled.text
    assert JobStore(s.service.engine).get(job.id).status == "cancelled"
    assert s.service.get(cid).status == "accepted"  # nothing ran
    other = _accepted(s)
    assert sven.get(f"/app/cases/{other}/jobs/{job.id}/progress").status_code == 404  # not its job
    assert sven.post(f"/app/cases/{other}/jobs/{job.id}/cancel", {}).status_code == 404


def test_the_delivery_as_a_job_from_the_page(site: tuple[Site, Settings]) -> None:
    s, settings = site
    cid = _accepted(s)
    sven = s.visitor("sven")
    sven.post(f"/app/cases/{cid}/jobs", {})
    _work(s, settings)
    s.service.agree_anonymisation(cid, Cast().applicant)
    page = sven.get(f"/app/cases/{cid}/jobs")
    assert "Start the delivery" in page.text
    sven.post(f"/app/cases/{cid}/jobs", {})
    _work(s, settings)
    case = s.service.get(cid)
    assert case.status == "delivered" and [d.delivery_id for d in case.deliveries] == ["d001"]
    listing = s.visitor("kari").get(f"/app/cases/{cid}/deliveries/d001")
    assert listing.status_code == 200 and "MANIFEST.sha256" in listing.text
    history = sven.get(f"/app/cases/{cid}/jobs").text
    assert history.count("<td>done</td>") == 2 and "The case is not waiting for the processor now." in history
