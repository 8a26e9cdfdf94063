"""Whole cases through `CaseService`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from iplos.cases import (
    Actor,
    CaseNotFound,
    CaseService,
    CommandRefused,
    ConcurrencyError,
    EstimateLine,
    PermissionDenied,
    VariableRequest,
    replay,
)
from iplos.cases.examples import Cast, ManualClock, drive, example_plan
from iplos.cases.store import events_table


def test_happy_path(service: CaseService, cast: Cast, clock: ManualClock) -> None:
    case = drive(service, "closed", cast)
    assert case.status == "closed"
    assert case.variable_decisions["iplos.kommune"].level == "fylke"
    assert case.variable_decisions["iplos.fodselsaar"].level == "5 years"
    assert set(case.approved_registers()) == {"iplos", "dar"}
    assert case.linkage_statuses == {"dar": "granted"}
    assert len(case.granted_variables()) == len(case.content.variables)
    assert case.agreed_plan == example_plan()
    assert case.deliveries[0].delivery_id == f"{case.case_id}-d1"
    invoice = service.invoice(case.case_id)
    assert invoice.total == 18.5 * service.rate_card.rates["radgiver"].rate
    assert service.clock(case.case_id).expected_delivery == clock().date() + timedelta(days=60)
    assert [r.ok for r in service.verify(case.case_id)] == [True]
    history = service.history(case.case_id)
    assert [e.seq for e in history] == list(range(1, case.version + 1))
    assert replay(e.event for e in history) == case


def test_return_and_resubmit_stops_the_clock(
    service: CaseService, cast: Cast, clock: ManualClock, member: Actor
) -> None:
    case = drive(service, "under_review", cast)
    cid = case.case_id
    clock.advance(days=10)
    service.return_to_applicant(cid, cast.reviewer, ["Justify timer_per_uke."])
    clock.advance(days=20)
    assert service.clock(cid).days_used == 10 and not service.clock(cid).running
    assert service.clock(cid).paused_days == 20
    service.edit_draft(
        cid, cast.applicant, population=replace(case.content.population, description="Home-dwelling, 80+")
    )
    service.resubmit(cid, member, "Justified in the protocol, section 3.")
    clock.advance(days=5)
    c = service.clock(cid)
    assert (c.days_used, c.days_left, c.overdue, c.running) == (15, 15, False, True)
    assert c.deadline == (clock() + timedelta(days=15)).date()
    clock.advance(days=16)
    assert service.clock(cid).overdue
    assert [s.clock.overdue for s in service.list(cast.reviewer)] == [True]
    drive(service, "approved", cast, case_id=cid)
    c = service.clock(cid)
    assert c.decided_within_limit is False and not c.overdue
    assert service.statistics().median_days == pytest.approx(31.0)


def test_returned_case_refuses_review_commands(service: CaseService, cast: Cast) -> None:
    case = drive(service, "returned", cast)
    with pytest.raises(CommandRefused, match="returned"):
        service.decide_variable(case.case_id, cast.reviewer, "kjonn", "granted")


def test_partial_approval(service: CaseService, cast: Cast) -> None:
    case = drive(service, "partly_approved", cast)
    assert case.variable_decisions["iplos.hukommelse"].outcome == "denied"
    letter = service.letter(case.case_id)
    assert letter.data["outcome"] == "partly_approved"
    assert [v["name"] for v in letter.data["denied_variables"]] == ["hukommelse"]
    assert "Delvis innvilget" in letter.markdown and "hukommelse" in letter.markdown
    assert "Klagerett" in letter.markdown
    # the partly approved case gets an offer like an approved one
    drive(service, "accepted", cast, case_id=case.case_id)


def test_appeal_reopened_and_upheld(service: CaseService, cast: Cast, clock: ManualClock) -> None:
    case = drive(service, "appealed", cast)
    cid = case.case_id
    with pytest.raises(CommandRefused):
        service.make_offer(
            cid, cast.processor, [EstimateLine("radgiver", 1)], clock().date() + timedelta(days=9)
        )
    service.decide_appeal(cid, cast.reviewer, "reopened", "New information in the appeal.")
    assert service.get(cid).status == "under_review"
    for v in service.get(cid).content.variables:
        service.decide_variable(cid, cast.reviewer, v.name, "granted", register=v.register)
    for reg in ("iplos", "dar"):
        service.decide_register(cid, cast.reviewer, reg, "granted", reference="ok")
    service.decide_case(cid, cast.reviewer, "approved", ["Appeal granted."])
    case = service.get(cid)
    assert case.status == "approved" and case.appeals[0].outcome == "reopened"
    other = drive(service, "appealed", cast)
    service.decide_appeal(other.case_id, cast.reviewer, "upheld", "The decision stands.")
    assert service.get(other.case_id).status == "rejected"
    assert service.letter(other.case_id).data["appeals"][0]["outcome"] == "upheld"


def test_change_application_with_diff(service: CaseService, cast: Cast, stranger: Actor) -> None:
    base = drive(service, "partly_approved", cast)
    change = service.create_draft(cast.applicant, kind="change", base_case_id=base.case_id)
    assert change.base_content is not None
    assert "hukommelse" not in [v.name for v in change.content.variables]  # only what was approved
    new_var = VariableRequest(
        "sivilstand", "marital status affects need for home care services", "ssb", "forskning"
    )
    with pytest.raises(CommandRefused) as refused:
        service.submit(change.case_id, cast.applicant)
    assert "changes nothing" in str(refused.value)
    linkages = (
        *change.content.linkages,
        replace(change.content.linkages[0], register="ssb", approval_reference="SSB 2026/1"),
    )
    service.edit_draft(
        change.case_id,
        cast.applicant,
        variables=(*change.content.variables, new_var),
        linkages=linkages,
        aarganger=(*change.content.aarganger, 2011),
    )
    changes = {(c.path, c.kind) for c in service.diff(change.case_id, cast.applicant)}
    assert ("variables.ssb.sivilstand", "added") in changes
    assert ("linkages.ssb", "added") in changes
    assert ("aarganger", "added") in changes
    service.submit(change.case_id, cast.applicant)
    with pytest.raises(CaseNotFound):
        service.create_draft(stranger, kind="change", base_case_id=base.case_id)
    with pytest.raises(CommandRefused, match="no approved case"):
        service.diff(base.case_id)


def test_new_period(service: CaseService, cast: Cast) -> None:
    base = drive(service, "approved", cast)
    case = service.create_draft(
        cast.applicant,
        kind="new_period",
        base_case_id=base.case_id,
        content=replace(base.content, aarganger=(2017, 2018)),
    )
    assert (
        case.content.variables == base.content.variables
        and case.content.legal_basis == base.content.legal_basis
    )
    with pytest.raises(CommandRefused, match="variables"):
        service.edit_draft(case.case_id, cast.applicant, variables=base.content.variables[:2])
    with pytest.raises(CommandRefused) as refused:
        service.edit_draft(case.case_id, cast.applicant, aarganger=(2016, 2017))
        service.submit(case.case_id, cast.applicant)
    assert "already approved: 2016" in str(refused.value)
    service.edit_draft(case.case_id, cast.applicant, aarganger=(2017, 2018))
    service.submit(case.case_id, cast.applicant)
    service.start_review(case.case_id, cast.reviewer)
    for v in case.content.variables:
        service.decide_variable(case.case_id, cast.reviewer, v.name, "granted", register=v.register)
    service.decide_register(case.case_id, cast.reviewer, "iplos", "granted", reference="H")
    service.decide_register(case.case_id, cast.reviewer, "dar", "granted", reference="F")
    with pytest.raises(CommandRefused) as missing:  # 2017-2018 is in KPR as well: its own approval
        service.decide_case(case.case_id, cast.reviewer, "approved", ["ok"])
    assert [p.value for p in missing.value.problems] == ["kpr"]
    service.decide_register(case.case_id, cast.reviewer, "kpr", "granted", reference="K")
    assert service.decide_case(case.case_id, cast.reviewer, "approved", ["ok"]).status == "approved"
    assert {c.path for c in service.diff(case.case_id)} == {"aarganger"}


def test_offer_declined_then_new_offer(service: CaseService, cast: Cast, clock: ManualClock) -> None:
    case = drive(service, "offer_declined", cast)
    assert case.offers[0].status == "declined"
    with pytest.raises(CommandRefused):
        service.accept_offer(case.case_id, cast.applicant)
    service.make_offer(
        case.case_id, cast.processor, [EstimateLine("saksbehandler", 5)], clock().date() + timedelta(days=30)
    )
    clock.advance(days=15)
    with pytest.raises(CommandRefused, match="expired"):
        service.accept_offer(case.case_id, cast.applicant)
    service.make_offer(
        case.case_id, cast.processor, [EstimateLine("saksbehandler", 4)], clock().date() + timedelta(days=30)
    )
    case = service.accept_offer(case.case_id, cast.applicant)
    assert [o.status for o in case.offers] == ["declined", "declined", "accepted"]
    assert case.accepted_offer is not None and case.accepted_offer.number == 3


def test_withdraw_and_close(service: CaseService, cast: Cast) -> None:
    case = drive(service, "withdrawn", cast)
    with pytest.raises(CommandRefused):
        service.submit(case.case_id, cast.applicant)
    rejected = drive(service, "rejected", cast)
    with pytest.raises(PermissionDenied):
        service.close_case(rejected.case_id, cast.processor)
    assert service.close_case(rejected.case_id, cast.administrator, "no appeal").status == "closed"


def test_applicants_see_only_their_cases(
    service: CaseService, cast: Cast, member: Actor, stranger: Actor
) -> None:
    case = drive(service, "submitted", cast)
    other = service.create_draft(stranger)
    assert [s.case_id for s in service.list(cast.applicant)] == [case.case_id]
    assert [s.case_id for s in service.list(member)] == [case.case_id]
    assert [s.case_id for s in service.list(stranger)] == [other.case_id]
    assert len(service.list(cast.reviewer)) == 2
    with pytest.raises(CaseNotFound):
        service.get(case.case_id, stranger)
    with pytest.raises(CaseNotFound):
        service.get("2026-nosuch", cast.reviewer)


def test_concurrent_decisions_one_wins(service: CaseService, cast: Cast) -> None:
    case = drive(service, "under_review", cast)
    version = case.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(name: str) -> None:
        barrier.wait()
        try:
            service.decide_variable(case.case_id, cast.reviewer, name, "granted", expected_version=version)
            outcomes.append("accepted")
        except ConcurrencyError:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("kjonn", "husstand")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    history = service.history(case.case_id)
    assert [e.seq for e in history] == list(range(1, version + 2))
    assert service.verify(case.case_id)[0].ok


def test_concurrent_commands_lose_nothing(service: CaseService, cast: Cast) -> None:
    """Without an expected version, concurrent commands either apply or fail whole: no gap, no duplicate."""
    case = drive(service, "under_review", cast)
    names = [v.name for v in case.content.variables if v.register == "iplos"][:4]
    applied: list[str] = []
    barrier = threading.Barrier(len(names))

    def decide(name: str) -> None:
        barrier.wait()
        try:
            service.decide_variable(case.case_id, cast.reviewer, name, "granted")
            applied.append(name)
        except ConcurrencyError:
            pass

    threads = [threading.Thread(target=decide, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = service.get(case.case_id)
    assert sorted(k.split(".")[1] for k in after.variable_decisions) == sorted(applied)
    assert after.version == case.version + len(applied)
    assert [e.seq for e in service.history(case.case_id)] == list(range(1, after.version + 1))


def _tamper(service: CaseService, statement: sa.Executable) -> None:
    with service.engine.begin() as conn:
        conn.execute(statement)


def test_tampering_is_detected(service: CaseService, cast: Cast) -> None:
    a = drive(service, "approved", cast)
    b = drive(service, "submitted", cast)
    c = drive(service, "under_review", cast)
    t = events_table
    _tamper(
        service,
        t.update()
        .where(t.c.case_id == a.case_id, t.c.seq == 6)
        .values(payload=sa.func.replace(t.c.payload, "fylke", "landsdel")),
    )
    _tamper(service, t.delete().where(t.c.case_id == b.case_id, t.c.seq == b.version))
    _tamper(service, t.delete().where(t.c.case_id == c.case_id, t.c.seq == 2))
    reports = {r.case_id: r for r in service.verify()}
    assert "altered" in " ".join(reports[a.case_id].problems)
    assert any("deleted" in p for p in reports[b.case_id].problems)
    assert any("missing" in p for p in reports[c.case_id].problems)
    assert not any(r.ok for r in reports.values())


def test_unknown_case(service: CaseService, cast: Cast) -> None:
    with pytest.raises(CaseNotFound):
        service.submit("2026-00000000", cast.applicant)
    with pytest.raises(CaseNotFound):
        service.verify("2026-00000000")


def test_forbidden_is_not_not_found(service: CaseService, cast: Cast, stranger: Actor) -> None:
    case = drive(service, "submitted", cast)
    with pytest.raises(PermissionDenied):
        service.start_review(case.case_id, Actor("kari", "applicant"))
    with pytest.raises(CaseNotFound):
        service.withdraw(case.case_id, stranger)
