"""The words of a case: roles, statuses, application content and the decisions recorded on it.

All are small frozen records (safe to share, compare and hash). The case state itself is `Case`
in `state.py`; the content an applicant fills in is `Application`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from iplos.cases.population import Population
from iplos.cases.table_request import TableRequest

Role = Literal["applicant", "reviewer", "processor", "administrator"]
ROLES: tuple[Role, ...] = ("applicant", "reviewer", "processor", "administrator")

Kind = Literal["new", "change", "new_period"]
"""Application type: a new project, a change to an approved project, or data for a new period."""

Status = Literal[
    "draft",
    "submitted",
    "under_review",
    "returned",
    "approved",
    "partly_approved",
    "rejected",
    "appealed",
    "offered",
    "offer_declined",
    "accepted",
    "linked",
    "anonymisation",
    "anonymisation_agreed",
    "delivered",
    "invoiced",
    "deletion_confirmed",
    "closed",
    "withdrawn",
]
STATUSES: tuple[Status, ...] = (
    "draft",
    "submitted",
    "under_review",
    "returned",
    "approved",
    "partly_approved",
    "rejected",
    "appealed",
    "offered",
    "offer_declined",
    "accepted",
    "linked",
    "anonymisation",
    "anonymisation_agreed",
    "delivered",
    "invoiced",
    "deletion_confirmed",
    "closed",
    "withdrawn",
)
DECIDED: frozenset[Status] = frozenset({"approved", "partly_approved", "rejected"})
"""Statuses right after a decision (vedtak)."""

Register = Literal["iplos", "kpr", "dar", "npr", "ssb"]
REGISTERS: tuple[Register, ...] = ("iplos", "kpr", "dar", "npr", "ssb")

Purpose = Literal["overvaking", "kvalitetssikring", "planlegging", "utvikling", "styring", "forskning"]
"""Purposes of the register named in IPLOS-forskriften § 1-3: monitoring, quality assurance,
planning, development and overall management of the municipal health and care services, and research."""
PURPOSES: tuple[Purpose, ...] = (
    "overvaking",
    "kvalitetssikring",
    "planlegging",
    "utvikling",
    "styring",
    "forskning",
)

Output = Literal["microdata", "tables"]
VariableOutcome = Literal["granted", "denied", "coarsened"]
RegisterOutcome = Literal["granted", "denied"]
CaseOutcome = Literal["approved", "partly_approved", "rejected"]
AppealOutcome = Literal["reopened", "upheld"]


@dataclass(frozen=True)
class Project:
    """The research or statistics project behind an application."""

    title: str = ""
    summary: str = ""
    institution: str = ""
    leader: str = ""
    members: tuple[str, ...] = ()
    """Usernames of project members: they may read and act on the case like its owner."""
    start: date | None = None
    end: date | None = None
    funding: str = ""


@dataclass(frozen=True)
class LegalBasis:
    """Why the data may be disclosed: REK approval, DPIA and the GDPR bases."""

    research: bool = True
    rek_reference: str = ""
    """The regional ethics committee's approval reference (required for research)."""
    dpia: str = ""
    """Reference to (or summary of) the data protection impact assessment."""
    gdpr_article6: str = ""
    """E.g. '6(1)(e)'."""
    gdpr_article9: str = ""
    """E.g. '9(2)(j)'."""


@dataclass(frozen=True)
class VariableRequest:
    """One variable asked for, with why it is relevant and necessary for the purpose it serves.

    `register` names the register whose catalogue holds the variable; 'iplos' stands for the IPLOS
    tables, which KPR continues from 2017 (the case asks both registers when the years span them).
    `purpose` is the purpose of IPLOS-forskriften § 1-3 (one of the application's) the variable
    serves; the justification explains why the variable is necessary for it.
    """

    name: str
    justification: str = ""
    register: Register = "iplos"
    purpose: Purpose | None = None


