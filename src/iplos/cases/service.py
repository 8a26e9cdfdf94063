"""`CaseService`: one method per command and the queries, over the event store.

This is the only place that opens a database transaction for a command: load the case's
events, fold them, `decide`, append the new events with the next sequence numbers, commit.
Refusals raise (`CommandRefused`, `PermissionDenied`, `CaseNotFound`); a concurrent change raises
`ConcurrencyError` and writes nothing.

>>> from iplos.cases import CaseService, Actor
>>> service = CaseService("sqlite://")  # in memory
>>> case = service.create_draft(Actor("kari", "applicant"))
>>> case.status
'draft'
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from iplos.cases import commands as cmd
from iplos.cases._catalogue import CatalogueView, default_catalogue
from iplos.cases._codec import canonical_json
from iplos.cases._input import MAX_EVENT_BYTES, identifier_ok, json_problems
from iplos.cases.anchor import Anchor
from iplos.cases.chain import GENESIS, ChainReport
from iplos.cases.clock import Clock, clock
from iplos.cases.decide import Actor, Context, Rejected, decide
from iplos.cases.diff import Change, diff, resubmission_changes
from iplos.cases.events import Event, event_to_json
from iplos.cases.exceptions import CaseNotFound, CommandRefused, ConcurrencyError, PermissionDenied
from iplos.cases.invoice import compute_invoice
from iplos.cases.letter import Letter, letter
from iplos.cases.model import (
    AppealOutcome,
    Application,
    CaseOutcome,
    EstimateLine,
    Invoice,
    Kind,
    Register,
    RegisterOutcome,
    Status,
    VariableOutcome,
)
from iplos.cases.outbox_store import Outbox
from iplos.cases.permissions import can_read
from iplos.cases.ratecard import RateCard
from iplos.cases.state import Case, replay
from iplos.cases.statistics import Statistics, statistics
from iplos.cases.store import EventStore, StoredEvent, load_audit_key, make_engine, upgrade
from iplos.cases.user_store import UserStore
from iplos.config import Settings
from iplos.errors import Problem


@dataclass(frozen=True)
class CaseSummary:
    """One line of a case listing, with its clock."""

    case_id: str
    kind: Kind
    owner: str
    status: Status
    title: str
    version: int
    clock: Clock


class CaseService:
    """Commands and queries on cases; usable from Python, the CLI and the web API alike."""

    def __init__(
        self,
        url: str = "sqlite://",
        *,
        schema: str | None = None,
        rate_card: RateCard | None = None,
        catalogue: CatalogueView | None = None,
        now: Callable[[], datetime] | None = None,
        audit_key: bytes | None = None,
        anchor: Path | None = None,
    ) -> None:
        """`audit_key` signs each case's head so that `verify` detects truncation; `from_settings`
        reads it from `IPLOS_AUDIT_KEY_FILE`. An in-memory store gets a random key of its own.
        `anchor` (with a key) is the append-only file of case heads that `verify` also checks."""
        self.url = url
        self.engine = make_engine(url, schema)
        upgrade(self.engine, schema)
        if audit_key is None and url in ("sqlite://", "sqlite:///:memory:"):
            audit_key = secrets.token_bytes(32)
        self.store = EventStore(self.engine, audit_key)
        self.anchor = Anchor(anchor, audit_key) if anchor is not None and audit_key else None
        self.rate_card = rate_card or RateCard.default()
        self._catalogue = catalogue
        self._now = now or (lambda: datetime.now(UTC))
        self.users = UserStore(self.engine, self._now)
        self.outbox = Outbox(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> CaseService:
        """Open the case store named by the settings (`IPLOS_CASE_DB`, default `$IPLOS_HOME/cases.db`)."""
        settings = settings or Settings.from_env()
        url = settings.case_db_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("audit_key", load_audit_key(settings.audit_key_path))
        kwargs.setdefault("anchor", settings.audit_key_path.parent / "anchor.log")
        return cls(url, **kwargs)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @property
    def catalogue(self) -> CatalogueView:
        if self._catalogue is None:
            self._catalogue = default_catalogue()
        return self._catalogue

    def now(self) -> datetime:
        """The service's current time (injectable for tests)."""
        return self._now()

    # the dispatcher ---------------------------------------------------------------------------------
    def execute(
        self, case_id: str | None, command: cmd.Command, actor: Actor, *, expected_version: int | None = None
    ) -> Case:
        """Run one command in one transaction and return the case after it."""
        now = self._now()
        with self.store.write() as conn:
            base: Case | None = None
            if isinstance(command, cmd.CreateDraft):
                if command.base_case_id is not None:
                    _check_case_id(command.base_case_id)
                    base_events = self.store.load(conn, command.base_case_id)
                    if not base_events:
                        raise CaseNotFound(f"case {command.base_case_id} not found")
                    base = replay(e.event for e in base_events)
                stored: builtins.list[StoredEvent] = []
                case = Case()
                case_id = f"{now.year}-{secrets.token_hex(4)}"
            else:
                if case_id is None:
                    raise CaseNotFound("no case given")
                _check_case_id(case_id)
                stored = self.store.load(conn, case_id)
                if not stored:
                    raise CaseNotFound(f"case {case_id} not found")
                case = replay(e.event for e in stored)
            if expected_version is not None and expected_version != case.version:
                raise ConcurrencyError(
                    f"case {case_id} is at version {case.version}, not {expected_version}: it changed since you read it"
                )
            context = Context(self.rate_card, self.catalogue, new_case_id=case_id, base=base)
            result = decide(command, case, actor, now, context)
            if isinstance(result, Rejected):
                raise _error(result)
            _check_storable(result)
            after = replay(result, case)
            head = stored[-1].hash if stored else GENESIS
            written = self.store.append(
                conn, case_id, case.version, head, result, after.status, after.kind, after.owner
            )
            self.outbox.enqueue_events(conn, written, after)  # notifications, in the same transaction
        if self.anchor is not None:  # after the commit: the anchor may lag, never run ahead
            self.anchor.record(case_id, written[-1].seq, written[-1].hash)
        return after

    # commands ---------------------------------------------------------------------------------------
    def create_draft(
        self,
        actor: Actor,
        *,
        kind: Kind = "new",
        content: Application | None = None,
        base_case_id: str | None = None,
    ) -> Case:
        """Open a draft; a change or new-period draft starts from what `base_case_id` approved."""
        return self.execute(None, cmd.CreateDraft(kind, content or Application(), base_case_id), actor)

    def edit_draft(
        self,
        case_id: str,
        actor: Actor,
        content: Application | None = None,
        *,
        expected_version: int | None = None,
        **changes: Any,
    ) -> Case:
        """Replace the content, or change named fields of it (`aarganger=(2018, 2019)`, `project=...`)."""
        unknown = sorted(set(changes) - set(Application.__dataclass_fields__))
        if unknown:
            fields = ", ".join(Application.__dataclass_fields__)
            raise CommandRefused(
                f"no application field(s) {', '.join(unknown)}; fields: {fields}", invalid=True
            )
        if content is None:
            content = replace(self.get(case_id, actor).content, **changes)
        elif changes:
            content = replace(content, **changes)
        return self.execute(case_id, cmd.EditDraft(content), actor, expected_version=expected_version)

    def submit(self, case_id: str, actor: Actor, *, expected_version: int | None = None) -> Case:
        """Submit the draft (refused with every problem when incomplete)."""
        return self.execute(case_id, cmd.Submit(), actor, expected_version=expected_version)

    def start_review(self, case_id: str, actor: Actor, *, expected_version: int | None = None) -> Case:
        return self.execute(case_id, cmd.StartReview(), actor, expected_version=expected_version)

    def return_to_applicant(
        self,
        case_id: str,
        actor: Actor,
        comments: Sequence[str] | str,
        *,
        require_dpia: bool = False,
        expected_version: int | None = None,
    ) -> Case:
        """Return for changes; the clock stops (`require_dpia`: a tables-only application needs a DPIA)."""
        items = (comments,) if isinstance(comments, str) else tuple(comments)
        return self.execute(
            case_id, cmd.ReturnToApplicant(items, require_dpia), actor, expected_version=expected_version
        )

    def resubmit(
        self, case_id: str, actor: Actor, response: str = "", *, expected_version: int | None = None
    ) -> Case:
        return self.execute(case_id, cmd.Resubmit(response), actor, expected_version=expected_version)

    def decide_variable(
        self,
        case_id: str,
        actor: Actor,
        name: str,
        outcome: VariableOutcome,
        *,
        register: Register = "iplos",
        level: str | None = None,
        reason: str = "",
        expected_version: int | None = None,
    ) -> Case:
        """Grant, deny or grant coarsened (`level`, e.g. '5 years' or 'fylke') one variable."""
        command = cmd.DecideVariable(name, outcome, register, level, reason)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def decide_register(
        self,
        case_id: str,
        actor: Actor,
        register: Register,
        outcome: RegisterOutcome,
        *,
        reference: str = "",
        reason: str = "",
        expected_version: int | None = None,
    ) -> Case:
        """Record the approval of one register (iplos, kpr, dar, npr, ssb)."""
        command = cmd.DecideRegister(register, outcome, reference, reason)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def decide_case(
        self,
        case_id: str,
        actor: Actor,
        outcome: CaseOutcome,
        reasons: Sequence[str],
        conditions: Sequence[str] = (),
        *,
        expected_version: int | None = None,
    ) -> Case:
        """The vedtak: approved, partly_approved or rejected."""
        command = cmd.DecideCase(outcome, tuple(reasons), tuple(conditions))
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def lodge_appeal(
        self, case_id: str, actor: Actor, grounds: str, *, expected_version: int | None = None
    ) -> Case:
        return self.execute(case_id, cmd.LodgeAppeal(grounds), actor, expected_version=expected_version)

    def decide_appeal(
        self,
        case_id: str,
        actor: Actor,
        outcome: AppealOutcome,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> Case:
        return self.execute(
            case_id, cmd.DecideAppeal(outcome, reason), actor, expected_version=expected_version
        )

    def make_offer(
        self,
        case_id: str,
        actor: Actor,
        lines: Sequence[EstimateLine],
        expected_delivery: date,
        *,
        expected_version: int | None = None,
    ) -> Case:
        """Offer: each line's hours are priced from the rate card; open for 14 days."""
        command = cmd.MakeOffer(tuple(lines), expected_delivery)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def accept_offer(self, case_id: str, actor: Actor, *, expected_version: int | None = None) -> Case:
        return self.execute(case_id, cmd.AcceptOffer(), actor, expected_version=expected_version)

    def decline_offer(
        self, case_id: str, actor: Actor, reason: str = "", *, expected_version: int | None = None
    ) -> Case:
        return self.execute(case_id, cmd.DeclineOffer(reason), actor, expected_version=expected_version)

    def record_linkage_done(
        self,
        case_id: str,
        actor: Actor,
        summary: Mapping[str, Any] | None = None,
        *,
        expected_version: int | None = None,
    ) -> Case:
        command = cmd.RecordLinkageDone(dict(summary or {}))
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def propose_anonymisation(
        self,
        case_id: str,
        actor: Actor,
        plan: Mapping[str, Any],
        comment: str = "",
        *,
        expected_version: int | None = None,
    ) -> Case:
        """Propose a plan (`ANONYMISATION_PLAN_SCHEMA`)."""
        command = cmd.ProposeAnonymisation(dict(plan), comment)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def counter_anonymisation(
        self,
        case_id: str,
        actor: Actor,
        plan: Mapping[str, Any],
        comment: str = "",
        *,
        expected_version: int | None = None,
    ) -> Case:
        command = cmd.CounterAnonymisation(dict(plan), comment)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def agree_anonymisation(
        self, case_id: str, actor: Actor, round: int | None = None, *, expected_version: int | None = None
    ) -> Case:
        """Agree to the latest plan (`round` defaults to the latest)."""
        if round is None:
            round = len(self.get(case_id, actor).anonymisation_rounds)
        return self.execute(case_id, cmd.AgreeAnonymisation(round), actor, expected_version=expected_version)

    def start_delivery(
        self, case_id: str, actor: Actor, delivery_id: str, *, expected_version: int | None = None
    ) -> Case:
        """Announce a delivery before writing its folder (the two-phase commit's intent)."""
        return self.execute(case_id, cmd.StartDelivery(delivery_id), actor, expected_version=expected_version)

    def record_delivery(
        self,
        case_id: str,
        actor: Actor,
        delivery_id: str,
        manifest_sha256: str,
        *,
        expected_version: int | None = None,
    ) -> Case:
        command = cmd.RecordDelivery(delivery_id, manifest_sha256)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def record_hours(
        self,
        case_id: str,
        actor: Actor,
        staff_group: str,
        hours: float,
        work_date: date | None = None,
        note: str = "",
        *,
        expected_version: int | None = None,
    ) -> Case:
        """Record hours of a rate-card staff group (work date defaults to today)."""
        command = cmd.RecordHours(staff_group, float(hours), work_date or self._now().date(), note)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def issue_invoice(self, case_id: str, actor: Actor, *, expected_version: int | None = None) -> Case:
        return self.execute(case_id, cmd.IssueInvoice(), actor, expected_version=expected_version)

    def confirm_deletion(
        self,
        case_id: str,
        actor: Actor,
        deleted_on: date | None = None,
        statement: str = "",
        *,
        expected_version: int | None = None,
    ) -> Case:
        command = cmd.ConfirmDeletion(deleted_on or self._now().date(), statement)
        return self.execute(case_id, command, actor, expected_version=expected_version)

    def close_case(
        self, case_id: str, actor: Actor, reason: str = "", *, expected_version: int | None = None
    ) -> Case:
        return self.execute(case_id, cmd.Close(reason), actor, expected_version=expected_version)

    def withdraw(
        self, case_id: str, actor: Actor, reason: str = "", *, expected_version: int | None = None
    ) -> Case:
        return self.execute(case_id, cmd.Withdraw(reason), actor, expected_version=expected_version)

    # queries ----------------------------------------------------------------------------------------
    def history(self, case_id: str, actor: Actor | None = None) -> builtins.list[StoredEvent]:
        """The stored events of a case (what the user may see: applicants only their own cases)."""
        _check_case_id(case_id)
        with self.store.read() as conn:
            stored = self.store.load(conn, case_id)
        if not stored:
            raise CaseNotFound(f"case {case_id} not found")
        if actor is not None:
            state = replay(e.event for e in stored)
            if not can_read(actor.role, actor.username, state.members):
                raise CaseNotFound(f"case {case_id} not found")
        return stored

    def get(self, case_id: str, actor: Actor | None = None) -> Case:
        """The current state of a case (`actor` None: an administrator's or script's view)."""
        return replay(e.event for e in self.history(case_id, actor))

    def clock(self, case_id: str, actor: Actor | None = None) -> Clock:
        """Days used, days left, overdue, expected delivery."""
        stored = self.history(case_id, actor)
        return clock([e.event for e in stored], self._now())

    def letter(self, case_id: str, actor: Actor | None = None) -> Letter:
        """The decision letter (vedtak) of the latest decision."""
        return letter([e.event for e in self.history(case_id, actor)])

    def invoice(self, case_id: str, actor: Actor | None = None) -> Invoice:
        """The latest issued invoice, or a draft computed from the hours recorded so far."""
        case = self.get(case_id, actor)
        if case.invoices:
            return case.invoices[-1]
        lines, total = compute_invoice(case, self.rate_card)
        return Invoice("draft", lines, total, self.rate_card.currency, self._now().date())

    def diff(self, case_id: str, actor: Actor | None = None) -> builtins.list[Change]:
        """For a change or new-period application: what differs from the approved case."""
        case = self.get(case_id, actor)
        if case.base_content is None:
            raise CommandRefused(
                f"case {case_id} is a new application; it has no approved case to compare with"
            )
        return diff(case.base_content, case.content)

    def resubmission_diff(self, case_id: str, actor: Actor | None = None) -> builtins.list[Change]:
        """What changed between the last return to the applicant and the current application."""
        return resubmission_changes(self.get(case_id, actor))

    def list(self, actor: Actor | None = None, status: Status | None = None) -> builtins.list[CaseSummary]:
        """Cases the user may see (all for staff), with their clocks, oldest first."""
        now = self._now()
        with self.store.read() as conn:
            rows = self.store.case_rows(conn, status)
            histories = self.store.load_many(conn, [r["case_id"] for r in rows])
        out = []
        for row in rows:
            events = [e.event for e in histories.get(row["case_id"], [])]
            state = replay(events)
            if actor is not None and not can_read(actor.role, actor.username, state.members):
                continue
            out.append(
                CaseSummary(
                    state.case_id,
                    state.kind,
                    state.owner,
                    state.status,
                    state.content.project.title,
                    state.version,
                    clock(events, now, state),
                )
            )
        return out

    def statistics(self) -> Statistics:
        """Processing statistics over every case."""
        with self.store.read() as conn:
            histories = self.store.load_many(conn)
        return statistics(([e.event for e in h] for h in histories.values()), self._now())

    def verify(self, case_id: str | None = None) -> builtins.list[ChainReport]:
        """Check the hash chains (one case or all); a report with problems means tampering."""
        if case_id is not None:
            _check_case_id(case_id)
        with self.store.read() as conn:
            reports = self.store.verify(conn, case_id)
        if self.anchor is not None:
            reports = self._check_anchor(reports, case_id)
        if case_id is not None and not reports[0].events and reports[0].ok:
            raise CaseNotFound(f"case {case_id} not found")
        return reports

    def _check_anchor(
        self, reports: builtins.list[ChainReport], case_id: str | None
    ) -> builtins.list[ChainReport]:
        """Add what the anchor file knows and the database no longer holds."""
        assert self.anchor is not None
        heads, file_problems = self.anchor.heads()
        by_case = {r.case_id: r for r in reports}
        wanted = [case_id] if case_id is not None else sorted(set(by_case) | set(heads))
        with self.store.read() as conn:
            stored = self.store.hashes(conn, [c for c in wanted if c in heads])
        out = []
        for cid in wanted:
            report = by_case.get(cid, ChainReport(cid, 0, ()))
            extra = list(file_problems) if cid == wanted[0] else []
            if cid in heads:
                seq, digest = heads[cid]
                events = stored.get(cid, {})
                if not events:
                    extra.append(
                        f"the anchor file holds this case (event {seq}) but the database does not (deleted)"
                    )
                elif events.get(seq) != digest:
                    extra.append(
                        f"the anchor file holds event {seq} with another hash or beyond the stored events "
                        "(truncated or rolled back)"
                    )
            out.append(ChainReport(cid, report.events, (*report.problems, *extra)) if extra else report)
        return out


def _check_case_id(case_id: str) -> None:
    """A case id that no store could hold (control characters, NUL, surrogates) names no case."""
    if not identifier_ok(case_id):
        raise CaseNotFound("case not found (the case id is not a valid id)")


def _check_storable(events: Sequence[Event]) -> None:
    """Refuse, before hashing, text no store can keep and sizes that would slow every listing."""
    problems = []
    for event in events:
        data = event_to_json(event)
        problems.extend(json_problems(data))
        if not problems and len(canonical_json(data).encode("utf-8")) > MAX_EVENT_BYTES:
            problems.append(Problem(f"the command is larger than {MAX_EVENT_BYTES:,} bytes"))
    if problems:
        raise CommandRefused("the command holds text or sizes that cannot be stored", problems, invalid=True)


def _error(rejected: Rejected) -> Exception:
    match rejected.kind:
        case "not_found":
            return CaseNotFound(rejected.reason)
        case "forbidden":
            return PermissionDenied(rejected.reason)
        case "invalid":
            return CommandRefused(rejected.reason, rejected.problems, invalid=True)
        case _:
            return CommandRefused(rejected.reason)
