"""Applications as commands -> events -> state: the case workflow from draft to invoice.

A command (`commands.py`) is checked by `decide` against the case's state, the `PERMISSIONS` table
and its own rules, and produces events (`events.py`) or a refusal with the reason. The state is a
fold of the events (`state.evolve`); the 30-day clock, the decision letter, the invoice and the
statistics are computed from the events. `CaseService` stores the hash-chained events with
SQLAlchemy (SQLite embedded, PostgreSQL in production) and offers one method per command.
"""

from __future__ import annotations

from iplos.cases._catalogue import CatalogueView, default_catalogue
from iplos.cases._codec import from_json, to_json
from iplos.cases.chain import ChainReport
from iplos.cases.clock import LIMIT_DAYS, Clock, clock
from iplos.cases.commands import COMMAND_TYPES, Command
from iplos.cases.decide import Actor, Context, Rejected, decide
from iplos.cases.diff import Change, diff
from iplos.cases.events import EVENT_TYPES, Event, event_from_json, event_to_json
from iplos.cases.exceptions import CaseNotFound, CommandRefused, ConcurrencyError, PermissionDenied
from iplos.cases.granted import Grant, grant
from iplos.cases.letter import Letter, letter
from iplos.cases.model import (
    ATTACHMENT_KINDS,
    ROLES,
    STATUSES,
    AnonymisationRound,
    Application,
    Attachment,
    EstimateLine,
    Invoice,
    LegalBasis,
    LinkageRequest,
    Offer,
    PricedLine,
    Project,
    Role,
    Status,
    VariableDecision,
    VariableRequest,
)
from iplos.cases.permissions import PERMISSIONS
from iplos.cases.population import (
    AgeRange,
    BirthYears,
    Population,
    RegionCriterion,
    RegisterCondition,
    ServiceCriterion,
)
from iplos.cases.ratecard import RateCard
from iplos.cases.service import CaseService, CaseSummary
from iplos.cases.state import Case, evolve, replay
from iplos.cases.statistics import Statistics, statistics
from iplos.cases.store import StoredEvent
from iplos.cases.table_request import TableDimension, TableRequest
from iplos.cases.user_store import User, UserStore
from iplos.cases.validation import ANONYMISATION_PLAN_SCHEMA, involved_registers, validate_application

__all__ = [
    "ANONYMISATION_PLAN_SCHEMA",
    "ATTACHMENT_KINDS",
    "COMMAND_TYPES",
    "EVENT_TYPES",
    "LIMIT_DAYS",
    "PERMISSIONS",
    "ROLES",
    "STATUSES",
    "Actor",
    "AgeRange",
    "AnonymisationRound",
    "Application",
    "Attachment",
    "BirthYears",
    "Case",
    "CaseNotFound",
    "CaseService",
    "CaseSummary",
    "CatalogueView",
    "ChainReport",
    "Change",
    "Clock",
    "Command",
    "CommandRefused",
    "ConcurrencyError",
    "Context",
    "EstimateLine",
    "Event",
    "Grant",
    "Invoice",
    "LegalBasis",
    "Letter",
    "LinkageRequest",
    "Offer",
    "PermissionDenied",
    "Population",
    "PricedLine",
    "Project",
    "RateCard",
    "RegionCriterion",
    "RegisterCondition",
    "Rejected",
    "Role",
    "ServiceCriterion",
    "Statistics",
    "Status",
    "StoredEvent",
    "TableDimension",
    "TableRequest",
    "User",
    "UserStore",
    "VariableDecision",
    "VariableRequest",
    "clock",
    "decide",
    "default_catalogue",
    "diff",
    "event_from_json",
    "event_to_json",
    "evolve",
    "from_json",
    "grant",
    "involved_registers",
    "letter",
    "replay",
    "statistics",
    "to_json",
    "validate_application",
]
