"""A whole case through the pages (no browser): every role's forms, in English and in Norwegian."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pages_helpers import Site, Visitor, make_site  # type: ignore[import-not-found]

from iplos.cases import Application
from iplos.cases.examples import drive, example_application
from iplos.web import _population_form


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path)


def application_form(content: Application) -> dict[str, Any]:
    """The edit form's fields for an application (the variables' justifications included)."""
    p, lb = content.project, content.legal_basis
    form: dict[str, Any] = {
        "project.title": p.title,
        "project.summary": p.summary,
        "project.institution": p.institution,
        "project.leader": p.leader,
        "project.members": ", ".join(p.members),
        "project.start": p.start.isoformat() if p.start else "",
        "project.end": p.end.isoformat() if p.end else "",
        "project.funding": p.funding,
        "legal_basis.rek_reference": lb.rek_reference,
        "legal_basis.dpia": lb.dpia,
        "legal_basis.gdpr_article6": lb.gdpr_article6,
        "legal_basis.gdpr_article9": lb.gdpr_article9,
        "purposes": list(content.purposes),
        "aarganger": f"{min(content.aarganger)}-{max(content.aarganger)}",
        **_population_form.population_fields(content.population),
        "output": content.output,
        "recipients": "\n".join(content.recipients),
        "storage_security": content.storage_security,
        "deletion_date": content.deletion_date.isoformat() if content.deletion_date else "",
    }
    if lb.research:
        form["legal_basis.research"] = "on"
    for i, v in enumerate(content.variables):
        form[f"variables[{i}].justification"] = v.justification
        form[f"variables[{i}].purpose"] = v.purpose or ""
    for i, link in enumerate(content.linkages):
        form[f"linkages[{i}].register"] = link.register
        form[f"linkages[{i}].approval_reference"] = link.approval_reference
        form[f"linkages[{i}].purpose"] = link.purpose
    return form


def case_id_of(url: object) -> str:
    found = re.search(r"/app/cases/([0-9a-f-]+)", str(url))
    assert found, url
    return found.group(1)


def compose(site: Site, kari: Visitor) -> tuple[str, Application]:
    """kari opens a draft, puts the example's variables in the cart from the variable list, fills
    the form; returns the case id and the application she meant."""
    wanted = example_application(site.clock().date(), members=("ola",))
    page = kari.post("/app/cases")
    cid = case_id_of(page.url)
    for v in wanted.variables:
        listed = kari.get("/app/catalogue", q=v.name, register=v.register, case=cid)
        assert f'value="{v.name}"' in listed.text, v.name
        added = kari.post(
            f"/app/cases/{cid}/cart",
            {"register": v.register, "name": v.name, "back": f"/app/catalogue?case={cid}"},
        )
        assert added.status_code == 200
    kari.post(f"/app/cases/{cid}/edit", {**application_form(wanted), "action": "add_linkage"})
    return cid, wanted


def test_submit_shows_every_problem_at_its_field(site: Site) -> None:
    kari = site.visitor("kari")
    cid = case_id_of(kari.post("/app/cases").url)
    kari.post(f"/app/cases/{cid}/cart", {"register": "iplos", "name": "kommune"})
    page = kari.post(
        f"/app/cases/{cid}/edit",
        {"action": "submit", "aarganger": "2012-2016", "variables[0].justification": "x"},
    )
    assert page.status_code == 422
    for field in (
        "project.title",
        "legal_basis.dpia",
        "purposes",
        "variables[0].justification",
        "deletion_date",
    ):
        assert f'id="err-{field}"' in page.text, field
    assert 'aria-invalid="true"' in page.text
    assert site.service.get(cid).status == "draft"
    unreadable = kari.post(
        f"/app/cases/{cid}/edit", {"action": "save", "aarganger": "twenty", "deletion_date": "31.12.2030"}
    )
    assert unreadable.status_code == 422
    assert 'id="err-aarganger"' in unreadable.text and 'id="err-deletion_date"' in unreadable.text


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_whole_case_through_the_pages(site: Site, lang: str) -> None:
    kari = site.visitor("kari", lang)
    cid, wanted = compose(site, kari)
    form = application_form(wanted)
    submitted = kari.post(f"/app/cases/{cid}/edit", {**form, "action": "submit"})
    assert submitted.status_code == 200, re.findall(r'class="field-error"[^>]*>([^<]*)', submitted.text)
    case = site.service.get(cid)
    assert case.status == "submitted" and case.content == wanted

    rita = site.visitor("rita", lang)
    queue = rita.get("/app/queue")
    assert cid in queue.text and ("30 days left" in queue.text or "30 dager igjen" in queue.text)
    rita.post(f"/app/cases/{cid}/review/start_review", {"version": site.service.get(cid).version})
    site.advance(3)
    rita.post(
        f"/app/cases/{cid}/review/return_to_applicant",
        {
            "comment.variables": "Explain why hours per week are necessary.",
            "version": site.service.get(cid).version,
        },
    )
    assert site.service.get(cid).status == "returned"
    returned = kari.get(f"/app/cases/{cid}/edit")
    assert "variables: Explain why hours per week are necessary." in returned.text
    site.advance(2)
    hours = next(i for i, v in enumerate(wanted.variables) if v.name == "timer_per_uke")
    form[f"variables[{hours}].justification"] = "hours per week measure the volume of home care received"
    kari.post(f"/app/cases/{cid}/edit", {**form, "action": "submit", "response": "Justified hours."})
    assert site.service.get(cid).status == "under_review"
    assert site.service.clock(cid).days_used == 3 and site.service.clock(cid).paused_days == 2

    review = rita.get(f"/app/cases/{cid}/review")
    assert ('value="fylke"' in review.text) and ('value="5 years"' in review.text)
    assert ("80 år eller eldre" if lang == "nb" else "aged 80 or older") in review.text
    assert "variables.iplos.timer_per_uke.justification" in review.text  # what changed since the return
    assert ("5-årsgrupper" in review.text) == (lang == "nb")
    decisions: dict[str, str] = {}
    for i, v in enumerate(wanted.variables):
        decisions[f"outcome.{i}"] = {"fodselsaar": "coarsened", "kommune": "coarsened"}.get(v.name, "granted")
        decisions[f"level.{i}"] = {"fodselsaar": "5 years", "kommune": "fylke"}.get(v.name, "")
    rita.post(f"/app/cases/{cid}/review/variables", decisions)
    for register in ("iplos", "dar"):
        rita.post(
            f"/app/cases/{cid}/review/decide_register",
            {"register": register, "outcome": "granted", "reference": f"{register}-7"},
        )
    assert rita.get(f"/app/cases/{cid}/letter").status_code == 409  # no decision yet: no letter issued
    preview = rita.get(
        f"/app/cases/{cid}/letter/preview", outcome="approved", conditions="No linkage beyond DAR."
    )
    assert preview.status_code == 200 and "No linkage beyond DAR." in preview.text
    assert ("5-årsgrupper" if lang == "nb" else "5-year groups") in preview.text
    assert site.service.get(cid).status == "under_review"  # a preview decides nothing
    assert kari.get(f"/app/cases/{cid}/letter/preview").status_code == 403
    rita.post(
        f"/app/cases/{cid}/review/decide_case",
        {
            "outcome": "approved",
            "reasons": "helseregisterloven § 19",
            "version": site.service.get(cid).version,
        },
    )
    case = site.service.get(cid)
    assert case.status == "approved" and case.variable_decisions["iplos.kommune"].level == "fylke"
    letter = kari.get(f"/app/cases/{cid}/letter")
    assert ("fylke" if lang == "nb" else "county") in letter.text
    assert ("5-årsgrupper" if lang == "nb" else "5-year groups") in letter.text
    assert "5 years" not in letter.text.split('<article class="letter">')[1] if lang == "nb" else True

    sven = site.visitor("sven", lang)
    due = (site.clock() + timedelta(days=40)).date()
    sven.post(
        f"/app/cases/{cid}/do/make_offer",
        {
            "hours.radgiver": "20",
            "desc.radgiver": "linkage",
            "hours.statistiker": "6",
            "expected_delivery": due.isoformat(),
            "version": case.version,
        },
    )
    case = site.service.get(cid)
    assert case.status == "offered" and case.offers[-1].total == 20 * 1350 + 6 * 1650
    page = kari.get(f"/app/cases/{cid}")
    assert ("hjemmeboende" if lang == "nb" else "home-dwelling") in page.text
    assert (f"{due.day}.{due.month}.{due.year}" if lang == "nb" else f"{due.day} ") in page.text
    assert ("kr\u00a036\u00a0900,00" if lang == "nb" else "NOK\u00a036,900.00") in page.text
    kari.post(f"/app/cases/{cid}/do/accept_offer", {"version": case.version})
    sven.post(f"/app/cases/{cid}/do/record_linkage_done", {"summary": '{"dar": {"matched": 10}}'})
    # the plan form names every quasi-identifier of the extract with a choice of levels (a plan must
    # give each a level); those this walk does not coarsen stay as recorded
    offered = re.findall(r'name="qi" value="([^"]+)"', sven.get(f"/app/cases/{cid}").text)
    assert {"fodselsaar", "kommune"} <= set(offered)
    as_recorded = {f"level.{q}": "0" for q in offered if q not in ("fodselsaar", "kommune")}
    proposed = sven.post(
        f"/app/cases/{cid}/do/propose_anonymisation",
        {
            **as_recorded,
            "qi": offered,
            "level.fodselsaar": "5 years",
            "level.kommune": "fylke",
            "k": "5",
            "max_suppression": "0.05",
            "comment": "k=5",
        },
    )
    assert proposed.status_code in (200, 303), proposed.text[:2000]
    too_fine = kari.post(
        f"/app/cases/{cid}/do/counter_anonymisation",
        {
            **as_recorded,
            "qi": offered,
            "level.fodselsaar": "5 years",
            "level.kommune": "0",
            "k": "3",
            "max_suppression": "0.05",
        },
    )
    assert too_fine.status_code == 422 and "plan.levels.kommune" in too_fine.text
    kari.post(
        f"/app/cases/{cid}/do/counter_anonymisation",
        {
            **as_recorded,
            "qi": offered,
            "level.fodselsaar": "10 years",
            "level.kommune": "fylke",
            "k": "3",
            "max_suppression": "0.05",
            "comment": "coarser age",
        },
    )
    sven.post(f"/app/cases/{cid}/do/agree_anonymisation", {"round": "2"})
    assert site.service.get(cid).agreed_round == 2
    sven.post(
        f"/app/cases/{cid}/do/record_delivery", {"delivery_id": f"{cid}-d1", "manifest_sha256": "ab" * 32}
    )
    sven.post(
        f"/app/cases/{cid}/do/record_hours",
        {
            "staff_group": "radgiver",
            "hours": "22,5" if lang == "nb" else "22.5",
            "work_date": site.clock().date().isoformat(),
            "note": "linkage",
        },
    )
    sven.post(f"/app/cases/{cid}/do/issue_invoice", {})
    case = site.service.get(cid)
    assert case.status == "invoiced" and case.invoices[-1].total == 22.5 * 1350
    invoice = kari.get(f"/app/cases/{cid}/invoice")
    assert ("30\u00a0375,00" if lang == "nb" else "30,375.00") in invoice.text

    events = kari.get(f"/app/cases/{cid}").text
    for name in (
        "Submitted",
        "ReturnedToApplicant",
        "Resubmitted",
        "CaseDecided",
        "OfferMade",
        "InvoiceIssued",
    ):
        assert re.search(r"<strong>[^<]+</strong> – ", events), name
    assert events.count("<li><strong>") == len(site.service.history(cid))

    ada = site.visitor("ada", lang)
    stats = ada.get("/app/admin/statistics")
    assert stats.status_code == 200 and ("3,0" if lang == "nb" else "3.0") in stats.text
    assert ("1 saker kontrollert, 0 med brudd" if lang == "nb" else "1 cases checked, 0 broken") in ada.get(
        "/app/admin/audit"
    ).text
    public = site.visitor(None, lang).get("/transparency")
    assert wanted.project.title in public.text and "kari" not in public.text


def test_staff_pages_refuse_other_roles(site: Site) -> None:
    kari = site.visitor("kari")
    assert kari.get("/app/queue").status_code == 403
    assert kari.get("/app/admin/users").status_code == 403
    assert (
        kari.post(
            "/app/admin/users", {"username": "eve", "password": "x" * 20, "role": "administrator"}
        ).status_code
        == 403
    )
    assert site.service.users.get("eve") is None
    rita = site.visitor("rita")
    assert rita.get("/app/admin/audit").status_code == 403


def test_applicant_cannot_see_anothers_case(site: Site) -> None:
    kari = site.visitor("kari")
    cid = case_id_of(kari.post("/app/cases").url)
    per = site.visitor("per")
    assert per.get(f"/app/cases/{cid}").status_code == 404
    assert per.get(f"/app/cases/{cid}/edit").status_code == 404
    assert per.post(f"/app/cases/{cid}/do/withdraw", {"reason": "mine now"}).status_code == 404
    assert site.service.get(cid).status == "draft"


def test_login_logout_and_cookie_flags(site: Site) -> None:
    v = site.visitor(None)
    v.get("/login")
    wrong = v.post("/login", {"username": "kari", "password": "wrong password!"})
    assert wrong.status_code == 401
    response = v.client.post(
        "/login",
        data={"username": "kari", "password": "correct horse battery staple", "csrf_token": v.csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/app"
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("iplos_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    v.csrf = ""
    v.get("/app")
    assert v.post("/logout").status_code == 200
    assert "/login" in str(v.get("/app").url)
    secure = Visitor(site.app)
    secure.client.base_url = "https://testserver"  # type: ignore[assignment]
    secure.get("/login")
    over_https = secure.client.post(
        "/login",
        data={"username": "kari", "password": "correct horse battery staple", "csrf_token": secure.csrf},
        follow_redirects=False,
    )
    assert "Secure" in next(
        c for c in over_https.headers.get_list("set-cookie") if c.startswith("iplos_session=")
    )
    secure.close()


def test_login_redirect_stays_on_the_site(site: Site) -> None:
    v = site.visitor(None)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        v.get("/login")  # each login gives the browser a new CSRF cookie
        response = v.client.post(
            "/login",
            data={
                "username": "kari",
                "password": "correct horse battery staple",
                "csrf_token": v.csrf,
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/app", target


def test_queue_sorted_by_days_left_with_overdue_flagged(site: Site) -> None:
    old = drive(site.service, "under_review")
    site.clock.advance(days=20)
    middle = drive(site.service, "submitted")
    site.clock.advance(days=5)
    fresh = drive(site.service, "under_review")
    returned = drive(site.service, "returned")
    site.advance(12)  # old: 37 days, middle: 17, fresh: 12, returned: clock stopped
    rita = site.visitor("rita")
    html = rita.get("/app/queue").text
    order = [html.index(c.case_id) for c in (old, middle, fresh, returned)]
    assert order == sorted(order), "fewest days left first; returned cases last"
    row = html[html.index(old.case_id) : html.index("</tr>", html.index(old.case_id))]
    assert 'class="overdue"' in row and "Overdue by 7 days" in row
    assert "13 days left" in html and "18 days left" in html


def test_administrator_creates_and_disables_accounts(site: Site) -> None:
    ada = site.visitor("ada")
    weak = ada.post("/app/admin/users", {"username": "nina", "password": "short", "role": "reviewer"})
    assert weak.status_code == 422 and "12 characters" in weak.text
    made = ada.post(
        "/app/admin/users",
        {
            "username": "nina",
            "password": "a long enough passphrase",
            "role": "reviewer",
            "display_name": "Nina",
        },
    )
    assert made.status_code == 200 and "nina" in made.text
    nina = site.visitor(None, "nb")
    nina.login("nina", "a long enough passphrase")
    assert nina.get("/app/queue").status_code == 200
    ada.post("/app/admin/users/nina/active", {"active": "0"})
    assert "/login" in str(nina.get("/app/queue").url)  # disabling ends her session at once
    assert ada.post("/app/admin/users/ada/active", {"active": "0"}).status_code == 409
    assert site.service.users.get("ada").active  # type: ignore[union-attr]


def test_appeal_withdraw_and_refused_commands_on_the_case_page(site: Site) -> None:
    rejected = drive(site.service, "rejected")
    kari, rita = site.visitor("kari", "nb"), site.visitor("rita", "nb")
    page = kari.get(f"/app/cases/{rejected.case_id}")
    assert f'action="/app/cases/{rejected.case_id}/do/lodge_appeal"' in page.text
    kari.post(f"/app/cases/{rejected.case_id}/do/lodge_appeal", {"grounds": "The variables are necessary."})
    assert site.service.get(rejected.case_id).status == "appealed"
    rita.post(
        f"/app/cases/{rejected.case_id}/do/decide_appeal",
        {"outcome": "reopened", "reason": "New information."},
    )
    assert site.service.get(rejected.case_id).status == "under_review"
    stale = kari.post(f"/app/cases/{rejected.case_id}/do/withdraw", {"reason": "x", "version": "1"})
    assert stale.status_code == 409 and site.service.get(rejected.case_id).status == "under_review"
    not_now = kari.post(f"/app/cases/{rejected.case_id}/do/accept_offer", {})
    assert not_now.status_code == 409 and 'role="alert"' in not_now.text
    never = kari.post(
        f"/app/cases/{rejected.case_id}/do/decide_case", {"outcome": "approved", "reasons": "mine"}
    )
    assert never.status_code == 403
    assert kari.post(f"/app/cases/{rejected.case_id}/do/no_such_command", {}).status_code == 400
    kari.post(f"/app/cases/{rejected.case_id}/do/withdraw", {"reason": "no longer needed"})
    assert site.service.get(rejected.case_id).status == "withdrawn"


def test_withdraw_and_close_from_the_case_page(site: Site) -> None:
    kari, rita = site.visitor("kari"), site.visitor("rita")
    cid, wanted = compose(site, kari)
    kari.post(f"/app/cases/{cid}/edit", {**application_form(wanted), "action": "submit"})
    assert site.service.get(cid).status == "submitted"
    page = rita.get(f"/app/cases/{cid}")
    assert "/do/close" in page.text and "/do/withdraw" not in page.text
    assert "/do/withdraw" in kari.get(f"/app/cases/{cid}").text
    kari.post(
        f"/app/cases/{cid}/do/withdraw", {"reason": "no funding", "version": site.service.get(cid).version}
    )
    assert site.service.get(cid).status == "withdrawn"
    assert "/do/withdraw" not in kari.get(f"/app/cases/{cid}").text
    other = case_id_of(kari.post("/app/cases").url)
    closed = rita.post(
        f"/app/cases/{other}/do/close", {"reason": "duplicate", "version": site.service.get(other).version}
    )
    assert closed.status_code == 200 and site.service.get(other).status == "closed"


def test_table_requests_are_composed_in_the_form(site: Site) -> None:
    kari = site.visitor("kari")
    cid = case_id_of(kari.post("/app/cases").url)
    base = {"aarganger": "2012-2016", "output": "tables", "population.everyone": "on"}
    kari.post(f"/app/cases/{cid}/edit", {**base, "action": "add_table"})
    page = kari.get(f"/app/cases/{cid}/edit")
    assert 'name="tables[0].dimensions[0].variable"' in page.text
    table = {
        "tables[0].name": "users by county",
        "tables[0].dimensions[0].variable": "iplos.kommune",
        "tables[0].dimensions[1].variable": "iplos.fodselsaar",
        "tables[0].statistic": "persons",
        "tables[0].aarganger": "2014, 2016",
    }
    kari.post(f"/app/cases/{cid}/edit", {**base, **table, "action": "save"})
    saved = site.service.get(cid).content.tables
    assert [(d.variable, d.level) for d in saved[0].dimensions] == [("kommune", None), ("fodselsaar", None)]
    assert saved[0].aarganger == (2014, 2016) and saved[0].universe is None
    page = kari.get(f"/app/cases/{cid}/edit")
    assert 'value="fylke"' in page.text and 'value="5 years"' in page.text  # levels of the chosen variables
    kari.post(
        f"/app/cases/{cid}/edit",
        {
            **base,
            **table,
            "tables[0].dimensions[0].level": "fylke",
            "tables[0].aarganger": "2011",
            "tables[0].universe.own": "on",
            "action": "save",
        },
    )
    saved = site.service.get(cid).content.tables
    assert saved[0].dimensions[0].level == "fylke" and saved[0].universe is not None
    page = kari.get(f"/app/cases/{cid}/edit")
    assert 'name="tables[0].universe.age.min_age"' in page.text  # the universe's own builder
    submitted = kari.post(
        f"/app/cases/{cid}/edit",
        {**base, **table, "tables[0].aarganger": "2011", "tables[0].universe.own": "on", "action": "submit"},
    )
    assert submitted.status_code == 422
    assert (
        'id="err-tables[0].aarganger"' in submitted.text and 'id="err-tables[0].universe"' in submitted.text
    )
    kari.post(f"/app/cases/{cid}/edit", {**base, "action": "remove_table:0"})
    assert site.service.get(cid).content.tables == ()
