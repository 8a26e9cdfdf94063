"""The applicant's previews: the draft's re-identification risk on the synthetic register, and a
counter-proposal's consequences before it is filed (both from `iplos.preview`).

- `GET /app/cases/{id}/preview`: the risk preview of the saved draft as a page fragment (the edit
  page loads it in place with a few lines of JavaScript; "Save and show the risk" shows it without);
- `POST /app/cases/{id}/counter-preview`: the counter-proposal form carried out and shown on the case
  page with the form as filled in, nothing filed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from iplos.cases import Case
from iplos.errors import Problem
from iplos.preview import Consequences, Previews, RiskPreview
from iplos.web._commands import fields_of, plan_from_form
from iplos.web._render import PageUser, PostedForm, render, service_of


def previews_of(request: Request) -> Previews:
    previews: Previews = request.app.state.previews
    return previews


def risk_of(request: Request, case: Case) -> RiskPreview:
    """The case's risk preview (computed on the synthetic register, or kept from before)."""
    return previews_of(request).risk(case)


def scale_of(request: Request) -> float:
    return previews_of(request).synthetic.scale


def counter_of(request: Request, case: Case, form: PostedForm) -> tuple[Consequences | None, list[Problem]]:
    """The posted counter-proposal's consequences, or the form's problems."""
    problems: list[Problem] = []
    plan = plan_from_form(fields_of(form.multi_items()), problems)
    if problems:
        return None, problems
    plan = {key: value for key, value in plan.items() if value is not None and value != []}
    return previews_of(request).counter(case, plan), []


def build_preview_router() -> APIRouter:
    router = APIRouter(prefix="/app/cases", include_in_schema=False)

    @router.get("/{case_id}/preview", response_class=HTMLResponse)
    def preview(request: Request, user: PageUser, case_id: str) -> Response:
        case = service_of(request).get(case_id, user.actor)
        return render(
            request, "preview.html.j2", user=user, preview=risk_of(request, case), scale=scale_of(request)
        )

    @router.post("/{case_id}/counter-preview", response_class=HTMLResponse)
    def counter_preview(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        from iplos.web._pages_case import case_page

        case = service_of(request).get(case_id, user.actor)
        consequences, problems = counter_of(request, case, form)
        return case_page(
            request,
            user,
            case_id,
            problems=problems,
            status_code=422 if problems else 200,
            consequences=consequences,
            counter_form=fields_of(form.multi_items()),
        )

    return router
