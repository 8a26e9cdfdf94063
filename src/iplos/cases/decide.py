"""The dispatcher: `decide(command, case, actor, now)` returns the events a command produces,
or `Rejected` with the reason (REMS: each handler returns the first error or the new events).

Authorisation comes first (the role's `PERMISSIONS` and, for applicants, membership of the case),
then the command's own rules. `decide` is pure: everything it needs from outside (the rate card,
the catalogue, the base case of a change application, the new case id) comes in a `Context`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from iplos.cases import commands as cmd
from iplos.cases import events as ev
from iplos.cases._catalogue import CatalogueView, coarser_levels, default_catalogue
from iplos.cases.carry import carried_decisions
from iplos.cases.invoice import compute_invoice
from iplos.cases.model import ATTACHMENT_KINDS, Application, Role
from iplos.cases.permissions import APPLICANT_ROLES, CREATE_ROLES, allowed, commands_of, statuses_allowing
from iplos.cases.plan_fit import plan_by_variable, plan_fit_problems
from iplos.cases.ratecard import RateCard
from iplos.cases.state import Case
from iplos.cases.validation import (
    involved_registers,
    plan_below_required,
    validate_application,
    validate_plan,
)
from iplos.errors import Problem

OFFER_DAYS = 14
"""Days the applicant has to accept an offer."""
APPEAL_DAYS = 21
"""Days to lodge an appeal (klage) after the decision: three weeks (forvaltningsloven § 29)."""

RejectionKind = Literal["refused", "forbidden", "not_found", "invalid"]


@dataclass(frozen=True)
class Actor:
    """Who gives a command: a username and the role they act in."""

    username: str
    role: Role


@dataclass(frozen=True)
class Rejected:
    """A refused command and why. `kind`: refused (not now), forbidden (never for this role),
    not_found (an applicant's view of someone else's case), invalid (problems listed)."""

    reason: str
    kind: RejectionKind = "refused"
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Context:
    """What `decide` needs from outside the case."""

    rate_card: RateCard
    catalogue: CatalogueView
    new_case_id: str = ""
    base: Case | None = None
    """The approved case a change or new-period application builds on."""


Result = list[ev.Event] | Rejected
_Handler = Callable[[Any, Case, Actor, datetime, Context, dict[str, Any]], Result]


def decide(
    command: cmd.Command, case: Case, actor: Actor, now: datetime, context: Context | None = None
) -> Result:
    """The events `command` produces on `case`, or why it is refused.

    `context` defaults to the packaged rate card and catalogue (and no base case or new id).
    """
    if context is None:
        context = Context(RateCard.default(), default_catalogue())
    if isinstance(command, cmd.CreateDraft):
        if actor.role not in CREATE_ROLES:
            return Rejected(f"{_a(actor.role)} cannot open applications", "forbidden")
    else:
        if actor.role in APPLICANT_ROLES and actor.username not in case.members:
            return Rejected(f"case {case.case_id} not found", "not_found")
        if command.command_name not in commands_of(actor.role):
            return Rejected(f"{_a(actor.role)} may not {command.command_name.replace('_', ' ')}", "forbidden")
        if command.command_name not in allowed(actor.role, case.status):
            where = ", ".join(statuses_allowing(actor.role, command.command_name))
            return Rejected(
                f"cannot {command.command_name.replace('_', ' ')} while the case is {case.status}; allowed when: {where}"
            )
    meta = {"at": now, "actor": actor.username, "role": actor.role}
    return _HANDLERS[type(command)](command, case, actor, now, context, meta)


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _approved_content(base: Case) -> Application:
    """What the base case approved: granted (or coarsened) variables and linkages to approved registers."""
    granted = {key for key, d in base.variable_decisions.items() if d.outcome in ("granted", "coarsened")}
    approved = set(base.approved_registers())
    c = base.content
    return replace(
        c,
        variables=tuple(v for v in c.variables if f"{v.register}.{v.name}" in granted),
        linkages=tuple(link for link in c.linkages if link.register in approved),
    )


def _create(
    c: cmd.CreateDraft, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if c.kind == "new":
        if c.base_case_id is not None:
            return Rejected("a new application builds on no earlier case; use kind 'change' or 'new_period'")
        return [ev.CaseCreated(case_id=ctx.new_case_id, kind="new", content=c.content, **meta)]
    base = ctx.base
    if base is None or c.base_case_id is None:
        return Rejected(f"a {c.kind} application needs base_case_id: the approved case it builds on")
    if actor.username not in base.members:
        return Rejected(f"case {c.base_case_id} not found", "not_found")
    if base.outcome not in ("approved", "partly_approved") or base.status in ("appealed", "withdrawn"):
        return Rejected(
            f"case {base.case_id} is {base.status}: only an approved case can be changed or extended"
        )
    approved = _approved_content(base)
    if c.kind == "new_period":
        content = replace(
            approved,
            aarganger=c.content.aarganger,
            deletion_date=c.content.deletion_date or approved.deletion_date,
        )
    else:
        content = approved if c.content == Application() else c.content
    granted = {f"{v.register}.{v.name}" for v in approved.variables}
    return [
        ev.CaseCreated(
            case_id=ctx.new_case_id,
            kind=c.kind,
            content=content,
            base_case_id=base.case_id,
            base_content=approved,
            base_decisions=tuple(d for k, d in base.variable_decisions.items() if k in granted),
            base_registers=tuple(a for a in base.register_approvals.values() if a.outcome == "granted"),
            **meta,
        )
    ]


_NEW_PERIOD_EDITABLE = ("aarganger", "deletion_date", "recipients", "storage_security", "population")


def _edit(
    c: cmd.EditDraft, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if case.kind == "new_period" and case.base_content is not None:
        fixed = [
            name
            for name in Application.__dataclass_fields__
            if name not in _NEW_PERIOD_EDITABLE
            and getattr(c.content, name) != getattr(case.base_content, name)
        ]
        if fixed:
            return Rejected(
                "a new-period application reuses the approved project, legal basis and variables; "
                f"it cannot change: {', '.join(fixed)}"
            )
    if c.content == case.content:
        return Rejected("the draft is unchanged")
    return [ev.DraftEdited(content=c.content, **meta)]


def _validate(case: Case, now: datetime, ctx: Context) -> Rejected | None:
    problems = validate_application(
        case.content, case.kind, ctx.catalogue, now.date(), case.base_content, case.dpia_required
    )
    if problems:
        return Rejected(f"the application has {len(problems)} problem(s) to fix", "invalid", tuple(problems))
    return None


def _submit(
    c: cmd.Submit, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    return _validate(case, now, ctx) or [ev.Submitted(**meta)]


def _resubmit(
    c: cmd.Resubmit, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    return _validate(case, now, ctx) or [ev.Resubmitted(response=c.response, **meta)]


def _start(
    c: cmd.StartReview, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    return [ev.ReviewStarted(**meta), *carried_decisions(case, ctx.catalogue, meta)]


def _return(
    c: cmd.ReturnToApplicant, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    comments = tuple(x.strip() for x in c.comments if x.strip())
    if not comments:
        return Rejected("say what the applicant must change (comments are empty)")
    return [ev.ReturnedToApplicant(comments=comments, require_dpia=c.require_dpia, **meta)]


def _decide_variable(
    c: cmd.DecideVariable, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    requested = {(v.register, v.name) for v in case.content.variables}
    if (c.register, c.name) not in requested:
        return Rejected(f"variable {c.register}.{c.name} is not requested in this case")
    if c.outcome == "coarsened" and not (c.level and c.level.strip()):
        return Rejected("a coarsened grant needs the required level (e.g. '5 years', 'fylke')")
    if c.outcome == "coarsened" and c.level is not None:
        levels = coarser_levels(ctx.catalogue, c.name, c.register)
        if not levels:
            return Rejected(f"{c.name} is delivered as it is and cannot be coarsened: grant or deny it")
        if c.level not in levels:
            return Rejected(
                f"{c.name} cannot be delivered at level {c.level!r}; levels it can be delivered at: "
                f"{', '.join(levels)}"
            )
    if c.outcome != "coarsened" and c.level is not None:
        return Rejected(f"a level belongs only to a coarsened grant, not to {c.outcome!r}")
    if c.outcome == "denied" and not c.reason.strip():
        return Rejected("a denied variable needs a reason")
    return [
        ev.VariableDecided(
            register=c.register, name=c.name, outcome=c.outcome, level=c.level, reason=c.reason, **meta
        )
    ]


def _decide_register(
    c: cmd.DecideRegister, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    involved = involved_registers(case.content, ctx.catalogue)
    if c.register not in involved:
        return Rejected(
            f"register {c.register!r} is not involved in this case (involved: {', '.join(involved)})"
        )
    if c.outcome == "denied" and not c.reason.strip():
        return Rejected("a denied register needs a reason")
    return [
        ev.RegisterDecided(
            register=c.register, outcome=c.outcome, reference=c.reference, reason=c.reason, **meta
        )
    ]


def _decide_case(
    c: cmd.DecideCase, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    problems: list[Problem] = []
    if not any(r.strip() for r in c.reasons):
        problems.append(Problem("the decision needs its reasons", column="reasons"))
    for v in case.content.variables:
        if f"{v.register}.{v.name}" not in case.variable_decisions:
            problems.append(
                Problem("variable not decided", column="variables", value=f"{v.register}.{v.name}")
            )
    for reg in involved_registers(case.content, ctx.catalogue):
        if reg not in case.register_approvals:
            problems.append(Problem("register approval not recorded", column="registers", value=reg))
    denied_registers = {r for r, a in case.register_approvals.items() if a.outcome == "denied"}
    if c.outcome != "rejected":
        for i, cond in enumerate(case.content.population.registers):
            if cond.register in denied_registers:
                problems.append(
                    Problem(
                        f"the population needs {cond.register}, which is denied: reject the case or "
                        "return it to the applicant",
                        column=f"population.registers[{i}]",
                        value=cond.register,
                    )
                )
    if problems:
        return Rejected(
            f"the case cannot be decided yet: {len(problems)} problem(s)", "invalid", tuple(problems)
        )
    outcomes = [d.outcome for d in case.variable_decisions.values()]
    register_denied = any(a.outcome == "denied" for a in case.register_approvals.values())
    any_granted = any(o != "denied" for o in outcomes)
    any_denied = "denied" in outcomes or register_denied
    if c.outcome == "approved" and any_denied:
        return Rejected("cannot approve in full: a variable or register is denied (decide 'partly_approved')")
    if c.outcome == "partly_approved" and not (any_granted and any_denied):
        return Rejected("a partial approval grants some and denies some variables or registers")
    reasons = tuple(r.strip() for r in c.reasons if r.strip())
    return [ev.CaseDecided(outcome=c.outcome, reasons=reasons, conditions=c.conditions, **meta)]


def _appeal(
    c: cmd.LodgeAppeal, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not c.grounds.strip():
        return Rejected("an appeal states its grounds")
    if case.decided_at is not None and now - case.decided_at > timedelta(days=APPEAL_DAYS):
        last = (case.decided_at + timedelta(days=APPEAL_DAYS)).date()
        return Rejected(f"the appeal deadline (three weeks, forvaltningsloven § 29) ended on {last}")
    return [ev.AppealLodged(grounds=c.grounds, **meta)]


def _decide_appeal(
    c: cmd.DecideAppeal, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not c.reason.strip():
        return Rejected("the appeal decision needs its reason")
    return [ev.AppealDecided(outcome=c.outcome, reason=c.reason, **meta)]


def _offer(
    c: cmd.MakeOffer, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if case.outcome == "rejected":
        return Rejected("a rejected case gets no offer")
    if not c.lines:
        return Rejected("an offer needs at least one estimate line")
    unknown = ctx.rate_card.unknown_groups(line.staff_group for line in c.lines)
    if unknown:
        return Rejected(
            f"staff group(s) not on the rate card: {', '.join(unknown)} (known: {', '.join(ctx.rate_card.rates)})"
        )
    if any(not 0 < line.hours <= 10_000 for line in c.lines):
        return Rejected("hours on each line must be positive (and below 10 000)")
    if c.expected_delivery <= now.date():
        return Rejected("the expected delivery date must be in the future")
    lines, total = ctx.rate_card.price_all(c.lines)
    return [
        ev.OfferMade(
            number=len(case.offers) + 1,
            lines=lines,
            total=total,
            currency=ctx.rate_card.currency,
            expected_delivery=c.expected_delivery,
            valid_until=now.date() + timedelta(days=OFFER_DAYS),
            **meta,
        )
    ]


def _accept(
    c: cmd.AcceptOffer, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    offer = case.open_offer
    if offer is None:
        return Rejected("there is no open offer")
    if now.date() > offer.valid_until:
        return Rejected(
            f"offer {offer.number} expired on {offer.valid_until}; ask the processor for a new offer"
        )
    return [ev.OfferAccepted(number=offer.number, **meta)]


def _decline(
    c: cmd.DeclineOffer, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    offer = case.open_offer
    if offer is None:
        return Rejected("there is no open offer")
    return [ev.OfferDeclined(number=offer.number, reason=c.reason, **meta)]


def _linkage(
    c: cmd.RecordLinkageDone, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not case.approved_registers():
        return Rejected("no register of this case is approved")
    return [ev.LinkageDone(summary=dict(c.summary), **meta)]


def _plan_rejected(plan: Any, case: Case, ctx: Context) -> Rejected | None:
    problems = validate_plan(plan)
    if not problems:
        # The reviewer's coarsening binds whether the plan names a variable or its column.
        by_variable, written = plan_by_variable(plan, case, ctx.catalogue)
        below = plan_below_required(by_variable, case.variable_decisions.values(), ctx.catalogue)
        problems = [_as_written(p, written) for p in below] or plan_fit_problems(plan, case, ctx.catalogue)
    if problems:
        return Rejected(f"the anonymisation plan has {len(problems)} problem(s)", "invalid", tuple(problems))
    return None


def _as_written(problem: Problem, written: dict[str, str]) -> Problem:
    """The problem located at the level's name as the plan wrote it (`plan.levels.alder`)."""
    prefix = "plan.levels."
    if not problem.column or not problem.column.startswith(prefix):
        return problem
    name = problem.column[len(prefix) :]
    return replace(problem, column=prefix + written.get(name, name))


