"""The pure core: given these events, when this command, then exactly these events (or this rejection)."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from iplos.cases import (
    COMMAND_TYPES,
    EVENT_TYPES,
    PERMISSIONS,
    ROLES,
    Actor,
    Case,
    Context,
    Population,
    RateCard,
    Rejected,
)
from iplos.cases import commands as cmd
from iplos.cases import events as ev
from iplos.cases._catalogue import default_catalogue
from iplos.cases.decide import _HANDLERS, decide
from iplos.cases.examples import example_application, example_plan
from iplos.cases.model import EstimateLine, PricedLine
from iplos.cases.state import evolve, replay

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
APPLICANT = Actor("kari", "applicant")
REVIEWER = Actor("rita", "reviewer")
PROCESSOR = Actor("sven", "processor")
ADMIN = Actor("ada", "administrator")
CID = "2026-00000001"
CONTEXT = Context(RateCard.default(), default_catalogue(), new_case_id=CID)
APP = example_application(T0.date(), members=("ola",))


def at(day: float) -> Any:
    return T0 + timedelta(days=day)


def e(cls: type[ev.Event], actor: Actor, day: float = 0, **fields: Any) -> ev.Event:
    return cls(at=at(day), actor=actor.username, role=actor.role, **fields)


def created(day: float = 0) -> ev.Event:
    return e(ev.CaseCreated, APPLICANT, day, case_id=CID, kind="new", content=APP)


def under_review() -> list[ev.Event]:
    return [created(), e(ev.Submitted, APPLICANT, 1), e(ev.ReviewStarted, REVIEWER, 2)]


def all_decided(deny: str | None = None) -> list[ev.Event]:
    out = under_review()
    for v in APP.variables:
        if v.name == deny:
            out.append(
                e(
                    ev.VariableDecided,
                    REVIEWER,
                    3,
                    register=v.register,
                    name=v.name,
                    outcome="denied",
                    reason="no",
                )
            )
        else:
            out.append(
                e(ev.VariableDecided, REVIEWER, 3, register=v.register, name=v.name, outcome="granted")
            )
    out.append(e(ev.RegisterDecided, REVIEWER, 3, register="iplos", outcome="granted", reference="H-1"))
    out.append(e(ev.RegisterDecided, REVIEWER, 3, register="dar", outcome="granted", reference="F-1"))
    return out


def approved() -> list[ev.Event]:
    return [*all_decided(), e(ev.CaseDecided, REVIEWER, 4, outcome="approved", reasons=("ok",))]


def offered() -> list[ev.Event]:
    line = PricedLine("radgiver", "work", 10.0, 1350.0, 13500.0)
    return [
        *approved(),
        e(
            ev.OfferMade,
            PROCESSOR,
            5,
            number=1,
            lines=(line,),
            total=13500.0,
            currency="NOK",
            expected_delivery=date(2026, 6, 1),
            valid_until=(at(5) + timedelta(days=14)).date(),
        ),
    ]


def linked() -> list[ev.Event]:
    return [
        *offered(),
        e(ev.OfferAccepted, APPLICANT, 6, number=1),
        e(ev.LinkageDone, PROCESSOR, 7, summary={}),
    ]


def when(
    history: list[ev.Event], command: cmd.Command, actor: Actor, day: float = 10
) -> list[ev.Event] | Rejected:
    return decide(command, replay(history), actor, at(day), CONTEXT)


def test_create_draft() -> None:
    result = decide(cmd.CreateDraft(content=APP), Case(), APPLICANT, T0, CONTEXT)
    assert result == [
        ev.CaseCreated(at=T0, actor="kari", role="applicant", case_id=CID, kind="new", content=APP)
    ]


def test_only_applicants_open_cases() -> None:
    result = decide(cmd.CreateDraft(), Case(), REVIEWER, T0, CONTEXT)
    assert isinstance(result, Rejected) and result.kind == "forbidden"


def test_submit_complete_application() -> None:
    assert when([created()], cmd.Submit(), APPLICANT, 1) == [e(ev.Submitted, APPLICANT, 1)]


def test_submit_lists_every_problem_at_once() -> None:
    empty = e(
        ev.CaseCreated,
        APPLICANT,
        0,
        case_id=CID,
        kind="new",
        content=replace(APP, variables=(), population=Population(), recipients=()),
    )
    result = when([empty], cmd.Submit(), APPLICANT, 1)
    assert isinstance(result, Rejected) and result.kind == "invalid"
    columns = {p.column for p in result.problems}
    assert {"variables", "population", "recipients"} <= columns


def test_member_may_act_for_the_owner() -> None:
    assert when([created()], cmd.Submit(), Actor("ola", "applicant"), 1) == [
        e(ev.Submitted, Actor("ola", "applicant"), 1)
    ]


def test_stranger_gets_not_found() -> None:
    result = when([created()], cmd.Submit(), Actor("per", "applicant"), 1)
    assert isinstance(result, Rejected) and result.kind == "not_found"


def test_return_needs_comments_and_stops_nothing_else() -> None:
    assert isinstance(when(under_review(), cmd.ReturnToApplicant(("  ",)), REVIEWER), Rejected)
    assert when(under_review(), cmd.ReturnToApplicant(("fix x",)), REVIEWER, 3) == [
        e(ev.ReturnedToApplicant, REVIEWER, 3, comments=("fix x",))
    ]


def test_coarsened_grant_needs_a_known_level() -> None:
    missing = when(under_review(), cmd.DecideVariable("kommune", "coarsened"), REVIEWER)
    assert isinstance(missing, Rejected) and "level" in missing.reason
    unknown = when(under_review(), cmd.DecideVariable("kommune", "coarsened", level="planet"), REVIEWER)
    assert isinstance(unknown, Rejected) and "fylke" in unknown.reason
    ok = when(under_review(), cmd.DecideVariable("kommune", "coarsened", level="fylke"), REVIEWER, 3)
    assert ok == [
        e(
            ev.VariableDecided,
            REVIEWER,
            3,
            register="iplos",
            name="kommune",
            outcome="coarsened",
            level="fylke",
        )
    ]


def test_decide_variable_not_requested() -> None:
    result = when(under_review(), cmd.DecideVariable("syn", "granted"), REVIEWER)
    assert isinstance(result, Rejected) and "not requested" in result.reason


def test_register_must_be_involved() -> None:
    result = when(under_review(), cmd.DecideRegister("kpr", "granted"), REVIEWER)
    assert isinstance(result, Rejected) and "not involved" in result.reason


def test_decide_case_lists_undecided() -> None:
    result = when(under_review(), cmd.DecideCase("approved", ("ok",)), REVIEWER)
    assert isinstance(result, Rejected) and result.kind == "invalid"
    assert len(result.problems) == len(APP.variables) + 2


def test_cannot_approve_in_full_with_a_denial() -> None:
    result = when(all_decided(deny="hukommelse"), cmd.DecideCase("approved", ("ok",)), REVIEWER)
    assert isinstance(result, Rejected) and "partly_approved" in result.reason
    assert when(all_decided(deny="hukommelse"), cmd.DecideCase("partly_approved", ("ok",)), REVIEWER, 4) == [
        e(ev.CaseDecided, REVIEWER, 4, outcome="partly_approved", reasons=("ok",))
    ]


def test_partial_approval_needs_a_denial() -> None:
    result = when(all_decided(), cmd.DecideCase("partly_approved", ("ok",)), REVIEWER)
    assert isinstance(result, Rejected)


def test_appeal_within_three_weeks() -> None:
    assert isinstance(when(approved(), cmd.LodgeAppeal("x"), APPLICANT, 4 + 22), Rejected)
    assert when(approved(), cmd.LodgeAppeal("x"), APPLICANT, 20) == [
        e(ev.AppealLodged, APPLICANT, 20, grounds="x")
    ]


def test_offer_is_priced_from_the_rate_card() -> None:
    rates = RateCard.default().rates
    result = when(
        approved(),
        cmd.MakeOffer(
            (EstimateLine("radgiver", 10, "x"), EstimateLine("statistiker", 2.5)), date(2026, 6, 1)
        ),
        PROCESSOR,
        5,
    )
    assert isinstance(result, list)
    offer = result[0]
    assert isinstance(offer, ev.OfferMade)
    assert offer.total == round(10 * rates["radgiver"].rate + 2.5 * rates["statistiker"].rate, 2)
    assert offer.valid_until == (at(5) + timedelta(days=14)).date()


def test_offer_with_unknown_staff_group() -> None:
    result = when(approved(), cmd.MakeOffer((EstimateLine("astronaut", 1),), date(2026, 6, 1)), PROCESSOR)
    assert isinstance(result, Rejected) and "astronaut" in result.reason


def test_offer_expires_after_14_days() -> None:
    expired = when(offered(), cmd.AcceptOffer(), APPLICANT, 5 + 15)
    assert isinstance(expired, Rejected) and "expired" in expired.reason
    assert when(offered(), cmd.AcceptOffer(), APPLICANT, 5 + 14) == [
        e(ev.OfferAccepted, APPLICANT, 19, number=1)
    ]


def test_anonymisation_rounds_alternate() -> None:
    history = [*linked(), e(ev.AnonymisationProposed, PROCESSOR, 8, round=1, plan=example_plan())]
    again = when(history, cmd.ProposeAnonymisation(example_plan()), PROCESSOR)
    assert isinstance(again, Rejected)
    own = when(history, cmd.AgreeAnonymisation(1), PROCESSOR)
    assert isinstance(own, Rejected) and "your own" in own.reason
    counter = when(history, cmd.CounterAnonymisation(example_plan(k=3), "keep kommune"), APPLICANT, 9)
    assert counter == [
        e(ev.AnonymisationCountered, APPLICANT, 9, round=2, plan=example_plan(k=3), comment="keep kommune")
    ]
    stale = when([*history, *counter], cmd.AgreeAnonymisation(1), PROCESSOR)
    assert isinstance(stale, Rejected) and "latest" in stale.reason
    assert when([*history, *counter], cmd.AgreeAnonymisation(2), PROCESSOR, 10) == [
        e(ev.AnonymisationAgreed, PROCESSOR, 10, round=2)
    ]


def test_plan_respects_the_required_coarsening() -> None:
    kommune = e(
        ev.VariableDecided, REVIEWER, 3, register="iplos", name="kommune", outcome="coarsened", level="fylke"
    )
    history = [kommune if isinstance(x, ev.VariableDecided) and x.name == "kommune" else x for x in linked()]
    finer = {**example_plan(), "levels": {"kommune": "kommune", "fodselsaar": "5 years"}}
    result = when(history, cmd.ProposeAnonymisation(finer), PROCESSOR)
    assert isinstance(result, Rejected) and [p.column for p in result.problems] == ["plan.levels.kommune"]
    by_number = {**example_plan(), "levels": {"kommune": 0}}
    assert isinstance(when(history, cmd.ProposeAnonymisation(by_number), PROCESSOR), Rejected)
    coarser = {**example_plan(), "levels": {**example_plan()["levels"], "kommune": "landsdel"}}
    assert isinstance(when(history, cmd.ProposeAnonymisation(coarser), PROCESSOR), list)


def test_the_required_coarsening_binds_a_plan_that_names_the_column() -> None:
    """A plan may name `fodselsaar` by its extract column `alder`; the reviewer's coarsening binds
    either way (before, `alder` finer than required was accepted and only refused at delivery)."""
    required = e(
        ev.VariableDecided,
        REVIEWER,
        3,
        register="iplos",
        name="fodselsaar",
        outcome="coarsened",
        level="10 years",
    )
    history = [
        required if isinstance(x, ev.VariableDecided) and x.name == "fodselsaar" else x for x in linked()
    ]
    levels = {k: v for k, v in example_plan()["levels"].items() if k != "fodselsaar"}
    for level in ("5 years", "age"):
        finer = {**example_plan(), "levels": {**levels, "alder": level}}
        result = when(history, cmd.ProposeAnonymisation(finer), PROCESSOR)
        assert isinstance(result, Rejected) and [p.column for p in result.problems] == ["plan.levels.alder"]
        assert result.problems[0].rule == "required_coarsening"
    enough = {**example_plan(), "levels": {**levels, "alder": "10 years"}}
    assert isinstance(when(history, cmd.ProposeAnonymisation(enough), PROCESSOR), list)


def test_plan_schema_is_checked() -> None:
    result = when(linked(), cmd.ProposeAnonymisation({"k": 0, "levels": {}, "bogus": 1}), PROCESSOR)
    assert isinstance(result, Rejected) and result.kind == "invalid"
    assert {p.column for p in result.problems} >= {"plan", "plan.k", "plan.levels", "plan.max_suppression"}


def test_invoice_needs_hours() -> None:
    history = [
        *linked(),
        e(ev.AnonymisationProposed, PROCESSOR, 8, round=1, plan=example_plan()),
        e(ev.AnonymisationAgreed, APPLICANT, 9, round=1),
        e(ev.Delivered, PROCESSOR, 10, delivery_id="d1", manifest_sha256="a" * 64),
    ]
    assert isinstance(when(history, cmd.IssueInvoice(), PROCESSOR), Rejected)
    history.append(
        e(ev.HoursRecorded, PROCESSOR, 10, staff_group="radgiver", hours=3.0, work_date=date(2026, 3, 12))
    )
    history.append(
        e(ev.HoursRecorded, PROCESSOR, 10, staff_group="radgiver", hours=1.5, work_date=date(2026, 3, 12))
    )
    result = when(history, cmd.IssueInvoice(), PROCESSOR, 11)
    assert isinstance(result, list) and isinstance(result[0], ev.InvoiceIssued)
    assert result[0].total == 4.5 * RateCard.default().rates["radgiver"].rate
    assert result[0].number == f"{CID}-1"


def test_delivery_needs_a_sha256() -> None:
    history = [
        *linked(),
        e(ev.AnonymisationProposed, PROCESSOR, 8, round=1, plan=example_plan()),
        e(ev.AnonymisationAgreed, APPLICANT, 9, round=1),
    ]
    assert isinstance(when(history, cmd.RecordDelivery("d1", "xyz"), PROCESSOR), Rejected)


def test_status_refusal_names_the_allowed_statuses() -> None:
    result = when([created()], cmd.StartReview(), REVIEWER)
    assert isinstance(result, Rejected) and result.kind == "refused"
    assert "draft" in result.reason and "submitted" in result.reason


# completeness (REMS: every command has a handler and a permission row; every event a branch and a doc line)
def test_every_command_has_a_handler_and_a_permission() -> None:
    assert set(_HANDLERS) == set(COMMAND_TYPES.values())
    granted = {c for role in ROLES for cmds in PERMISSIONS[role].values() for c in cmds} | {"create_draft"}
    assert granted == set(COMMAND_TYPES)


def test_every_event_has_an_evolve_branch_and_a_doc_line() -> None:
    source = inspect.getsource(evolve)
    doc = ev.__doc__ or ""
    for name in EVENT_TYPES:
        assert re.search(rf"\bev\.{name}\(\)", source), f"evolve has no branch for {name}"
        assert f"| {name} |" in doc, f"events.py docstring has no line for {name}"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_events_are_frozen(name: str) -> None:
    params = getattr(EVENT_TYPES[name], "__dataclass_params__")  # noqa: B009
    assert params.frozen


def test_evolve_counts_versions() -> None:
    state = replay(approved())
    assert state.version == len(approved()) and state.status == "approved"


def test_a_plan_the_release_cannot_enforce_is_refused_when_filed() -> None:
    """What `iplos.release.from_case` would refuse on the extract is refused at filing, every
    problem at once: a column the extract lacks, a quasi-identifier left without a level, l with no
    sensitive column, an attacker who knows an unprotected column, a bound below the chosen level."""
    history = [*linked(), e(ev.AnonymisationProposed, PROCESSOR, 8, round=1, plan=example_plan())]
    levels = dict(example_plan()["levels"])
    del levels["husstand"]
    bad = {
        **example_plan(),
        "levels": {**levels, "bydel": "all"},
        "sensitive": [],
        "l": 2,
        "attacker": ["alder", "timer_per_uke"],
        "max_levels": {"kommune": "kommune"},
    }
    result = when(history, cmd.CounterAnonymisation(bad, "mine"), APPLICANT, 9)
    assert isinstance(result, Rejected) and result.kind == "invalid"
    assert sorted(p.column or "" for p in result.problems) == [
        "plan.attacker",
        "plan.levels.bydel",
        "plan.levels.husstand",
        "plan.levels.kommune",
        "plan.sensitive",
    ]
    not_sensitive = {**example_plan(), "sensitive": ["kjonn"]}
    refused = when(history, cmd.CounterAnonymisation(not_sensitive), APPLICANT, 9)
    assert isinstance(refused, Rejected) and [p.value for p in refused.problems] == ["kjonn"]
    # The extract's own column names are accepted as well as the variables' (alder for fodselsaar).
    by_column = {**example_plan(), "levels": {**levels, "husstand": 0, "alder": "5 years"}}
    del by_column["levels"]["fodselsaar"]
    assert isinstance(when(history, cmd.CounterAnonymisation(by_column), APPLICANT, 9), list)


def test_extract_column_names_follow_the_linkage() -> None:
    from iplos.cases.plan_fit import extract_column
    from iplos.linkage import LinkageRequest, Population
    from iplos.linkage._query import output_columns

    refs = [
        ("iplos.person.fodselsaar", "iplos", "fodselsaar"),
        ("iplos.person.kommune", "iplos", "kommune"),
        ("iplos.tjeneste.tjeneste", "iplos", "tjeneste"),
        ("iplos.tjeneste.timer_per_uke", "iplos", "timer_per_uke"),
        ("iplos.funksjon.hukommelse", "iplos", "hukommelse"),
        ("dar.dodsfall.dodsdato", "dar", "dodsdato"),
    ]
    request = LinkageRequest.build(
        "C", (2015,), [r for r, _, _ in refs], Population(), approvals=("iplos", "dar")
    )
    assert [o.name for o in output_columns(request)] == [extract_column(reg, name) for _, reg, name in refs]


def test_multi_table_names_follow_the_delivery() -> None:
    """The filing check names other tables' columns as the delivery stacks them (`<table>.<column>`)."""
    from iplos.cases.plan_fit import EXTRA_TABLES, SPELLS, TABLE
    from iplos.delivery import _multi

    assert TABLE == _multi.TABLE
    expected = {source: name for name, source in _multi.SOURCES.items() if name != SPELLS}
    assert expected == EXTRA_TABLES and _multi.SOURCES[SPELLS] == ("iplos", "tjeneste")
    assert _multi.stacked_name("npr_episodes", "hoveddiagnose") == "npr_episodes.hoveddiagnose"
