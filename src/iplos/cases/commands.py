"""Every command a user can give a case, as a frozen typed record.

A command is a request; `decide` turns it into events or refuses it with the reason. Commands
carry only what the user supplies: the case, the actor and the time are given to `decide`
separately. Each command's `command_name` (snake_case) is the key in `PERMISSIONS` and the path of its route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from iplos.cases.model import (
    AppealOutcome,
    Application,
    AttachmentKind,
    CaseOutcome,
    EstimateLine,
    Kind,
    Register,
    RegisterOutcome,
    VariableOutcome,
)


@dataclass(frozen=True)
class Command:
    """Base of all commands; `command_name` (snake_case) is derived from the class name."""

    command_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.command_name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


@dataclass(frozen=True)
class CreateDraft(Command):
    """Open a new application as a draft (for change / new period: name the approved base case)."""

    kind: Kind = "new"
    content: Application = field(default_factory=Application)
    base_case_id: str | None = None


@dataclass(frozen=True)
class EditDraft(Command):
    """Replace the application content while the case is a draft or returned to the applicant."""

    content: Application


@dataclass(frozen=True)
class Submit(Command):
    """Send the draft to the reviewer; refused with every missing or inconsistent field."""


@dataclass(frozen=True)
class StartReview(Command):
    """The reviewer takes up a submitted case."""


@dataclass(frozen=True)
class ReturnToApplicant(Command):
    """Send the case back for changes; the legal clock stops until it is resubmitted.

    `require_dpia` asks for a DPIA that an application for anonymous tables would not need.
    """

    comments: tuple[str, ...]
    require_dpia: bool = False


@dataclass(frozen=True)
class Resubmit(Command):
    """Send a returned case back to review (validated like a submission); the clock runs again."""

    response: str = ""


@dataclass(frozen=True)
class DecideVariable(Command):
    """Grant, deny or grant coarsened (with the required hierarchy level) one requested variable."""

    name: str
    outcome: VariableOutcome
    register: Register = "iplos"
    level: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class DecideRegister(Command):
    """Record the approval or refusal for one register the case draws on."""

    register: Register
    outcome: RegisterOutcome
    reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class DecideCase(Command):
    """The decision (vedtak): approved, partly approved or rejected, with reasons and conditions."""

    outcome: CaseOutcome
    reasons: tuple[str, ...]
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LodgeAppeal(Command):
    """Appeal (klage) the decision within three weeks (forvaltningsloven § 29)."""

    grounds: str


@dataclass(frozen=True)
class DecideAppeal(Command):
    """Reopen the review (the appeal is taken up) or uphold the decision (it stands)."""

    outcome: AppealOutcome
    reason: str


@dataclass(frozen=True)
class MakeOffer(Command):
    """The processor's offer: hours per staff group (priced from the rate card) and a delivery date."""

    lines: tuple[EstimateLine, ...]
    expected_delivery: date


@dataclass(frozen=True)
class AcceptOffer(Command):
    """Accept the open offer (within its 14 days)."""


@dataclass(frozen=True)
class DeclineOffer(Command):
    """Decline the open offer."""

    reason: str = ""


@dataclass(frozen=True)
class RecordLinkageDone(Command):
    """The processor has linked the registers; `summary` is the linkage report in brief."""

    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProposeAnonymisation(Command):
    """The processor proposes an anonymisation plan (see `ANONYMISATION_PLAN_SCHEMA`)."""

    plan: Mapping[str, Any]
    comment: str = ""


@dataclass(frozen=True)
class CounterAnonymisation(Command):
    """The applicant answers a proposal with a plan of their own."""

    plan: Mapping[str, Any]
    comment: str = ""


@dataclass(frozen=True)
class AgreeAnonymisation(Command):
    """Agree to the latest plan (by the party that did not write it)."""

    round: int


@dataclass(frozen=True)
class StartDelivery(Command):
    """Announce a delivery before its folder is written (the first phase of a two-phase commit)."""

    delivery_id: str


@dataclass(frozen=True)
class RecordDelivery(Command):
    """The files are delivered; identified by the delivery id and the SHA-256 of its manifest."""

    delivery_id: str
    manifest_sha256: str


@dataclass(frozen=True)
class AddAttachment(Command):
    """Record a PDF attached to the application (stored by its SHA-256 before this is given)."""

    kind: AttachmentKind
    filename: str
    sha256: str
    size: int
    pages: int


@dataclass(frozen=True)
class RecordHours(Command):
    """Record hours worked on the case by a staff group of the rate card."""

    staff_group: str
    hours: float
    work_date: date
    note: str = ""


@dataclass(frozen=True)
class IssueInvoice(Command):
    """Issue the invoice computed from the recorded hours and the rate card."""


@dataclass(frozen=True)
class ConfirmDeletion(Command):
    """The applicant confirms the delivered data are deleted."""

    deleted_on: date
    statement: str = ""


@dataclass(frozen=True)
class Close(Command):
    """Close a case from any status but a final one (finished, rejected, abandoned, stuck), with the reason."""

    reason: str = ""


@dataclass(frozen=True)
class Withdraw(Command):
    """The applicant withdraws the application, from any status before the delivery."""

    reason: str = ""


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.command_name: cls
    for cls in (
        CreateDraft,
        EditDraft,
        Submit,
        StartReview,
        ReturnToApplicant,
        Resubmit,
        DecideVariable,
        DecideRegister,
        DecideCase,
        LodgeAppeal,
        DecideAppeal,
        MakeOffer,
        AcceptOffer,
        DeclineOffer,
        RecordLinkageDone,
        ProposeAnonymisation,
        CounterAnonymisation,
        AgreeAnonymisation,
        StartDelivery,
        RecordDelivery,
        RecordHours,
        AddAttachment,
        IssueInvoice,
        ConfirmDeletion,
        Close,
        Withdraw,
    )
}
"""Command name -> class."""