def _last_party(case: Case) -> str | None:
    return case.anonymisation_rounds[-1].party if case.anonymisation_rounds else None


def _propose(
    c: cmd.ProposeAnonymisation, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if _last_party(case) == "processor":
        return Rejected("the applicant has not answered the last proposal yet")
    n = len(case.anonymisation_rounds) + 1
    return _plan_rejected(c.plan, case, ctx) or [
        ev.AnonymisationProposed(round=n, plan=dict(c.plan), comment=c.comment, **meta)
    ]


def _counter(
    c: cmd.CounterAnonymisation, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if _last_party(case) != "processor":
        return Rejected("wait for the processor's answer to your last plan")
    n = len(case.anonymisation_rounds) + 1
    return _plan_rejected(c.plan, case, ctx) or [
        ev.AnonymisationCountered(round=n, plan=dict(c.plan), comment=c.comment, **meta)
    ]


def _agree(
    c: cmd.AgreeAnonymisation, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    latest = len(case.anonymisation_rounds)
    if c.round != latest:
        return Rejected(f"only the latest plan (round {latest}) can be agreed, not round {c.round}")
    party = "processor" if actor.role == "processor" else "applicant"
    if _last_party(case) == party:
        return Rejected(f"round {latest} is your own plan; the other party agrees to it")
    return [ev.AnonymisationAgreed(round=latest, **meta)]


def _deliver(
    c: cmd.RecordDelivery, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    digest = c.manifest_sha256.lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        return Rejected("manifest_sha256 must be 64 hexadecimal digits")
    if not c.delivery_id.strip():
        return Rejected("the delivery needs its id")
    return [ev.Delivered(delivery_id=c.delivery_id, manifest_sha256=digest, **meta)]


def _start_delivery(
    c: cmd.StartDelivery, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not c.delivery_id.strip():
        return Rejected("the delivery needs its id")
    if case.pending_delivery is not None and case.pending_delivery != c.delivery_id:
        return Rejected(f"delivery {case.pending_delivery} is pending; finish it before starting another")
    return [ev.DeliveryStarted(delivery_id=c.delivery_id, **meta)]


def _hours(
    c: cmd.RecordHours, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if ctx.rate_card.unknown_groups([c.staff_group]):
        return Rejected(
            f"staff group {c.staff_group!r} is not on the rate card (known: {', '.join(ctx.rate_card.rates)})"
        )
    if not 0 < c.hours <= 1000:
        return Rejected("hours must be positive (and at most 1000 in one entry)")
    if c.work_date > now.date():
        return Rejected("hours cannot be recorded for a future date")
    return [
        ev.HoursRecorded(staff_group=c.staff_group, hours=c.hours, work_date=c.work_date, note=c.note, **meta)
    ]


def _attach(
    c: cmd.AddAttachment, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if c.kind not in ATTACHMENT_KINDS:
        return Rejected(f"attachment kind {c.kind!r} is not one of {', '.join(ATTACHMENT_KINDS)}")
    if not re.fullmatch(r"[0-9a-f]{64}", c.sha256):
        return Rejected("the attachment's SHA-256 must be 64 lowercase hex digits")
    name = c.filename.strip()
    if not name or len(name) > 200 or any(ch in name for ch in "/\\\x00"):
        return Rejected("the attachment needs a file name (at most 200 characters, no path)")
    if c.size <= 0 or c.pages <= 0:
        return Rejected("the attachment must have a positive size and at least one page")
    if any(a.sha256 == c.sha256 for a in case.attachments):
        return Rejected(f"{name} is already attached (the same file, SHA-256 {c.sha256[:12]}...)")
    return [
        ev.AttachmentAdded(kind=c.kind, filename=name, sha256=c.sha256, size=c.size, pages=c.pages, **meta)
    ]


def _invoice(
    c: cmd.IssueInvoice, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not case.hours:
        return Rejected("no hours are recorded on the case")
    missing = ctx.rate_card.unknown_groups({h.staff_group for h in case.hours})
    if missing:
        return Rejected(f"the rate card has no rate for: {', '.join(sorted(missing))}")
    lines, total = compute_invoice(case, ctx.rate_card)
    number = f"{case.case_id}-{len(case.invoices) + 1}"
    return [
        ev.InvoiceIssued(number=number, lines=lines, total=total, currency=ctx.rate_card.currency, **meta)
    ]


def _deletion(
    c: cmd.ConfirmDeletion, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if c.deleted_on > now.date():
        return Rejected("deletion cannot be confirmed for a future date")
    return [ev.DeletionConfirmed(deleted_on=c.deleted_on, statement=c.statement, **meta)]


def _close(
    c: cmd.Close, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    if not c.reason.strip():
        return Rejected("closing a case needs the reason (it goes on the record)")
    return [ev.Closed(reason=c.reason.strip(), **meta)]


def _withdraw(
    c: cmd.Withdraw, case: Case, actor: Actor, now: datetime, ctx: Context, meta: dict[str, Any]
) -> Result:
    return [ev.Withdrawn(reason=c.reason, **meta)]


_HANDLERS: dict[type[cmd.Command], _Handler] = {
    cmd.CreateDraft: _create,
    cmd.EditDraft: _edit,
    cmd.Submit: _submit,
    cmd.StartReview: _start,
    cmd.ReturnToApplicant: _return,
    cmd.Resubmit: _resubmit,
    cmd.DecideVariable: _decide_variable,
    cmd.DecideRegister: _decide_register,
    cmd.DecideCase: _decide_case,
    cmd.LodgeAppeal: _appeal,
    cmd.DecideAppeal: _decide_appeal,
    cmd.MakeOffer: _offer,
    cmd.AcceptOffer: _accept,
    cmd.DeclineOffer: _decline,
    cmd.RecordLinkageDone: _linkage,
    cmd.ProposeAnonymisation: _propose,
    cmd.CounterAnonymisation: _counter,
    cmd.AgreeAnonymisation: _agree,
    cmd.StartDelivery: _start_delivery,
    cmd.RecordDelivery: _deliver,
    cmd.RecordHours: _hours,
    cmd.AddAttachment: _attach,
    cmd.IssueInvoice: _invoice,
    cmd.ConfirmDeletion: _deletion,
    cmd.Close: _close,
    cmd.Withdraw: _withdraw,
}
