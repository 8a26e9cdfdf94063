"""A whole case in a real browser (Debian's chromium under Playwright), as the four roles, in
bokmål and in English, with axe-core finding no serious or critical WCAG 2.1 AA violation.

Set IPLOS_SCREENSHOTS=<folder> to keep a screenshot of each main page (docs/screenshots/ is made so).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import PASSWORD, LiveServer, axe_source, axe_violations, chromium_path, live_server  # type: ignore[import-not-found]

from iplos.web._i18n import translate

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

VARIABLES = [
    ("iplos", "fodselsaar"),
    ("iplos", "kjonn"),
    ("iplos", "kommune"),
    ("iplos", "tjeneste"),
    ("iplos", "timer_per_uke"),
    ("dar", "dodsdato"),
]
WHY = "needed to describe {} among home-dwelling recipients 80+"
# axe runs on every page in bokmål; in English on the pages whose layout the language changes most
# (long labels, tables, forms): the rest render from the same templates (this keeps the run near 2 min).
AXE_IN_BOTH = frozenset(
    {"application-problems", "review", "letter", "processor-case", "case-negotiation", "transparency"}
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from live_server(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Person:
    """One role's browser tab, logged in, in one language."""

    def __init__(self, browser: Any, server: LiveServer, username: str, lang: str) -> None:
        # axe-core comes in as an init script (evaluated by the browser itself, outside the page's
        # Content-Security-Policy), so every page runs under the app's real policy: any script or
        # style the policy refuses is reported on the console and fails the walk in `check`.
        self.context = browser.new_context(
            locale="nb-NO" if lang == "nb" else "en-GB",
            viewport={"width": 1280, "height": 900},
        )
        self.context.add_init_script(path=str(axe_source()))
        self.page = self.context.new_page()
        self.refused: list[str] = []
        self.page.on(
            "console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None
        )
        self.server = server
        self.lang = lang
        self.checked: list[str] = []
        self.go("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("form[action='/login'] button[type=submit]")
        assert "/login" not in self.page.url, f"{username} could not log in"

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)  # type: ignore[arg-type]

    def go(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def check(self, name: str) -> None:
        """axe on the page as it is now (and a screenshot when asked for)."""
        assert f'lang="{self.lang}"' in self.page.content()[:200]
        assert not self.refused, f"{name} ({self.lang}): the Content-Security-Policy refused {self.refused}"
        if self.lang == "nb" or name in AXE_IN_BOTH:
            found = axe_violations(self.page)
            assert not found, f"{name} ({self.lang}): {found}"
        folder = os.environ.get("IPLOS_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.evaluate("window.scrollTo(0, 0)")
            self.page.screenshot(path=str(Path(folder) / f"{name}-{self.lang}.png"), full_page=False)
        self.checked.append(name)

    def submit(self, form: str) -> None:
        """Click the submit button of the form matching the selector and wait for the next page."""
        with self.page.expect_navigation():
            self.page.click(f"{form} button[type=submit]")

    def close(self) -> None:
        self.context.close()


EXTRACT = b"lopenr,fodselsaar,kommune\n1,1935-1939,03\n2,1930-1934,46\n"


def write_delivery(folder: Path) -> str:
    """Files and their manifest as a delivery writes them; returns the manifest's SHA-256."""
    folder.mkdir(parents=True)
    files = {"extract.csv": EXTRACT, "codebook.html": b"<h1>Kodebok</h1>"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    lines = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()))
    (folder / "MANIFEST.sha256").write_text(lines, "utf-8")
    return hashlib.sha256(lines.encode()).hexdigest()


def do(person: Person, case_id: str, command: str) -> str:
    return f"form[action='/app/cases/{case_id}/do/{command}']"


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_whole_case_in_the_browser(browser: Any, server: LiveServer, lang: str) -> None:
    today = date.today()
    kari = Person(browser, server, "kari", lang)
    page = kari.page
    kari.check("applicant-home")
    kari.submit("form[action='/app/cases']")
    case_id = page.url.split("/")[-2]
    assert page.url.endswith(f"/app/cases/{case_id}/edit")

    # the variable list: search, look at one variable, add each to the cart
    for register, name in VARIABLES:
        kari.go(f"/app/catalogue?case={case_id}&register={register}&q={name}")
        if name == "kommune":
            kari.check("catalogue")
        kari.submit(f"form[action='/app/cases/{case_id}/cart']:has(input[name=name][value={name}])")
    kari.go(f"/app/catalogue/iplos/tjeneste?case={case_id}")
    assert page.locator("table").nth(1).locator("tr").count() > 10  # the service code list
    kari.go(f"/app/cases/{case_id}/edit")
    assert page.locator("#variables .card").count() == len(VARIABLES)

    # submitting the empty application (with a population no one fits) shows every problem at its field
    page.fill("[name='population.age.min_age']", "130")
    page.fill("[name='population.services[0].codes']", "15, 999")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert page.locator("#problems").is_visible()
    assert (
        page.locator("#err-project\\.title").is_visible()
        and page.locator("#err-variables\\[0\\]\\.justification").is_visible()
        and page.locator("#err-population\\.age\\.min_age").is_visible()
        and page.locator("#err-population\\.services\\[0\\]\\.codes").is_visible()
    )
    kari.check("application-problems")

    fill = {
        "project.title": "Hjemmetjenester og overlevelse blant eldre 80+",
        "project.summary": "How functional level and home-care hours relate to survival.",
        "project.institution": "Universitetet i Oslo",
        "project.leader": "Kari Nordmann",
        "project.funding": "Norges forskningsråd 301234",
        "project.start": today.isoformat(),
        "project.end": (today + timedelta(days=3 * 365)).isoformat(),
        "legal_basis.rek_reference": "REK sør-øst 2025/12345",
        "legal_basis.dpia": "DPIA 2025-11-01",
        "legal_basis.gdpr_article6": "6(1)(e)",
        "legal_basis.gdpr_article9": "9(2)(j)",
        "aarganger": "2012-2016",
        "population.age.min_age": "80",
        "population.services[0].codes": "",
        "population.description": "Recipients of home-based services aged 80+",
        "recipients": "Kari Nordmann",
        "storage_security": "TSD, two-factor login",
        "deletion_date": (today + timedelta(days=4 * 365)).isoformat(),
    }
    for name, value in fill.items():
        page.fill(f"[name='{name}']", value)
    page.check("#purpose-forskning")
    page.check("[name='population.services[0].groups'][value=hjemmetjenester]")
    page.check("[name='population.home_dwelling']")
    for i, (_, name) in enumerate(VARIABLES):
        page.fill(f"[name='variables[{i}].justification']", WHY.format(name))
        page.select_option(f"[name='variables[{i}].purpose']", "forskning")
    with page.expect_navigation():
        page.click("button[name=action][value=add_linkage]")
    page.select_option("[name='linkages[0].register']", "dar")
    page.fill("[name='linkages[0].approval_reference']", "FHI 25/0456")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert page.url.endswith(f"/app/cases/{case_id}"), page.locator(".errors").all_inner_texts()
    assert kari.t("status.submitted") in page.inner_text("main")
    assert kari.t("clock.days_left", days=30) in page.inner_text(".clock")
    assert ("80 år eller eldre" if lang == "nb" else "aged 80 or older") in page.inner_text("main")
    kari.check("case-submitted")

    # the reviewer: queue, start, return with a comment on the variables
    rita = Person(browser, server, "rita", lang)
    rita.go("/app/queue")
    assert case_id in rita.page.inner_text("main")
    rita.check("reviewer-queue")
    rita.go(f"/app/cases/{case_id}/review")
    rita.submit(f"form[action='/app/cases/{case_id}/review/start_review']")
    rita.page.fill("[name='comment.variables']", "Explain why hours per week are necessary.")
    rita.submit(f"form[action='/app/cases/{case_id}/review/return_to_applicant']")
    assert rita.t("status.returned") in rita.page.inner_text("main")

    # the applicant sees the comment, answers and resubmits
    kari.go(f"/app/cases/{case_id}/edit")
    assert "Explain why hours per week are necessary." in page.inner_text("main")
    page.fill(
        "[name='variables[4].justification']", "hours per week measure the volume of home care received"
    )
    page.fill("[name='response']", "Justified the hours.")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert kari.t("status.under_review") in page.inner_text("main")

    # the reviewer decides per variable (only deliverable levels offered), per register, then the case
    rita.go(f"/app/cases/{case_id}/review")
    levels = rita.page.locator("#lv-2 option").all_inner_texts()
    assert rita.t("outcome.coarsened") in rita.page.inner_text("#variables ~ form")
    assert ("fylke" if lang == "nb" else "county") in levels and all(x != "5 years" for x in levels)
    for i, (_, name) in enumerate(VARIABLES):
        outcome = "coarsened" if name in ("fodselsaar", "kommune") else "granted"
        rita.page.check(f"#o-{i}-{outcome}")
    rita.page.select_option("#lv-0", "5 years")
    rita.page.select_option("#lv-2", "fylke")
    rita.check("review")
    rita.submit(f"form[action='/app/cases/{case_id}/review/variables']")
    for register in ("iplos", "dar"):
        rita.page.fill(f"#ref-{register}", f"{register.upper()}-{case_id}")
        rita.submit(
            f"form[action='/app/cases/{case_id}/review/decide_register']:has(input[value={register}])"
        )
    rita.submit(f"form[action='/app/cases/{case_id}/review/decide_case']")
    assert rita.t("status.approved") in rita.page.inner_text("main")
    rita.go(f"/app/cases/{case_id}/letter")
    letter = rita.page.inner_text("article")
    assert ("5-årsgrupper" if lang == "nb" else "5-year groups") in letter and "kommune" not in letter.split(
        "fylke"
    )[0][-3:]
    rita.check("letter")

    # the processor: offer from the rate card
    sven = Person(browser, server, "sven", lang)
    sven.go("/app/work")
    assert case_id in sven.page.inner_text("main")
    sven.go(f"/app/cases/{case_id}")
    sven.page.fill("[name='hours.radgiver']", "20")
    sven.page.fill("[name='desc.radgiver']", "linkage and extraction")
    sven.page.fill("[name='hours.statistiker']", "6")
    due = today + timedelta(days=45)
    sven.page.fill("#expected-delivery", due.isoformat())
    sven.check("processor-case")
    sven.submit(do(sven, case_id, "make_offer"))
    total = "kr\u00a036\u00a0900,00" if lang == "nb" else "NOK\u00a036,900.00"
    assert total in sven.page.inner_text("main").replace(" ", "\u00a0")

    kari.go(f"/app/cases/{case_id}")
    expected = f"{due.day}.{due.month}.{due.year}" if lang == "nb" else due.strftime("%-d %b %Y")
    assert expected in page.inner_text(".clock")
    kari.submit(do(kari, case_id, "accept_offer"))

    sven.go(f"/app/cases/{case_id}")
    sven.page.fill("#summary", '{"dar": {"matched": 812, "unmatched": 3}}')
    sven.submit(do(sven, case_id, "record_linkage_done"))
    sven.page.select_option("#level-fodselsaar", "5 years")
    sven.page.select_option("#level-kommune", "fylke")
    sven.submit(do(sven, case_id, "propose_anonymisation"))

    # the applicant counters with a coarser age and a smaller k; the processor agrees
    kari.go(f"/app/cases/{case_id}")
    page.select_option("#level-fodselsaar", "10 years")
    page.fill("#k-counter_anonymisation", "3")
    page.fill("#comment-counter_anonymisation", "k=3 with 10-year groups")
    kari.submit(do(kari, case_id, "counter_anonymisation"))
    assert page.locator("table td", has_text="k=3 with 10-year groups").count() == 1
    kari.check("case-negotiation")
    sven.go(f"/app/cases/{case_id}")
    sven.submit(do(sven, case_id, "agree_anonymisation"))
    manifest = write_delivery(server.deliveries / case_id / "d001")
    sven.page.fill("#delivery-id", "d001")
    sven.page.fill("#manifest", manifest)
    sven.submit(do(sven, case_id, "record_delivery"))
    kari.go(f"/app/cases/{case_id}")
    kari.page.click(f"a[href='/app/cases/{case_id}/deliveries/d001']")
    kari.check("delivery")
    with page.expect_download() as download:
        page.click("a[download]:text('extract.csv')")
    assert Path(download.value.path()).read_bytes() == EXTRACT
    sven.page.select_option("#staff-group", "radgiver")
    sven.page.fill("#hours-n", "22.5")
    sven.page.fill("#hours-note", "linkage")
    sven.submit(do(sven, case_id, "record_hours"))
    sven.submit(do(sven, case_id, "issue_invoice"))
    assert sven.t("status.invoiced") in sven.page.inner_text("main")
    kari.go(f"/app/cases/{case_id}/invoice")
    assert ("30\u00a0375,00" if lang == "nb" else "30,375.00") in page.inner_text("main").replace(
        " ", "\u00a0"
    )
    kari.check("invoice")
    kari.go(f"/app/cases/{case_id}")
    assert page.locator("ol.events li").count() == len(server.service.history(case_id))
    kari.check("case-invoiced")
    # the notifications, in the app (the same messages the e-mails carry)
    kari.go("/app/messages")
    assert page.locator("main tbody tr").count() >= 4  # receipt, decision, offer, delivery
    kari.check("messages")

    # the administrator, and the public page
    ada = Person(browser, server, "ada", lang)
    for path, name in (
        ("/app/admin/users", "admin-users"),
        ("/app/admin/statistics", "admin-statistics"),
        ("/app/admin/audit", "admin-audit"),
    ):
        ada.go(path)
        ada.check(name)
    assert ada.t("audit.ok") in ada.page.inner_text("main")
    ada.go("/transparency")
    assert "Hjemmetjenester og overlevelse" in ada.page.inner_text("main")
    ada.check("transparency")
    for person in (kari, rita, sven, ada):
        person.close()
    assert server.service.get(case_id).status == "invoiced"


def test_keyboard_reaches_the_login_form(browser: Any, server: LiveServer) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(server.url + "/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.focus("#username")
    page.keyboard.type("kari")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/app")
    assert not refused, refused  # the pages' own scripts and styles keep to the app's CSP
    context.close()
