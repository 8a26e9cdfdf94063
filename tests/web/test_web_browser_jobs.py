"""The processor's side in a real browser (Debian's chromium under Playwright), in bokmål and English:
start linkage and the search as a job and watch its progress (polled by the page's own script under the
app's CSP), see the chart of risk against information loss, the applicant counters with an alternative
from the chart, the processor runs the answer and the delivery as jobs, the applicant opens the delivery.
A worker runs the jobs beside the server; axe-core finds no serious or critical violation on each page.

Set IPLOS_SCREENSHOTS=<folder> to keep a screenshot of each page (docs/screenshots/ is made so).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import LiveServer, axe_violations, live_server  # type: ignore[import-not-found]
from test_web_browser import Person, browser  # type: ignore[import-not-found]  # noqa: F401

sys.path.insert(0, str(Path(__file__).parents[1] / "linkage"))

import linkage_fixtures as registers

from iplos.cases.examples import Cast, drive, example_application
from iplos.config import Settings
from iplos.jobs import Worker

pytestmark = pytest.mark.browser
JOB_TIMEOUT_MS = 180_000  # a job on the small registers takes seconds; the machine may be loaded


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Settings]]:
    path = tmp_path_factory.mktemp("browser-jobs")
    settings = Settings(home=path, case_db=f"sqlite:///{path / 'cases.db'}")
    registers.write_small_registers(settings, n=400)
    for server in live_server(path):
        stop = threading.Event()
        worker = Worker(settings, server.service, heartbeat=1.0, stale_after=30.0)
        thread = threading.Thread(target=worker.run, kwargs={"poll": 0.2, "stop": stop}, daemon=True)
        thread.start()
        yield server, settings
        stop.set()
        thread.join(timeout=60)


def _check(person: Person, name: str) -> None:
    """axe on the page in both languages (the shared walk checks English only on a few pages)."""
    person.check(name)
    if person.lang == "en":
        found = axe_violations(person.page)
        assert not found, f"{name} (en): {found}"


def _wait_for_the_job(person: Person) -> None:
    """The page polls the job and reloads itself when it ends."""
    person.page.locator("[data-job-progress]").wait_for(state="detached", timeout=JOB_TIMEOUT_MS)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_processor_s_jobs_and_chart_in_the_browser(
    browser: Any,  # noqa: F811
    world: tuple[LiveServer, Settings],
    lang: str,
) -> None:
    server, _ = world
    content = dataclasses.replace(
        example_application(server.service.now().date()), aarganger=(2012, 2013, 2014)
    )
    case_id = drive(server.service, "accepted", Cast(), application=content).case_id
    sven = Person(browser, server, "sven", lang)
    kari = Person(browser, server, "kari", lang)
    try:
        sven.go(f"/app/cases/{case_id}")
        with sven.page.expect_navigation():
            sven.page.click(f"a[href='/app/cases/{case_id}/jobs']")
        _check(sven, "processor-jobs")
        sven.page.fill("#job-k", "5")
        sven.submit(f"form[action='/app/cases/{case_id}/jobs']")
        assert sven.page.locator("progress#job-bar").count() == 1
        _check(sven, "processor-job-running")
        _wait_for_the_job(sven)
        assert sven.t("job.status.done") in sven.page.inner_text("main table")
        assert server.service.get(case_id).status == "anonymisation"

        # the chart: the proposal, its alternatives, the line of 1/k, and the table beside it
        with sven.page.expect_navigation():
            sven.page.click(f"a[href='/app/cases/{case_id}/alternatives']")
        svg = sven.page.locator("figure.chart svg[role=img]")
        assert svg.count() == 1 and sven.page.locator("figure.chart svg circle").count() >= 2
        assert sven.t("chart.threshold", k=5, risk="0,2" if lang == "nb" else "0.2") in sven.page.inner_text(
            "figure"
        )
        assert sven.page.locator("main table tbody tr").count() >= 3
        _check(sven, "processor-chart")

        # the applicant counters with alternative 2 from the chart
        kari.go(f"/app/cases/{case_id}/alternatives")
        _check(kari, "applicant-chart")
        with kari.page.expect_navigation():
            kari.page.click(f"button:text('{kari.t('chart.counter_anonymisation', n=2)}')")
        rounds = server.service.get(case_id).anonymisation_rounds
        assert rounds[-1].party == "applicant"

        # the processor runs the answer (it meets the criteria: agreed), then the delivery
        sven.go(f"/app/cases/{case_id}/jobs")
        assert sven.t("job.start.answer") in sven.page.inner_text("main")
        sven.submit(f"form[action='/app/cases/{case_id}/jobs']")
        _wait_for_the_job(sven)
        assert server.service.get(case_id).status == "anonymisation_agreed"
        sven.go(f"/app/cases/{case_id}/alternatives")
        assert sven.t("chart.agreed") in sven.page.inner_text("main table")
        sven.go(f"/app/cases/{case_id}/jobs")
        sven.submit(f"form[action='/app/cases/{case_id}/jobs']")
        _wait_for_the_job(sven)
        _check(sven, "processor-jobs-done")
        case = server.service.get(case_id)
        assert case.status == "delivered" and [d.delivery_id for d in case.deliveries] == ["d001"]

        kari.go(f"/app/cases/{case_id}")
        with kari.page.expect_navigation():
            kari.page.click(f"a[href='/app/cases/{case_id}/deliveries/d001']")
        assert "MANIFEST.sha256" in kari.page.inner_text("main")
        _check(kari, "delivery-job")
        with kari.page.expect_download() as download:
            kari.page.click("a[download]:text('extract.csv')")
        header = Path(download.value.path()).read_text("utf-8").splitlines()[0]
        assert header.startswith("lopenr") and "fnr" not in header
    finally:
        sven.close()
        kari.close()
