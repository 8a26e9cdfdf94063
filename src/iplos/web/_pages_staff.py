"""Staff pages: the reviewer's queue, the processor's work list, the administrator's accounts,
statistics and audit verification.

The queue holds the cases waiting for a decision, fewest days left first, overdue ones flagged;
the work list the approved cases on their way to delivery and invoice.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from iplos.cases import ROLES, User
from iplos.errors import IplosError
from iplos.web._pages_jobs import job_view, jobs_of
from iplos.web._render import PageUser, PostedForm, lang_of, redirect, render, require, service_of

QUEUE = ("submitted", "under_review", "returned", "appealed")
WORK = (
    "approved",
    "partly_approved",
    "offered",
    "offer_declined",
    "accepted",
    "linked",
    "anonymisation",
    "anonymisation_agreed",
    "delivered",
)


def build_staff_router() -> APIRouter:
    router = APIRouter(prefix="/app", include_in_schema=False)

    @router.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, user: PageUser) -> Response:
        require(user, "reviewer", "administrator")
        cases = [c for c in service_of(request).list(user.actor) if c.status in QUEUE]
        # Waiting on the reviewer first (fewest days left), then those with the applicant.
        cases.sort(key=lambda c: (c.status == "returned", c.clock.days_left, c.case_id))
        return render(request, "queue.html.j2", user=user, cases=cases)

    @router.get("/work", response_class=HTMLResponse)
    def work(request: Request, user: PageUser) -> Response:
        require(user, "processor", "administrator")
        cases = [c for c in service_of(request).list(user.actor) if c.status in WORK]
        latest: dict[str, dict[str, object]] = {}
        for job in jobs_of(request).list(limit=500):  # newest first: the first per case is its latest
            latest.setdefault(job.case_id, job_view(lang_of(request), job))
        return render(request, "work.html.j2", user=user, cases=cases, jobs=latest)

    @router.get("/admin/users", response_class=HTMLResponse)
    def users(request: Request, user: PageUser) -> Response:
        require(user, "administrator")
        return _users(request, user)

    @router.post("/admin/users", response_class=HTMLResponse)
    def create_user(request: Request, user: PageUser, form: PostedForm) -> Response:
        require(user, "administrator")
        role = str(form.get("role", ""))
        try:
            service_of(request).users.create(
                str(form.get("username", "")).strip(),
                str(form.get("password", "")),
                role,  # type: ignore[arg-type]
                str(form.get("display_name", "")).strip(),
            )
        except IplosError as exc:
            return _users(request, user, error=exc.message, status_code=422)
        return redirect("/app/admin/users")

    @router.post("/admin/users/{username}/active", response_class=HTMLResponse)
    def set_active(request: Request, user: PageUser, username: str, form: PostedForm) -> Response:
        require(user, "administrator")
        active = form.get("active") == "1"
        if username == user.username and not active:
            return _users(request, user, error="you cannot disable your own account", status_code=409)
        try:
            service_of(request).users.set_active(username, active)
        except IplosError as exc:
            return _users(request, user, error=exc.message, status_code=404)
        return redirect("/app/admin/users")

    @router.get("/admin/statistics", response_class=HTMLResponse)
    def stats(request: Request, user: PageUser) -> Response:
        require(user, "administrator", "reviewer")
        return render(request, "statistics.html.j2", user=user, stats=service_of(request).statistics())

    @router.get("/admin/audit", response_class=HTMLResponse)
    def audit(request: Request, user: PageUser) -> Response:
        require(user, "administrator")
        reports = service_of(request).verify()
        return render(request, "audit.html.j2", user=user, reports=reports)

    return router


def _users(request: Request, user: User, error: str = "", status_code: int = 200) -> Response:
    return render(
        request,
        "users.html.j2",
        status_code=status_code,
        user=user,
        users=service_of(request).users.list(),
        roles=ROLES,
        error=error,
    )
