"""The pure part of notifications: which event tells whom what, in which language, and what a mail may not say."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from iplos.cases import Case
from iplos.cases import events as ev
from iplos.cases.examples import example_application
from iplos.cases.notify import (
    DELETION_WARNING_DAYS,
    KINDS,
    LANGUAGES,
    REVIEW_WARNING_DAYS,
    deletion_reminders,
    mask,
    messages_for_event,
    render,
    review_reminders,
)

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TODAY = AT.date()


def _case(title: str = "Hjemmetjenester og hjerneslag", status: str = "under_review") -> Case:
    content = example_application(TODAY, members=("ola",))
    content = dataclasses.replace(content, project=dataclasses.replace(content.project, title=title))
    return Case(case_id="2026-abcd0001", owner="kari", status=status, content=content)  # type: ignore[arg-type]


def test_submission_tells_every_reviewer_and_gives_the_applicants_a_receipt() -> None:
    notices = messages_for_event(
        2, ev.Submitted(at=AT, actor="kari", role="applicant"), _case(), ["rita", "rolf"], {}
    )
    assert sorted((n.recipient, n.kind) for n in notices) == [
        ("kari", "receipt"),
        ("ola", "receipt"),
        ("rita", "submitted"),
        ("rolf", "submitted"),
    ]
    assert {n.trigger for n in notices} == {"event:2"}


def test_each_recipient_gets_their_own_language_bokmaal_by_default() -> None:
    event = ev.OfferMade(
        at=AT,
        actor="sven",
        role="processor",
        number=1,
        lines=(),
        total=36900.0,
        currency="NOK",
        expected_delivery=date(2026, 5, 1),
        valid_until=date(2026, 3, 16),
    )
    notices = {n.recipient: n for n in messages_for_event(9, event, _case(), [], {"ola": "en"})}
    assert notices["kari"].language == "nb" and notices["ola"].language == "en"
    assert "svar innen 16.3.2026" in notices["kari"].subject
    assert "kr 36 900,00" in notices["kari"].text and "1.5.2026" in notices["kari"].text
    assert "reply by 2026-03-16" in notices["ola"].subject and "NOK 36,900.00" in notices["ola"].text


def test_which_events_notify_whom() -> None:
    case = _case()
    members = ["kari", "ola"]
    cases = [
        (
            ev.ReturnedToApplicant(at=AT, actor="rita", role="reviewer", comments=("a", "b")),
            "returned",
            members,
        ),
        (
            ev.CaseDecided(at=AT, actor="rita", role="reviewer", outcome="approved", reasons=("r",)),
            "decided",
            members,
        ),
        (
            ev.AppealDecided(at=AT, actor="rita", role="reviewer", outcome="upheld", reason="r"),
            "appeal_decided",
            members,
        ),
        (
            ev.Delivered(at=AT, actor="sven", role="processor", delivery_id="d1", manifest_sha256="ab" * 32),
            "delivered",
            members,
        ),
        (ev.Resubmitted(at=AT, actor="kari", role="applicant"), "resubmitted", ["rita"]),
    ]
    for event, kind, people in cases:
        got = messages_for_event(5, event, case, ["rita"], {})
        assert sorted(n.recipient for n in got if n.kind == kind) == people, kind
    quiet = ev.HoursRecorded(
        at=AT, actor="sven", role="processor", staff_group="radgiver", hours=2, work_date=TODAY
    )
    assert messages_for_event(5, quiet, case, ["rita"], {}) == []


def test_free_text_stays_in_the_app_and_hashes_are_not_quoted() -> None:
    case = _case()
    returned = ev.ReturnedToApplicant(
        at=AT, actor="rita", role="reviewer", comments=("Person 01017012345 is wrong",)
    )
    delivered = ev.Delivered(
        at=AT, actor="sven", role="processor", delivery_id="d1", manifest_sha256="ef" * 32
    )
    for event in (returned, delivered):
        for n in messages_for_event(4, event, case, [], {}):
            for part in (n.subject, n.text, n.html):
                assert "01017012345" not in part and "ef" * 32 not in part
    assert "1 merknad" in messages_for_event(4, returned, case, [], {})[0].text


@given(st.text(alphabet="0123456789 .-abc", max_size=40))
def test_mask_leaves_no_eleven_digit_run(text: str) -> None:
    masked = mask(text)
    assert re.search(r"\d{11}", masked) is None
    assert re.search(r"\d(?:[\s.-]?\d){10}", masked) is None
    if re.search(r"\d{11}", text) is None and re.search(r"\d(?:[\s.-]?\d){10}", text) is None:
        assert masked == text


def test_a_fodselsnummer_in_the_title_is_masked_and_a_hostile_title_is_escaped_in_html() -> None:
    case = _case('<script>alert(1)</script> "x" & 12345678901')
    n = render("delivered", "kari", "event:1", "nb", case, "https://iplos.example")
    for part in (n.subject, n.text, n.html):
        assert "12345678901" not in part
    assert "<script>" not in n.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in n.html
    assert "&quot;x&quot; &amp;" in n.html
    assert "<script>" in n.text  # plain text is plain: shown as text by every mail reader
    assert "https://iplos.example/app/cases/2026-abcd0001" in n.text


def test_every_kind_exists_in_both_languages_with_the_same_placeholders() -> None:
    import string

    from iplos.cases.notify import _TEXTS

    for kind in KINDS:
        assert set(_TEXTS[kind]) == set(LANGUAGES)
        fields = [
            {f for part in _TEXTS[kind][lang] for _, f, _, _ in string.Formatter().parse(part) if f}
            for lang in LANGUAGES
        ]
        assert fields[0] == fields[1], kind


def test_review_reminder_only_near_the_deadline_and_once_per_deadline() -> None:
    case = _case()
    due = TODAY + timedelta(days=REVIEW_WARNING_DAYS)
    assert review_reminders(case, REVIEW_WARNING_DAYS + 1, due, True, ["rita"], {}) == []
    assert review_reminders(case, 2, due, False, ["rita"], {}) == []
    [n] = review_reminders(case, 2, due, True, ["rita"], {"rita": "en"})
    assert n.trigger == f"review_due:{due.isoformat()}" and "2 day(s) left" in n.text


def test_deletion_reminder_only_while_the_data_are_held() -> None:
    case = _case(status="delivered")
    due = case.content.deletion_date
    assert due is not None
    assert deletion_reminders(case, due - timedelta(days=DELETION_WARNING_DAYS + 1), {}) == []
    near = deletion_reminders(case, due - timedelta(days=DELETION_WARNING_DAYS), {})
    assert sorted(n.recipient for n in near) == ["kari", "ola"]
    done = dataclasses.replace(case, status="deletion_confirmed")
    assert deletion_reminders(done, due, {}) == []


def test_a_title_with_line_breaks_gives_a_one_line_subject() -> None:
    n = render("delivered", "kari", "event:1", "nb", _case("Tittel\r\nBcc: x@example.com"), "")
    assert "\n" not in n.subject and "\r" not in n.subject
