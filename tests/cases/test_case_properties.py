"""Properties of the event-sourced core, over random walks through the workflow (Hypothesis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iplos.cases import (
    PERMISSIONS,
    Actor,
    Case,
    Context,
    RateCard,
    Rejected,
    Role,
    event_from_json,
    event_to_json,
)
from iplos.cases import commands as cmd
from iplos.cases import events as ev
from iplos.cases._catalogue import default_catalogue
from iplos.cases.chain import GENESIS
from iplos.cases.clock import clock
from iplos.cases.decide import decide
from iplos.cases.examples import example_application, example_plan
from iplos.cases.model import EstimateLine, Register, VariableOutcome
from iplos.cases.state import evolve, replay
from iplos.cases.store import EventStore, make_engine, upgrade

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
APP = example_application(T0.date(), members=("ola",))
ACTORS: dict[Role, Actor] = {
    "applicant": Actor("kari", "applicant"),
    "reviewer": Actor("rita", "reviewer"),
    "processor": Actor("sven", "processor"),
    "administrator": Actor("ada", "administrator"),
}
CTX = Context(RateCard.default(), default_catalogue(), new_case_id="2026-0000prop")

CommandMaker = Callable[[Case], cmd.Command]
POOL: list[tuple[Role, CommandMaker]] = [
    (
        "applicant",
        lambda c: cmd.EditDraft(
            replace(
                c.content,
                population=replace(c.content.population, description=c.content.population.description + "."),
            )
        ),
    ),
    ("applicant", lambda c: cmd.Submit()),
    ("applicant", lambda c: cmd.Resubmit("done")),
    ("applicant", lambda c: cmd.Withdraw("changed plans")),
    ("applicant", lambda c: cmd.LodgeAppeal("necessary variables")),
    ("applicant", lambda c: cmd.AcceptOffer()),
    ("applicant", lambda c: cmd.DeclineOffer("price")),
    ("applicant", lambda c: cmd.CounterAnonymisation(example_plan(k=3), "keep kommune")),
    ("applicant", lambda c: cmd.AgreeAnonymisation(len(c.anonymisation_rounds))),
    ("applicant", lambda c: cmd.ConfirmDeletion(T0.date())),
    ("reviewer", lambda c: cmd.StartReview()),
    ("reviewer", lambda c: cmd.ReturnToApplicant(("explain",))),
    ("reviewer", lambda c: cmd.DecideRegister("iplos", "granted", "H")),
    ("reviewer", lambda c: cmd.DecideRegister("dar", "granted", "F")),
    ("reviewer", lambda c: cmd.DecideRegister("dar", "denied", reason="no basis")),
    ("reviewer", lambda c: cmd.DecideCase("approved", ("ok",))),
    ("reviewer", lambda c: cmd.DecideCase("partly_approved", ("partly",))),
    ("reviewer", lambda c: cmd.DecideCase("rejected", ("no",))),
    ("reviewer", lambda c: cmd.DecideAppeal("reopened", "new facts")),
    ("reviewer", lambda c: cmd.DecideAppeal("upheld", "stands")),
    ("reviewer", lambda c: cmd.Close("done")),
    ("processor", lambda c: cmd.MakeOffer((EstimateLine("radgiver", 10),), date(2027, 1, 1))),
    ("processor", lambda c: cmd.RecordLinkageDone({"dar": {"matched": 3}})),
    ("processor", lambda c: cmd.ProposeAnonymisation(example_plan())),
    ("processor", lambda c: cmd.AgreeAnonymisation(len(c.anonymisation_rounds))),
    ("processor", lambda c: cmd.RecordDelivery("d1", "b" * 64)),
    ("processor", lambda c: cmd.RecordHours("statistiker", 2.5, T0.date())),
    ("processor", lambda c: cmd.IssueInvoice()),
    ("administrator", lambda c: cmd.Close("admin")),
]


def _variable(name: str, register: Register, outcome: VariableOutcome) -> CommandMaker:
    reason = "not needed" if outcome == "denied" else ""
    return lambda c: cmd.DecideVariable(name, outcome, register, reason=reason)


for v in APP.variables:
    POOL.append(("reviewer", _variable(v.name, v.register, "granted")))
    POOL.append(("reviewer", _variable(v.name, v.register, "denied")))
POOL.append(("reviewer", lambda c: cmd.DecideVariable("kommune", "coarsened", "iplos", "fylke")))


@st.composite
def histories(draw: st.DrawFn) -> list[ev.Event]:
    """A random valid event history: the case is created, then random commands are tried."""
    now = T0
    created = decide(cmd.CreateDraft(content=APP), Case(), ACTORS["applicant"], now, CTX)
    assert isinstance(created, list)
    events: list[ev.Event] = list(created)
    state = replay(events)
    for _ in range(draw(st.integers(0, 80))):
        # Try mostly commands the role may give in this status, and rarely end the case early.
        terminal = draw(st.integers(0, 14)) == 0
        candidates = [
            (role, make)
            for role, make in POOL
            if make(state).command_name in PERMISSIONS[role][state.status]
            and (terminal or make(state).command_name not in ("withdraw", "close"))
        ]
        if not candidates:
            break
        role, make = draw(st.sampled_from(candidates))
        now += timedelta(hours=draw(st.integers(1, 72)))
        result = decide(make(state), state, ACTORS[role], now, CTX)
        if isinstance(result, Rejected):
            continue
        events.extend(result)
        for event in result:
            state = evolve(state, event)
    return events


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_evolve_is_deterministic_and_counts(events: list[ev.Event]) -> None:
    first, second = replay(events), replay(events)
    assert first == second
    assert first.version == len(events)
    assert replay(events[5:], replay(events[:5])) == first


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_events_survive_json(events: list[ev.Event]) -> None:
    assert [event_from_json(event_to_json(e)) for e in events] == events


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_clock_never_exceeds_elapsed_time(events: list[ev.Event]) -> None:
    now = events[-1].at + timedelta(days=1)
    c = clock(events, now)
    elapsed = (now - events[0].at).total_seconds() / 86400
    assert 0 <= c.review_days + c.paused_days <= elapsed + 1e-6
    assert c.days_used + c.days_left == 30


_ENGINE = make_engine("sqlite://")
upgrade(_ENGINE)
_STORE = EventStore(_ENGINE)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.integers(1, 5))
def test_replaying_stored_events_gives_the_state(events: list[ev.Event], batch: int) -> None:
    case_id = f"prop-{id(events)}-{len(events)}"
    events = (
        [replace(events[0], case_id=case_id), *events[1:]]
        if isinstance(events[0], ev.CaseCreated)
        else events
    )
    state = Case()
    head = GENESIS
    for i in range(0, len(events), batch):
        chunk = events[i : i + batch]
        after = replay(chunk, state)
        with _STORE.write() as conn:
            stored = _STORE.append(
                conn, case_id, state.version, head, chunk, after.status, after.kind, after.owner
            )
        head, state = stored[-1].hash, after
    with _STORE.read() as conn:
        loaded = _STORE.load(conn, case_id)
        report = _STORE.verify(conn, case_id)[0]
        with_row = conn.execute(
            sa.text("select version from cases where case_id = :c"), {"c": case_id}
        ).scalar()
    assert replay(e.event for e in loaded) == state == replay(events)
    assert report.ok and with_row == len(events)
