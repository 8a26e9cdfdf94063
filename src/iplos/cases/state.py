"""The state of a case as a pure fold of its events: `evolve(case, event)`, one branch per event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from iplos.cases import events as ev
from iplos.cases.model import (
    AnonymisationRound,
    Appeal,
    Application,
    Attachment,
    CaseOutcome,
    Delivery,
    HoursEntry,
    Invoice,
    Kind,
    Offer,
    Register,
    RegisterApproval,
    Status,
    VariableDecision,
)


@dataclass(frozen=True)
class Case:
    """Everything known about a case after its events; build with `replay`."""

    case_id: str = ""
    kind: Kind = "new"
    owner: str = ""
    status: Status = "draft"
    version: int = 0
    """Number of events folded in (the optimistic-concurrency version)."""
    content: Application = field(default_factory=Application)
    base_case_id: str | None = None
    base_content: Application | None = None
    base_decisions: tuple[VariableDecision, ...] = ()
    """A change or new-period application's base decisions (see `carried_decisions`)."""
    base_registers: tuple[RegisterApproval, ...] = ()
    returned_content: Application | None = None
    dpia_required: bool = False
    """The reviewer asked for a DPIA (an application for anonymous tables alone needs none)."""
    """The content as it was when last returned to the applicant (to show what the resubmission changed)."""
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    returns: tuple[tuple[str, ...], ...] = ()
    """Comments of each return to the applicant."""
    variable_decisions: Mapping[str, VariableDecision] = field(default_factory=dict)
    """Keyed by 'register.name'."""
    register_approvals: Mapping[str, RegisterApproval] = field(default_factory=dict)
    outcome: CaseOutcome | None = None
    reasons: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    decided_status: Status | None = None
    appeals: tuple[Appeal, ...] = ()
    offers: tuple[Offer, ...] = ()
    linkage_summary: Mapping[str, object] | None = None
    anonymisation_rounds: tuple[AnonymisationRound, ...] = ()
    agreed_round: int | None = None
    deliveries: tuple[Delivery, ...] = ()
    pending_delivery: str | None = None
    """A delivery started (`DeliveryStarted`) but not yet recorded as delivered."""
    hours: tuple[HoursEntry, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    deletion_confirmed_on: date | None = None
    closed_reason: str | None = None

    @property
    def members(self) -> frozenset[str]:
        """Users who act as the applicant: the owner and the project members."""
        return frozenset({self.owner, *self.content.project.members})

    @property
    def open_offer(self) -> Offer | None:
        """The latest offer if it is still open."""
        if self.offers and self.offers[-1].status == "open":
            return self.offers[-1]
        return None

    @property
    def accepted_offer(self) -> Offer | None:
        """The accepted offer, if any."""
        return next((o for o in reversed(self.offers) if o.status == "accepted"), None)

    @property
    def agreed_plan(self) -> Mapping[str, object] | None:
        """The anonymisation plan both parties agreed to."""
        if self.agreed_round is None:
            return None
        return self.anonymisation_rounds[self.agreed_round - 1].plan

    @property
    def linkage_statuses(self) -> dict[str, str]:
        """Each requested linkage's status: 'granted', 'denied' or 'pending' (its register's approval)."""
        return {
            link.register: self.register_approvals[link.register].outcome
            if link.register in self.register_approvals
            else "pending"
            for link in self.content.linkages
        }

    def granted_variables(self) -> tuple[VariableDecision, ...]:
        """Decisions that grant a variable (in full or coarsened), in the order requested."""
        keys = [_key(v.register, v.name) for v in self.content.variables]
        return tuple(
            d for k in keys if (d := self.variable_decisions.get(k)) is not None and d.outcome != "denied"
        )

    def approved_registers(self) -> tuple[Register, ...]:
        """Registers with a recorded approval."""
        return tuple(a.register for a in self.register_approvals.values() if a.outcome == "granted")


def _key(register: str, name: str) -> str:
    return f"{register}.{name}"


def evolve(case: Case, event: ev.Event) -> Case:
    """Return the case after one event (pure; an event that cannot apply is a bug in `decide`)."""
    n = case.version + 1
    match event:
        case ev.CaseCreated():
            return Case(
                case_id=event.case_id,
                kind=event.kind,
                owner=event.actor,
                status="draft",
                version=n,
                content=event.content,
                base_case_id=event.base_case_id,
                base_content=event.base_content,
                base_decisions=event.base_decisions,
                base_registers=event.base_registers,
                created_at=event.at,
            )
        case ev.DraftEdited():
            return replace(case, version=n, content=event.content)
        case ev.Submitted():
            return replace(case, version=n, status="submitted", submitted_at=event.at)
        case ev.ReviewStarted():
            return replace(case, version=n, status="under_review")
        case ev.ReturnedToApplicant():
            return replace(
                case,
                version=n,
                status="returned",
                returns=(*case.returns, event.comments),
                returned_content=case.content,
                dpia_required=case.dpia_required or event.require_dpia,
            )
        case ev.Resubmitted():
            return replace(case, version=n, status="under_review")
        case ev.VariableDecided():
            decision = VariableDecision(event.register, event.name, event.outcome, event.level, event.reason)
            decisions = {**case.variable_decisions, _key(event.register, event.name): decision}
            return replace(case, version=n, variable_decisions=decisions)
        case ev.RegisterDecided():
            approval = RegisterApproval(event.register, event.outcome, event.reference, event.reason)
            approvals = {**case.register_approvals, event.register: approval}
            return replace(case, version=n, register_approvals=approvals)
        case ev.CaseDecided():
            return replace(
                case,
                version=n,
                status=event.outcome,
                outcome=event.outcome,
                reasons=event.reasons,
                conditions=event.conditions,
                decided_at=event.at,
                decided_status=event.outcome,
            )
        case ev.AppealLodged():
            appeal = Appeal(grounds=event.grounds, lodged_on=event.at.date())
            return replace(case, version=n, status="appealed", appeals=(*case.appeals, appeal))
        case ev.AppealDecided():
            last = replace(case.appeals[-1], outcome=event.outcome, reason=event.reason)
            status: Status = (
                "under_review" if event.outcome == "reopened" else (case.decided_status or "rejected")
            )
            return replace(case, version=n, status=status, appeals=(*case.appeals[:-1], last))
        case ev.OfferMade():
            offer = Offer(
                number=event.number,
                lines=event.lines,
                total=event.total,
                currency=event.currency,
                expected_delivery=event.expected_delivery,
                valid_until=event.valid_until,
            )
            older = tuple(replace(o, status="declined") if o.status == "open" else o for o in case.offers)
            return replace(case, version=n, status="offered", offers=(*older, offer))
        case ev.OfferAccepted():
            offers = tuple(
                replace(o, status="accepted") if o.number == event.number else o for o in case.offers
            )
            return replace(case, version=n, status="accepted", offers=offers)
        case ev.OfferDeclined():
            offers = tuple(
                replace(o, status="declined") if o.number == event.number else o for o in case.offers
            )
            return replace(case, version=n, status="offer_declined", offers=offers)
        case ev.LinkageDone():
            return replace(case, version=n, status="linked", linkage_summary=dict(event.summary))
        case ev.AnonymisationProposed() | ev.AnonymisationCountered():
            party: Literal["processor", "applicant"] = (
                "processor" if isinstance(event, ev.AnonymisationProposed) else "applicant"
            )
            rnd = AnonymisationRound(number=event.round, party=party, plan=event.plan, comment=event.comment)
            return replace(
                case,
                version=n,
                status="anonymisation",
                anonymisation_rounds=(*case.anonymisation_rounds, rnd),
            )
        case ev.AnonymisationAgreed():
            return replace(case, version=n, status="anonymisation_agreed", agreed_round=event.round)
        case ev.DeliveryStarted():
            return replace(case, version=n, pending_delivery=event.delivery_id)
        case ev.Delivered():
            delivery = Delivery(event.delivery_id, event.manifest_sha256, event.at.date())
            return replace(
                case,
                version=n,
                status="delivered",
                deliveries=(*case.deliveries, delivery),
                pending_delivery=None,
            )
        case ev.HoursRecorded():
            entry = HoursEntry(event.staff_group, event.hours, event.work_date, event.note, event.actor)
            return replace(case, version=n, hours=(*case.hours, entry))
        case ev.AttachmentAdded():
            added = Attachment(event.kind, event.filename, event.sha256, event.size, event.pages, event.actor)
            return replace(case, version=n, attachments=(*case.attachments, added))
        case ev.InvoiceIssued():
            invoice = Invoice(event.number, event.lines, event.total, event.currency, event.at.date())
            return replace(case, version=n, status="invoiced", invoices=(*case.invoices, invoice))
        case ev.DeletionConfirmed():
            return replace(
                case,
                version=n,
                status="deletion_confirmed",
                deletion_confirmed_on=event.deleted_on,
            )
        case ev.Closed():
            return replace(case, version=n, status="closed", closed_reason=event.reason)
        case ev.Withdrawn():
            return replace(case, version=n, status="withdrawn", closed_reason=event.reason)
    raise TypeError(f"no evolve branch for {type(event).__name__}")


def replay(events: Iterable[ev.Event], case: Case | None = None) -> Case:
    """Fold events into a case, starting empty (or from `case`)."""
    state = case or Case()
    for event in events:
        state = evolve(state, event)
    return state
