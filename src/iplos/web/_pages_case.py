"""The case page every role shares, the command forms on it, the reviewer's decision page, the
decision letter and the invoice.

The case page shows the 30-day clock (days used and left, deadline, overdue), the expected
delivery date, the application, the decisions, offers, negotiation rounds, deliveries, invoices
and every event. Its forms are the commands the user's role may give in the case's status
(`PERMISSIONS`), each posted to `/app/cases/{id}/do/{command}` with the case version it was
read at: a case that moved on in between is refused (409), never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from iplos.cases import (
    ATTACHMENT_KINDS,
    PERMISSIONS,
    Case,
    CatalogueView,
    CommandRefused,
    ConcurrencyError,
    PermissionDenied,
    User,
    event_from_json,
    event_to_json,
    involved_registers,
    letter,
)
from iplos.cases.commands import DecideVariable
from iplos.cases.plan_fit import plan_variables
from iplos.cases.population import Language, in_words
from iplos.cases.table_request import table_in_words
from iplos.cases.validation import level_options
from iplos.errors import IplosError, Problem
from iplos.preview import Consequences
from iplos.web._commands import RETURN_SECTIONS, command_from_form, fields_of
from iplos.web._letter_pdf import letter_pdf
from iplos.web._pages_applicant import deliverable_levels
from iplos.web._render import (
    PageUser,
    PostedForm,
    lang_of,
    problems_by_field,
    redirect,
    render,
    require,
    service_of,
)

HIDDEN_EVENT_FIELDS = frozenset(
    {"type", "at", "actor", "role", "case_id", "content", "base_content", "lines", "plan"}
)


def _version(form: FormData) -> int | None:
    text = form.get("version")
    return int(text) if isinstance(text, str) and text.isdigit() else None


def event_rows(request: Request, case_id: str, user: User) -> list[dict[str, Any]]:
    """Every event of the case, oldest first, with its plain details."""
    rows = []
    for stored in service_of(request).history(case_id, user.actor):
        data = event_to_json(stored.event)
        details = {
            k: v for k, v in data.items() if k not in HIDDEN_EVENT_FIELDS and v not in (None, "", [], {})
        }
        rows.append(
            {
                "seq": stored.seq,
                "type": data["type"],
                "at": data["at"],
                "actor": data["actor"],
                "role": data["role"],
                "details": details,
            }
        )
    return rows


def quasi_identifiers(case: Case, catalogue: CatalogueView) -> list[str]:
    """Variables an anonymisation plan sets levels for: those of the latest plan, then every other
    quasi-identifier of the granted extract that has a choice of levels (a plan must name them all)."""
    named: list[str] = []
    if case.anonymisation_rounds:
        levels = case.anonymisation_rounds[-1].plan.get("levels", {})
        if isinstance(levels, dict):
            named = [str(name) for name in levels]
    coarsened = [d.name for d in case.granted_variables() if d.outcome == "coarsened"]
    return list(dict.fromkeys([*named, *coarsened, *plan_variables(case, catalogue)]))


def case_page(
    request: Request,
    user: User,
    case_id: str,
    error: str = "",
    problems: list[Problem] | tuple[Problem, ...] = (),
    status_code: int = 200,
    notice: str = "",
    consequences: Consequences | None = None,
    counter_form: Mapping[str, Sequence[str]] | None = None,
) -> Response:
    from iplos.web._pages_preview import scale_of

    service = service_of(request)
    case = service.get(case_id, user.actor)
    allowed = PERMISSIONS[user.role][case.status]
    latest_plan = case.anonymisation_rounds[-1].plan if case.anonymisation_rounds else {}
    qis = quasi_identifiers(case, service.catalogue)
    return render(
        request,
        "case.html.j2",
        status_code=status_code,
        user=user,
        case=case,
        clock=service.clock(case_id, user.actor),
        events=event_rows(request, case_id, user),
        allowed=allowed,
        error=error,
        notice=notice,
        problems=problems_by_field(list(problems)),
        all_problems=list(problems),
        rate_card=service.rate_card,
        qis=qis,
        qi_levels={q: deliverable_levels(request, q) for q in qis},
        latest_plan=latest_plan,
        today=service.now().date(),
        has_letter=case.decided_at is not None,
        downloads=request.app.state.deliveries is not None,
        invoice=service.invoice(case_id, user.actor) if case.hours or case.invoices else None,
        population_words=population_in_words(request, case),
        tables_words=[table_in_words(t, _language(request)) for t in case.content.tables],
        consequences=consequences,
        counter_form=counter_form or {},
        uploads=request.app.state.attachments is not None,
        attachment_kinds=ATTACHMENT_KINDS,
        scale=scale_of(request),
    )


def change_value(value: object) -> str:
    """One side of a change as the reviewer reads it (a record as compact JSON, nothing as '–')."""
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _language(request: Request) -> Language:
    return "nb" if lang_of(request) == "nb" else "en"


def population_in_words(request: Request, case: Case) -> str:
    """The case's population as one sentence in the page's language (catalogue labels)."""
    pop = case.content.population
    if not pop.has_criteria and not pop.description.strip():
        return ""
    return in_words(pop, _language(request), service_of(request).catalogue)


def _failure(request: Request, user: User, case_id: str, exc: IplosError) -> Response:
    code = (
        422
        if isinstance(exc, CommandRefused) and exc.invalid
        else 403
        if isinstance(exc, PermissionDenied)
        else 409
    )
    if isinstance(exc, ConcurrencyError):
        code = 409
    return case_page(request, user, case_id, error=exc.message, problems=exc.problems, status_code=code)


def _draft_letter(
    request: Request, user: User, case_id: str, outcome: str, reasons: str, conditions: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The letter as it would read if the reviewer decided now with these choices (nothing recorded)."""
    service = service_of(request)
    case = service.get(case_id, user.actor)
    if outcome not in ("approved", "partly_approved", "rejected"):
        denied = any(d.outcome == "denied" for d in case.variable_decisions.values())
        outcome = "partly_approved" if denied else "approved"
    reasons = reasons or _msg(request, "review.default_reason")
    draft = event_from_json(
        {
            "type": "CaseDecided",
            "at": service.now().isoformat(),
            "actor": user.username,
            "role": user.role,
            "outcome": outcome,
            "reasons": [r.strip() for r in reasons.splitlines() if r.strip()],
            "conditions": [c.strip() for c in conditions.splitlines() if c.strip()],
        }
    )
    history = [e.event for e in service.history(case_id, user.actor)]
    return letter([*history, draft]).data, {"outcome": outcome, "reasons": reasons, "conditions": conditions}


