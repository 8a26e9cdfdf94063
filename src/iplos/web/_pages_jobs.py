"""The processor's jobs on a case, and the chart of the search's alternatives.

- `/app/cases/{id}/jobs` (processor): start what the case asks next (linkage and the search of a
  plan, the answer to a counter-proposal, the delivery) as a job in the case store, which
  `iplos worker` runs out of the request; its progress (a fraction and the step), cancel, and the
  earlier jobs. Without JavaScript the page shows the progress when loaded; `iplos.js` polls
  `.../jobs/{job}/progress` (JSON) and reloads when the job ends.
- `/app/cases/{id}/alternatives` (everyone on the case): the proposal and its alternatives as
  risk against information loss, the agreed criteria marked, with the same numbers in a table;
  the processor may propose any alternative from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from iplos.cases import PERMISSIONS, CaseNotFound, User
from iplos.errors import IplosError
from iplos.jobs import FINAL, Job, JobStore, kind_for, params_of, submit_next
from iplos.release import Criteria
from iplos.web._chart import levels_text, risk_loss_chart
from iplos.web._i18n import Lang, level_name, translate
from iplos.web._render import PageUser, PostedForm, lang_of, redirect, render, require, service_of


def jobs_of(request: Request) -> JobStore:
    """The job rows, in the case store the pages run on."""
    return JobStore(service_of(request).engine)


def job_view(lang: Lang, job: Job) -> dict[str, Any]:
    """A job as the page and the progress poll show it (labels in the page's language)."""
    return {
        "id": job.id,
        "kind": translate(lang, f"job.kind.{job.kind}"),
        "status": job.status,
        "status_label": translate(lang, f"job.status.{job.status}"),
        "step": translate(lang, f"job.step.{job.step}") if job.step not in FINAL else "",
        "detail": job.detail,
        "progress": round(job.progress, 3),
        "percent": round(job.progress * 100),
        "cancel_requested": job.cancel_requested,
        "error": job.error or "",
        "final": job.status in FINAL,
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
    }


def _number(form: Any, name: str) -> float | None:
    text = str(form.get(name, "")).strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise IplosError(f"{name}: {text!r} is not a number") from None


def jobs_page(
    request: Request, user: User, case_id: str, error: str = "", status_code: int = 200
) -> Response:
    service = service_of(request)
    case = service.get(case_id, user.actor)
    store = jobs_of(request)
    lang = lang_of(request)
    history = [job_view(lang, j) for j in store.list(case_id=case_id, limit=20)]
    active = next((j for j in history if not j["final"]), None)
    next_kind = kind_for(case)
    return render(
        request,
        "jobs.html.j2",
        status_code=status_code,
        user=user,
        case=case,
        active=active,
        history=history,
        next_kind=next_kind,
        error=error,
        has_chart=risk_loss_chart(case) is not None,
    )


def alternatives_page(request: Request, user: User, case_id: str) -> Response:
    service = service_of(request)
    case = service.get(case_id, user.actor)
    lang = lang_of(request)
    chart = risk_loss_chart(case)
    allowed = PERMISSIONS[user.role][case.status]
    last = case.anonymisation_rounds[-1].party if case.anonymisation_rounds else None
    # A party takes an alternative as its plan when it is its turn: the processor answers a
    # counter-proposal with a proposal, the applicant answers a proposal with a counter-proposal.
    action = None
    if user.role == "processor" and "propose_anonymisation" in allowed and last != "processor":
        action = "propose_anonymisation"
    elif "counter_anonymisation" in allowed and last == "processor":
        action = "counter_anonymisation"
    return render(
        request,
        "alternatives.html.j2",
        user=user,
        case=case,
        chart=chart,
        action=action,
        describe=lambda levels: levels_text(levels, lambda v: level_name(lang, v)),
    )


def _now(request: Request) -> datetime:
    return service_of(request).now()


def build_jobs_router() -> APIRouter:
    router = APIRouter(prefix="/app/cases", include_in_schema=False)

    @router.get("/{case_id}/jobs", response_class=HTMLResponse)
    def show(request: Request, user: PageUser, case_id: str) -> Response:
        require(user, "processor")
        return jobs_page(request, user, case_id)

    @router.post("/{case_id}/jobs", response_class=HTMLResponse)
    def start(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        require(user, "processor")
        service = service_of(request)
        service.get(case_id, user.actor)
        try:
            params = params_from_form(form)
            submit_next(service, jobs_of(request), case_id, user.actor, params, _now(request))
        except IplosError as exc:
            return jobs_page(request, user, case_id, error=exc.message, status_code=409)
        return redirect(f"/app/cases/{case_id}/jobs")

    @router.post("/{case_id}/jobs/{job_id}/cancel", response_class=HTMLResponse)
    def cancel(request: Request, user: PageUser, case_id: str, job_id: str, form: PostedForm) -> Response:
        require(user, "processor")
        service_of(request).get(case_id, user.actor)
        store = jobs_of(request)
        job = _job_of_case(store, case_id, job_id)
        store.request_cancel(job.id, _now(request))
        return redirect(f"/app/cases/{case_id}/jobs")

    @router.get("/{case_id}/jobs/{job_id}/progress")
    def progress(request: Request, user: PageUser, case_id: str, job_id: str) -> Response:
        require(user, "processor")
        service_of(request).get(case_id, user.actor)
        job = _job_of_case(jobs_of(request), case_id, job_id)
        view = job_view(lang_of(request), job)
        view["created_at"] = job.created_at.isoformat()
        view["finished_at"] = job.finished_at.isoformat() if job.finished_at else None
        return JSONResponse(view, headers={"Cache-Control": "no-store"})

    @router.get("/{case_id}/alternatives", response_class=HTMLResponse)
    def alternatives(request: Request, user: PageUser, case_id: str) -> Response:
        return alternatives_page(request, user, case_id)

    return router


def _job_of_case(store: JobStore, case_id: str, job_id: str) -> Job:
    try:
        job = store.get(job_id)
    except IplosError:
        raise CaseNotFound(f"case {case_id} has no job {job_id}") from None
    if job.case_id != case_id:
        raise CaseNotFound(f"case {case_id} has no job {job_id}")
    return job


def params_from_form(form: Any) -> dict[str, Any]:
    """The processor's criteria for a new proposal from the start form (empty fields: the defaults),
    checked as the release path checks them."""
    values: dict[str, Any] = {"k": 5, "max_suppressed": 0.05}
    for field, key in (("k", "k"), ("max_suppression", "max_suppressed"), ("l", "l"), ("t", "t")):
        number = _number(form, field)
        if number is not None:
            values[key] = int(number) if key == "k" and number.is_integer() else number
    return params_of(Criteria.from_dict(values))