@dataclass(frozen=True)
class LinkageRequest:
    """A register to link with (dar, npr, ssb), with the approval the applicant holds from its owner."""

    register: Register
    approval_reference: str = ""
    purpose: str = ""


@dataclass(frozen=True)
class Application:
    """Everything the applicant fills in; edited as a whole while the case is a draft or returned."""

    project: Project = field(default_factory=Project)
    legal_basis: LegalBasis = field(default_factory=LegalBasis)
    purposes: tuple[Purpose, ...] = ()
    variables: tuple[VariableRequest, ...] = ()
    aarganger: tuple[int, ...] = ()
    population: Population = field(default_factory=Population)
    """Who the extract covers, as criteria on catalogue variables (`iplos.cases.population`)."""
    linkages: tuple[LinkageRequest, ...] = ()
    output: Output = "microdata"
    tables: tuple[TableRequest, ...] = ()
    """With output 'tables': the tables wanted (`iplos.cases.table_request`)."""
    recipients: tuple[str, ...] = ()
    storage_security: str = ""
    deletion_date: date | None = None


@dataclass(frozen=True)
class VariableDecision:
    """The reviewer's decision on one requested variable; `level` is the required coarsening."""

    register: Register
    name: str
    outcome: VariableOutcome
    level: str | None = None
    """Hierarchy level the variable must at least be generalised to, e.g. '5 years' or 'fylke'."""
    reason: str = ""


@dataclass(frozen=True)
class RegisterApproval:
    """Approval (or refusal) recorded for one register the case draws on."""

    register: Register
    outcome: RegisterOutcome
    reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class EstimateLine:
    """One line of an offer as asked for: a staff group's hours on a task."""

    staff_group: str
    hours: float
    description: str = ""


@dataclass(frozen=True)
class PricedLine:
    """A line priced from the rate card: hours x hourly rate = amount (NOK)."""

    staff_group: str
    description: str
    hours: float
    rate: float
    amount: float


@dataclass(frozen=True)
class Offer:
    """The processor's offer: itemised estimate, expected delivery date and when the offer lapses."""

    number: int
    lines: tuple[PricedLine, ...]
    total: float
    currency: str
    expected_delivery: date
    valid_until: date
    status: Literal["open", "accepted", "declined"] = "open"


@dataclass(frozen=True)
class AnonymisationRound:
    """One round of the anonymisation negotiation; `plan` follows `ANONYMISATION_PLAN_SCHEMA`."""

    number: int
    party: Literal["processor", "applicant"]
    plan: Mapping[str, Any]
    comment: str = ""


AttachmentKind = Literal["rek_approval", "dpia", "register_decision", "other"]
ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = ("rek_approval", "dpia", "register_decision", "other")


@dataclass(frozen=True)
class Attachment:
    """A PDF the applicant attached (REK approval, DPIA, another register's decision), stored by its
    SHA-256 (the file itself lives outside the case store, content-addressed)."""

    kind: AttachmentKind
    filename: str
    sha256: str
    size: int
    pages: int
    added_by: str = ""


@dataclass(frozen=True)
class HoursEntry:
    """Hours worked on the case by one staff group (the invoice is computed from these)."""

    staff_group: str
    hours: float
    work_date: date
    note: str = ""
    recorded_by: str = ""


@dataclass(frozen=True)
class Invoice:
    """The invoice issued on a case: hours recorded x rate card, per staff group."""

    number: str
    lines: tuple[PricedLine, ...]
    total: float
    currency: str
    issued_on: date


@dataclass(frozen=True)
class Appeal:
    """A klage against the decision and what the reviewer did with it."""

    grounds: str
    lodged_on: date
    outcome: AppealOutcome | None = None
    reason: str = ""


@dataclass(frozen=True)
class Delivery:
    """A delivery of files to the applicant, identified by its manifest's SHA-256."""

    delivery_id: str
    manifest_sha256: str
    delivered_on: date
