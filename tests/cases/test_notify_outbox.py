"""The outbox on SQLite and PostgreSQL with a real local SMTP server (aiosmtpd): written with the
event, sent once, retried when the server refuses or is down, re-sent with the same Message-ID
after a crash between send and mark, and reminders queued once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from smtp_helpers import SmtpServer  # type: ignore[import-not-found]

from iplos.cases import Actor, CaseService, CommandRefused
from iplos.cases.examples import Cast, ManualClock, drive, example_application
from iplos.cases.notify_service import MailSettings, message_id, remind, run_once, send_due
from iplos.cases.outbox_store import LEASE, MAX_ATTEMPTS, Outbox, OutboxMessage
from iplos.errors import IplosError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def _people(service: CaseService) -> Outbox:
    for name, role in (
        ("kari", "applicant"),
        ("ola", "applicant"),
        ("rita", "reviewer"),
        ("sven", "processor"),
    ):
        service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
    outbox = service.outbox
    outbox.set_contact("kari", "kari@example.no")
    outbox.set_contact("ola", "ola@example.org", "en")
    outbox.set_contact("rita", "rita@helsedir.example")
    return outbox


def _settings(server: SmtpServer) -> MailSettings:
    return MailSettings("127.0.0.1", server.port, "iplos@helsedir.example", timeout=5)


def test_messages_are_written_with_the_event_and_sent_exactly_once(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    outbox = _people(service)
    case = drive(service, "submitted")
    rows = outbox.all(case.case_id)
    assert sorted((r.recipient, r.kind, r.status) for r in rows) == [
        ("kari", "receipt", "pending"),
        ("ola", "receipt", "pending"),
        ("rita", "submitted", "pending"),
    ]
    report = send_due(outbox, _settings(smtp), clock())
    assert (report.claimed, report.sent, report.failed) == (3, 3, 0)
    assert send_due(outbox, _settings(smtp), clock()).claimed == 0  # nothing twice
    mails = {m["To"]: m for m in smtp.inbox.mails}
    assert sorted(mails) == ["kari@example.no", "ola@example.org", "rita@helsedir.example"]
    assert mails["ola@example.org"]["Content-Language"] == "en"
    assert "received" in mails["ola@example.org"]["Subject"]
    assert "mottatt" in mails["kari@example.no"]["Subject"]
    assert {r.status for r in outbox.all(case.case_id)} == {"sent"}
    for row in outbox.all(case.case_id):
        assert mails[row.email]["Message-ID"] == message_id(row, _settings(smtp))
    # the same messages in the app
    assert [m.kind for m in outbox.for_user("kari")] == ["receipt"]


def test_a_refused_command_writes_no_message(service: CaseService) -> None:
    outbox = _people(service)
    case = service.create_draft(Cast().applicant)  # empty: submitting is refused
    with pytest.raises(CommandRefused):
        service.submit(case.case_id, Cast().applicant)
    assert outbox.all(case.case_id) == []


def test_a_refusing_server_is_retried_with_backoff_and_sends_once_when_it_accepts(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    outbox = _people(service)
    case = drive(service, "submitted")
    smtp.inbox.refuse = 10
    report = send_due(outbox, _settings(smtp), clock())
    assert (report.sent, report.failed) == (0, 3)
    rows = outbox.all(case.case_id)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all("451" in (r.last_error or "") for r in rows)
    assert send_due(outbox, _settings(smtp), clock()).claimed == 0  # not due before the backoff
    smtp.inbox.refuse = 0
    clock.advance(hours=1)
    assert send_due(outbox, _settings(smtp), clock()).sent == 3
    clock.advance(days=1)
    assert send_due(outbox, _settings(smtp), clock()).claimed == 0
    assert len(smtp.inbox.mails) == 3


def test_a_server_that_is_down_is_retried_and_nothing_is_lost(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    outbox = _people(service)
    case = drive(service, "submitted")
    smtp.stop()
    report = send_due(outbox, _settings(smtp), clock())
    assert (report.sent, report.failed) == (0, 3)
    assert all("Connection" in (r.last_error or "") for r in outbox.all(case.case_id))
    clock.advance(hours=0.05)  # 3 minutes: past the first backoff (1 minute)
    assert send_due(outbox, _settings(smtp), clock()).failed == 3
    smtp.start()
    clock.advance(hours=1)
    assert send_due(outbox, _settings(smtp), clock()).sent == 3
    assert sorted(m["To"] for m in smtp.inbox.mails) == [
        "kari@example.no",
        "ola@example.org",
        "rita@helsedir.example",
    ]
    assert {r.attempts for r in outbox.all(case.case_id)} == {3}


def test_a_row_that_keeps_failing_is_given_up_but_stays_in_the_app(
    memory_service: CaseService, clock: ManualClock
) -> None:
    outbox = _people(memory_service)
    drive(memory_service, "submitted")
    down = MailSettings("127.0.0.1", SmtpServer().port, timeout=2)  # nothing listens there
    for _ in range(MAX_ATTEMPTS):
        send_due(outbox, down, clock())
        clock.advance(hours=7)
    assert {r.status for r in outbox.all()} == {"failed"}
    assert len(outbox.for_user("rita")) == 1


def test_a_crash_between_send_and_mark_resends_with_the_same_message_id(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    """At least once: the mail that was accepted but not marked is sent again after the lease, with
    the Message-ID of the first, so the receiver can drop the copy."""
    outbox = _people(service)
    drive(service, "submitted")

    def crash(row: OutboxMessage) -> None:
        raise SystemExit("the sender died")

    with pytest.raises(SystemExit):
        send_due(outbox, _settings(smtp), clock(), after_send=crash)
    assert len(smtp.inbox.mails) == 1
    assert [r.status for r in outbox.all()].count("sending") == 3
    assert send_due(outbox, _settings(smtp), clock()).claimed == 0  # the claim holds until the lease ends
    clock.advance(hours=LEASE.total_seconds() / 3600 + 0.01)
    assert send_due(outbox, _settings(smtp), clock()).sent == 3
    ids = [m["Message-ID"] for m in smtp.inbox.mails]
    assert len(ids) == 4 and len(set(ids)) == 3  # one copy, recognisable by its Message-ID
    assert {r.status for r in outbox.all()} == {"sent"}


def test_without_smtp_settings_messages_stay_in_the_app(
    memory_service: CaseService, clock: ManualClock
) -> None:
    outbox = _people(memory_service)
    drive(memory_service, "submitted")
    assert send_due(outbox, MailSettings(), clock()).claimed == 0
    assert {r.status for r in outbox.all()} == {"pending"}
    assert [m.kind for m in outbox.for_user("rita")] == ["submitted"]


def test_people_without_an_address_get_app_only_messages(memory_service: CaseService) -> None:
    memory_service.users.create("rita", PASSWORD, "reviewer")
    drive(memory_service, "submitted")
    assert {(r.recipient, r.status) for r in memory_service.outbox.all()} == {
        ("kari", "app_only"),
        ("ola", "app_only"),
        ("rita", "app_only"),
    }


def test_bad_contacts_are_refused(memory_service: CaseService) -> None:
    memory_service.users.create("kari", PASSWORD, "applicant")
    for bad in ("kari", "kari@example.no\r\nBcc: x@y.z", "a b@c.d", "x@y"):
        with pytest.raises(IplosError, match="not an e-mail address"):
            memory_service.outbox.set_contact("kari", bad)
    with pytest.raises(IplosError, match="language"):
        memory_service.outbox.set_contact("kari", "kari@example.no", "de")
    with pytest.raises(IplosError, match="no user"):
        memory_service.outbox.set_contact("nobody", "n@example.no")
    assert memory_service.outbox.contact("kari").email is None


def test_reminders_are_queued_once_per_deadline(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    outbox = _people(service)
    case = drive(service, "under_review")
    assert remind(service) == 0
    clock.advance(days=26)
    assert remind(service) == 1
    assert remind(service) == 0
    clock.advance(days=1)
    assert remind(service) == 0
    [row] = [r for r in outbox.all(case.case_id) if r.kind == "review_due"]
    assert row.recipient == "rita" and row.trigger.startswith("review_due:")
    new, report = run_once(service, _settings(smtp))
    assert new == 0 and report.sent >= 1
    assert any("Frist nær" in str(m["Subject"]) for m in smtp.inbox.mails)


def test_deletion_reminder_for_the_recipients(service: CaseService, clock: ManualClock) -> None:
    outbox = _people(service)
    app = example_application(clock().date(), members=("ola",))
    app = dataclasses.replace(app, deletion_date=clock().date() + timedelta(days=400))
    case = drive(service, "delivered", application=app)
    assert [r.kind for r in outbox.all(case.case_id) if r.recipient == "kari"][-1] == "delivered"
    assert remind(service) == 0
    clock.advance(days=371)
    assert remind(service) == 2 and remind(service) == 0
    assert {r.recipient for r in outbox.all(case.case_id) if r.kind == "deletion_due"} == {"kari", "ola"}


def test_no_identifier_or_hash_in_any_mail(
    service: CaseService, clock: ManualClock, smtp: SmtpServer
) -> None:
    _people(service)
    app = example_application(clock().date(), members=("ola",))
    app = dataclasses.replace(
        app, project=dataclasses.replace(app.project, title="<img src=x onerror=alert(1)> 010170 12345")
    )
    case = drive(service, "delivered", application=app)
    run_once(service, _settings(smtp))
    digests = {d.manifest_sha256 for d in service.get(case.case_id).deliveries}
    # submitted (2 receipts, 1 reviewer), decided, offer and delivered (2 each)
    assert len(smtp.inbox.mails) == 9
    for mail in smtp.inbox.mails:
        texts = [str(mail["Subject"])] + [
            part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"
        ]
        assert len(texts) == 3
        for text in texts:
            assert not re.search(r"\d{6}\s?\d{5}", text)
            assert not any(d in text for d in digests)
        html = texts[2]
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_actor_can_only_act_on_known_cases_unchanged() -> None:
    """(Guard) the hook does not change what a command returns."""
    svc = CaseService("sqlite://")
    case = svc.create_draft(Actor("kari", "applicant"))
    assert case.status == "draft" and svc.outbox.all() == []
    svc.close()


def test_two_senders_at_once_never_claim_the_same_row(service: CaseService, clock: ManualClock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    outbox = _people(service)
    for _ in range(4):
        drive(service, "submitted")
    total = len(outbox.all())
    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: [r.id for r in outbox.claim(clock(), limit=100)], range(4)))
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == total == 12