def _attachment_lines(request: Request, case: Case) -> list[dict[str, str]]:
    """The case's attachments as the letter lists them (kind in the page's language)."""
    return [
        {"kind": _msg(request, f"attachment.kind.{a.kind}"), "filename": a.filename, "sha256": a.sha256}
        for a in case.attachments
    ]


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def build_case_router() -> APIRouter:
    router = APIRouter(prefix="/app/cases", include_in_schema=False)

    @router.get("/{case_id}", response_class=HTMLResponse)
    def show(request: Request, user: PageUser, case_id: str) -> Response:
        return case_page(request, user, case_id)

    @router.post("/{case_id}/do/{command}", response_class=HTMLResponse)
    def do(request: Request, user: PageUser, case_id: str, command: str, form: PostedForm) -> Response:
        service = service_of(request)
        service.get(case_id, user.actor)  # 404 before anything for a case the user may not see
        try:
            built, problems = command_from_form(command, fields_of(form.multi_items()), service.rate_card)
            if built is None:
                return case_page(
                    request,
                    user,
                    case_id,
                    error=_msg(request, "error.form"),
                    problems=problems,
                    status_code=422,
                )
            service.execute(case_id, built, user.actor, expected_version=_version(form))
        except (CommandRefused, ConcurrencyError, PermissionDenied) as exc:
            return _failure(request, user, case_id, exc)
        except IplosError as exc:
            return case_page(
                request, user, case_id, error=exc.message, problems=exc.problems, status_code=400
            )
        return redirect(f"/app/cases/{case_id}")

    @router.get("/{case_id}/review", response_class=HTMLResponse)
    def review(request: Request, user: PageUser, case_id: str) -> Response:
        require(user, "reviewer")
        return review_page(request, user, case_id)

    @router.post("/{case_id}/review/variables", response_class=HTMLResponse)
    def decide_variables(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        require(user, "reviewer")
        service = service_of(request)
        case = service.get(case_id, user.actor)
        problems: list[Problem] = []
        for i, v in enumerate(case.content.variables):
            outcome = form.get(f"outcome.{i}")
            if not isinstance(outcome, str) or not outcome:
                continue
            level = str(form.get(f"level.{i}", "")) if outcome == "coarsened" else ""
            reason = str(form.get(f"reason.{i}", "")).strip()
            current = case.variable_decisions.get(f"{v.register}.{v.name}")
            if current is not None and (current.outcome, current.level or "", current.reason) == (
                outcome,
                level,
                reason,
            ):
                continue
            try:
                command = DecideVariable(v.name, outcome, v.register, level or None, reason)  # type: ignore[arg-type]
                service.execute(case_id, command, user.actor)
            except IplosError as exc:
                problems.append(Problem(exc.message, column=f"outcome.{i}", value=v.name))
        if problems:
            return review_page(request, user, case_id, problems=problems, status_code=422)
        return redirect(f"/app/cases/{case_id}/review#registers")

    @router.post("/{case_id}/review/{command}", response_class=HTMLResponse)
    def review_command(
        request: Request, user: PageUser, case_id: str, command: str, form: PostedForm
    ) -> Response:
        require(user, "reviewer")
        service = service_of(request)
        if command not in ("decide_register", "return_to_applicant", "decide_case", "start_review"):
            return review_page(request, user, case_id, error=f"{command}?", status_code=400)
        built, problems = command_from_form(command, fields_of(form.multi_items()), service.rate_card)
        if built is None:
            return review_page(request, user, case_id, problems=problems, status_code=422)
        try:
            service.execute(case_id, built, user.actor, expected_version=_version(form))
        except IplosError as exc:
            code = 422 if isinstance(exc, CommandRefused) and exc.invalid else 409
            return review_page(
                request, user, case_id, error=exc.message, problems=list(exc.problems), status_code=code
            )
        if command in ("return_to_applicant", "decide_case"):
            return redirect(f"/app/cases/{case_id}")
        return redirect(f"/app/cases/{case_id}/review#registers")

    @router.get("/{case_id}/letter", response_class=HTMLResponse)
    def issued_letter(request: Request, user: PageUser, case_id: str) -> Response:
        service = service_of(request)
        case = service.get(case_id, user.actor)
        try:
            result = service.letter(case_id, user.actor)
        except CommandRefused as exc:
            return case_page(request, user, case_id, error=exc.message, status_code=409)
        return render(request, "letter.html.j2", user=user, case=case, letter=result.data, preview=None)

    @router.get("/{case_id}/letter.pdf")
    def issued_letter_pdf(request: Request, user: PageUser, case_id: str) -> Response:
        service = service_of(request)
        case = service.get(case_id, user.actor)
        try:
            result = service.letter(case_id, user.actor)
        except CommandRefused as exc:
            return case_page(request, user, case_id, error=exc.message, status_code=409)
        pdf = letter_pdf(result.data, lang_of(request), attachments=_attachment_lines(request, case))
        return _pdf(pdf, f"vedtak-{case_id}.pdf")

    @router.get("/{case_id}/letter/preview", response_class=HTMLResponse)
    def letter_preview(
        request: Request,
        user: PageUser,
        case_id: str,
        outcome: str = "",
        reasons: str = "",
        conditions: str = "",
    ) -> Response:
        require(user, "reviewer")
        case = service_of(request).get(case_id, user.actor)
        data, chosen = _draft_letter(request, user, case_id, outcome, reasons, conditions)
        return render(
            request,
            "letter.html.j2",
            user=user,
            case=case,
            letter=data,
            preview=chosen,
        )

    @router.get("/{case_id}/letter/preview.pdf")
    def letter_preview_pdf(
        request: Request,
        user: PageUser,
        case_id: str,
        outcome: str = "",
        reasons: str = "",
        conditions: str = "",
    ) -> Response:
        require(user, "reviewer")
        case = service_of(request).get(case_id, user.actor)
        data, _ = _draft_letter(request, user, case_id, outcome, reasons, conditions)
        pdf = letter_pdf(data, lang_of(request), draft=True, attachments=_attachment_lines(request, case))
        return _pdf(pdf, f"vedtak-{case_id}-utkast.pdf")

    @router.get("/{case_id}/invoice", response_class=HTMLResponse)
    def invoice(request: Request, user: PageUser, case_id: str) -> Response:
        service = service_of(request)
        case = service.get(case_id, user.actor)
        return render(
            request,
            "invoice.html.j2",
            user=user,
            case=case,
            invoice=service.invoice(case_id, user.actor),
            rate_card=service.rate_card,
        )

    return router


def review_page(
    request: Request,
    user: User,
    case_id: str,
    error: str = "",
    problems: list[Problem] | tuple[Problem, ...] = (),
    status_code: int = 200,
) -> Response:
    service = service_of(request)
    case = service.get(case_id, user.actor)
    registers = involved_registers(case.content, service.catalogue)
    return render(
        request,
        "review.html.j2",
        status_code=status_code,
        user=user,
        case=case,
        clock=service.clock(case_id, user.actor),
        levels=level_options(case.content, service.catalogue),
        population_words=population_in_words(request, case),
        tables_words=[table_in_words(t, _language(request)) for t in case.content.tables],
        changes=service.resubmission_diff(case_id, user.actor) if case.returns else [],
        change_value=change_value,
        registers=registers,
        sections=RETURN_SECTIONS,
        error=error,
        problems=problems_by_field(list(problems)),
        all_problems=list(problems),
        allowed=PERMISSIONS[user.role][case.status],
    )


def _msg(request: Request, key: str) -> str:
    from iplos.web._i18n import translate

    return translate(lang_of(request), key)
