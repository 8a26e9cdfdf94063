"""Every event a case can record, as a frozen typed record.

An event states what happened, never what should happen; the state of a case is the fold of its
events (`state.evolve`). Every event carries when (`at`, UTC), who (`actor`) and in which role.

| event | status after | by |
|---|---|---|
| CaseCreated | draft | applicant |
| DraftEdited | (unchanged) | applicant |
| Submitted | submitted | applicant |
| ReviewStarted | under_review (a change application's unchanged decisions follow as VariableDecided / RegisterDecided) | reviewer |
| ReturnedToApplicant | returned (clock stops) | reviewer |
| Resubmitted | under_review (clock runs) | applicant |
| VariableDecided | (unchanged) | reviewer |
| RegisterDecided | (unchanged) | reviewer |
| CaseDecided | approved / partly_approved / rejected | reviewer |
| AppealLodged | appealed | applicant |
| AppealDecided | under_review (reopened) or the decision's status (upheld) | reviewer |
| OfferMade | offered | processor |
| OfferAccepted | accepted | applicant |
| OfferDeclined | offer_declined | applicant |
| LinkageDone | linked | processor |
| AnonymisationProposed | anonymisation | processor |
| AnonymisationCountered | anonymisation | applicant |
| AnonymisationAgreed | anonymisation_agreed | processor or applicant |
| DeliveryStarted | (unchanged; the delivery is pending until Delivered) | processor |
| Delivered | delivered | processor |
| HoursRecorded | (unchanged) | processor |
| AttachmentAdded | (unchanged) | applicant |
| InvoiceIssued | invoiced | processor |
| DeletionConfirmed | deletion_confirmed | applicant |
| Closed | closed | reviewer or administrator |
| Withdrawn | withdrawn | applicant |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from iplos.cases._codec import JSON, canonical_json, from_json, to_json
from iplos.cases.model import (
    AppealOutcome,
    Application,
    AttachmentKind,
    CaseOutcome,
    Kind,
    PricedLine,
    Register,
    RegisterApproval,
    RegisterOutcome,
    Role,
    VariableDecision,
    VariableOutcome,
)
from iplos.errors import IplosError


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every event has: time (timezone-aware), actor's username and role."""

    at: datetime
    actor: str
    role: Role


@dataclass(frozen=True, kw_only=True)
class CaseCreated(Event):
    case_id: str
    kind: Kind
    content: Application
    base_case_id: str | None = None
    base_content: Application | None = None
    """For a change or new-period application: what the base case had approved."""
    base_decisions: tuple[VariableDecision, ...] = ()
    """The base case's decisions on the variables it granted (carried over where nothing changed)."""
    base_registers: tuple[RegisterApproval, ...] = ()
    """The base case's register approvals (carried over when years, basis and population are unchanged)."""


@dataclass(frozen=True, kw_only=True)
class DraftEdited(Event):
    content: Application


@dataclass(frozen=True, kw_only=True)
class Submitted(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class ReviewStarted(Event):
    pass


@dataclass(frozen=True, kw_only=True)
class ReturnedToApplicant(Event):
    comments: tuple[str, ...]
    require_dpia: bool = False


@dataclass(frozen=True, kw_only=True)
class Resubmitted(Event):
    response: str = ""


@dataclass(frozen=True, kw_only=True)
class VariableDecided(Event):
    register: Register
    name: str
    outcome: VariableOutcome
    level: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RegisterDecided(Event):
    register: Register
    outcome: RegisterOutcome
    reference: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseDecided(Event):
    outcome: CaseOutcome
    reasons: tuple[str, ...]
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AppealLodged(Event):
    grounds: str


@dataclass(frozen=True, kw_only=True)
class AppealDecided(Event):
    outcome: AppealOutcome
    reason: str


@dataclass(frozen=True, kw_only=True)
class OfferMade(Event):
    number: int
    lines: tuple[PricedLine, ...]
    total: float
    currency: str
    expected_delivery: date
    valid_until: date


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(Event):
    number: int


@dataclass(frozen=True, kw_only=True)
class OfferDeclined(Event):
    number: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class LinkageDone(Event):
    summary: Mapping[str, Any]
    """The linkage report in brief (matched / unmatched per register and year), as JSON."""


@dataclass(frozen=True, kw_only=True)
class AnonymisationProposed(Event):
    round: int
    plan: Mapping[str, Any]
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class AnonymisationCountered(Event):
    round: int
    plan: Mapping[str, Any]
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class AnonymisationAgreed(Event):
    round: int


@dataclass(frozen=True, kw_only=True)
class DeliveryStarted(Event):
    """The intent of a two-phase delivery: the folder `delivery_id` is about to be written."""

    delivery_id: str


@dataclass(frozen=True, kw_only=True)
class Delivered(Event):
    delivery_id: str
    manifest_sha256: str


@dataclass(frozen=True, kw_only=True)
class HoursRecorded(Event):
    staff_group: str
    hours: float
    work_date: date
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class AttachmentAdded(Event):
    kind: AttachmentKind
    filename: str
    sha256: str
    size: int
    pages: int


@dataclass(frozen=True, kw_only=True)
class InvoiceIssued(Event):
    number: str
    lines: tuple[PricedLine, ...]
    total: float
    currency: str


@dataclass(frozen=True, kw_only=True)
class DeletionConfirmed(Event):
    deleted_on: date
    statement: str = ""


@dataclass(frozen=True, kw_only=True)
class Closed(Event):
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Withdrawn(Event):
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        CaseCreated,
        DraftEdited,
        Submitted,
        ReviewStarted,
        ReturnedToApplicant,
        Resubmitted,
        VariableDecided,
        RegisterDecided,
        CaseDecided,
        AppealLodged,
        AppealDecided,
        OfferMade,
        OfferAccepted,
        OfferDeclined,
        LinkageDone,
        AnonymisationProposed,
        AnonymisationCountered,
        AnonymisationAgreed,
        DeliveryStarted,
        Delivered,
        HoursRecorded,
        AttachmentAdded,
        InvoiceIssued,
        DeletionConfirmed,
        Closed,
        Withdrawn,
    )
}
"""Event type name -> class; the name is what the store records."""

EventName = Literal[
    "CaseCreated",
    "DraftEdited",
    "Submitted",
    "ReviewStarted",
    "ReturnedToApplicant",
    "Resubmitted",
    "VariableDecided",
    "RegisterDecided",
    "CaseDecided",
    "AppealLodged",
    "AppealDecided",
    "OfferMade",
    "OfferAccepted",
    "OfferDeclined",
    "LinkageDone",
    "AnonymisationProposed",
    "AnonymisationCountered",
    "AnonymisationAgreed",
    "DeliveryStarted",
    "Delivered",
    "HoursRecorded",
    "AttachmentAdded",
    "InvoiceIssued",
    "DeletionConfirmed",
    "Closed",
    "Withdrawn",
]


def event_to_json(event: Event) -> dict[str, JSON]:
    """The JSON form of an event, with its type name under 'type'."""
    data: dict[str, JSON] = to_json(event)
    return {"type": type(event).__name__, **data}


def event_from_json(data: Mapping[str, JSON]) -> Event:
    """Rebuild an event from `event_to_json` output."""
    payload = dict(data)
    name = payload.pop("type", None)
    cls = EVENT_TYPES.get(str(name))
    if cls is None:
        raise IplosError(f"unknown event type {name!r}")
    event: Event = from_json(cls, payload, name or "")
    return event


def event_json_text(event: Event) -> str:
    """Canonical JSON text of an event (what the hash chain covers)."""
    return canonical_json(event_to_json(event))
