"""The applicant's pages: their cases, the variable list with its cart, the application form, submit.

The cart is the draft's list of requested variables: "add" on the variable list appends one to
the draft (`edit_draft`), the form gives each its justification. Submitting runs the case
service's validation; every problem comes back at its field (HTTP 422) and nothing is submitted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from iplos.cases import Case, CaseNotFound, CommandRefused, User
from iplos.cases.population import Language, in_words
from iplos.catalog import Variable, catalog
from iplos.errors import IplosError, Problem
from iplos.web import _forms, _population_form, _tables_form
from iplos.web._render import (
    PageUser,
    PostedForm,
    problems_by_field,
    redirect,
    render,
    require,
    service_of,
)

EDITABLE = ("draft", "returned")
REQUESTABLE_ROLES = ("quasi_identifier", "sensitive", "other")
PAGE_SIZE = 200


def levels_of(request: Request, name: str) -> list[tuple[str, ...]]:
    """Level names (level 0 first) of each generalization hierarchy of a variable."""
    return [tuple(levels) for levels in service_of(request).catalogue.hierarchy_levels(name)]


def deliverable_levels(request: Request, name: str) -> list[str]:
    """The coarser levels a reviewer may require for a variable (level 0 is the data as recorded)."""
    found: list[str] = []
    for levels in levels_of(request, name):
        found.extend(n for n in levels[1:] if n not in found)
    return found


def editable_case(request: Request, user: User, case_id: str) -> Case:
    """The applicant's case if it may be edited now (404 if not theirs, 409 if not editable)."""
    case = service_of(request).get(case_id, user.actor)
    if case.status not in EDITABLE:
        raise CommandRefused(
            f"case {case_id} is {case.status}; only a draft or a returned case can be edited"
        )
    return case


def build_applicant_router() -> APIRouter:
    router = APIRouter(prefix="/app", include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    def home(request: Request, user: PageUser) -> Response:
        if user.role != "applicant":
            from iplos.web._pages_public import HOME

            return redirect(HOME[user.role])
        cases = service_of(request).list(user.actor)
        return render(request, "applicant_home.html.j2", user=user, cases=cases)

    @router.post("/cases")
    def create(request: Request, user: PageUser, form: PostedForm) -> Response:
        require(user, "applicant")
        case = service_of(request).create_draft(user.actor)
        return redirect(f"/app/cases/{case.case_id}/edit")

    @router.get("/catalogue", response_class=HTMLResponse)
    def catalogue(
        request: Request, user: PageUser, q: str = "", register: str = "", case: str = ""
    ) -> Response:
        cat = catalog()
        registers = [r for r in cat.all_registers if r.kind != "keyholder"]
        error = ""
        variables: list[Variable] = []
        try:
            reg = register or None
            if q.strip():
                variables = [h.variable for h in cat.search(q, register=reg)]
            else:
                variables = list(cat.variables(register=reg))
        except IplosError as exc:
            error = exc.message
        variables = [v for v in variables if v.register != "keyholder"][:PAGE_SIZE]
        cart: Case | None = None
        if case:
            cart = service_of(request).get(case, user.actor)
        in_cart = {(v.register, v.name) for v in cart.content.variables} if cart else set()
        return render(
            request,
            "catalogue.html.j2",
            user=user,
            q=q,
            register=register,
            registers=registers,
            variables=variables,
            levels={v.name: levels_of(request, v.name) for v in variables},
            cart=cart if cart is not None and cart.status in EDITABLE else None,
            in_cart=in_cart,
            requestable=REQUESTABLE_ROLES,
            error=error,
        )

    @router.get("/catalogue/{register}/{name}", response_class=HTMLResponse)
    def variable(request: Request, user: PageUser, register: str, name: str, case: str = "") -> Response:
        try:
            var = catalog().variable(name, register=register)
        except IplosError as exc:
            raise HTTPException(404, exc.message) from None
        codes = var.codes
        if not codes and var.codelist:
            codes = catalog().codelist(var.codelist).codes
        return render(
            request,
            "variable.html.j2",
            user=user,
            var=var,
            codes=codes,
            levels=levels_of(request, var.name),
            case=case,
        )

    @router.post("/cases/{case_id}/cart")
    def add_to_cart(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        require(user, "applicant")
        case = editable_case(request, user, case_id)
        register, name = str(form.get("register", "")), str(form.get("name", ""))
        try:
            var = catalog().variable(name, register=register)
        except IplosError as exc:
            raise CommandRefused(exc.message, invalid=True) from None
        if var.role not in REQUESTABLE_ROLES:
            raise CommandRefused(f"a {var.role.replace('_', ' ')} cannot be requested", invalid=True)
        content = _forms.with_variable(case.content, var.register, var.name)
        service_of(request).edit_draft(case_id, user.actor, content, expected_version=case.version)
        back = _forms_back(str(form.get("back", "")), case_id)
        return redirect(back)

    @router.get("/cases/{case_id}/edit", response_class=HTMLResponse)
    def edit_page(request: Request, user: PageUser, case_id: str) -> Response:
        require(user, "applicant")
        case = editable_case(request, user, case_id)
        return _edit(request, user, case, {}, show_preview=request.query_params.get("preview") == "1")

    @router.post("/cases/{case_id}/edit", response_class=HTMLResponse)
    def edit(request: Request, user: PageUser, case_id: str, form: PostedForm) -> Response:
        require(user, "applicant")
        service = service_of(request)
        case = editable_case(request, user, case_id)
        action = str(form.get("action", "save"))
        content, problems = _forms.read_application(
            case.content, form, list(map(str, form.getlist("purposes")))
        )
        if content is None:
            return _edit(request, user, case, _posted(form), problems, status_code=422)
        if action.startswith("remove_variable:"):
            content = _forms.without_item(content, "variables", _index(action))
        elif action.startswith("remove_linkage:"):
            content = _forms.without_item(content, "linkages", _index(action))
        elif action == "add_linkage":
            content = _forms.with_linkage(content)
        elif action.startswith("remove_table:"):
            content = _forms.without_item(content, "tables", _index(action))
        elif action == "add_table":
            content = _tables_form.with_table(content)
        if content != case.content:
            case = service.edit_draft(case_id, user.actor, content, expected_version=case.version)
        if action == "preview":
            return redirect(f"/app/cases/{case_id}/edit?preview=1#risk-preview")
        if action != "submit":
            return redirect(f"/app/cases/{case_id}/edit#{_anchor(action)}")
        try:
            if case.status == "returned":
                service.resubmit(case_id, user.actor, str(form.get("response", "")).strip())
            else:
                service.submit(case_id, user.actor)
        except CommandRefused as exc:
            return _edit(
                request, user, case, {}, list(exc.problems) or [Problem(exc.message)], status_code=422
            )
        return redirect(f"/app/cases/{case_id}")

    return router


def _index(action: str) -> int:
    try:
        return int(action.split(":", 1)[1])
    except ValueError:
        raise HTTPException(400, f"bad action {action!r}") from None


def _anchor(action: str) -> str:
    if "linkage" in action:
        return "linkages"
    if "table" in action:
        return "tables"
    if "variable" in action:
        return "variables"
    return "main"


def _forms_back(back: str, case_id: str) -> str:
    from iplos.web._pages_public import safe_next

    return safe_next(back, f"/app/cases/{case_id}/edit")


def _posted(form: FormData) -> dict[str, Any]:
    """The raw posted values, to show again when the form could not be read."""
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["purposes"] = list(map(str, form.getlist("purposes")))
    for key in form:
        if key.endswith((".sex", ".husstand", ".groups")):
            values[key] = list(map(str, form.getlist(key)))
    return values


def _edit(
    request: Request,
    user: User,
    case: Case,
    posted: dict[str, Any],
    problems: list[Problem] | tuple[Problem, ...] = (),
    status_code: int = 200,
    show_preview: bool = False,
) -> Response:
    from iplos.web._pages_preview import risk_of, scale_of

    c = case.content
    p, lb = c.project, c.legal_basis

    def value(name: str, current: object) -> object:
        return posted.get(name, current)

    values = {
        "project.title": value("project.title", p.title),
        "project.summary": value("project.summary", p.summary),
        "project.institution": value("project.institution", p.institution),
        "project.leader": value("project.leader", p.leader),
        "project.members": value("project.members", ", ".join(p.members)),
        "project.start": value("project.start", p.start.isoformat() if p.start else ""),
        "project.end": value("project.end", p.end.isoformat() if p.end else ""),
        "project.funding": value("project.funding", p.funding),
        "legal_basis.research": posted.get("legal_basis.research") == "on" if posted else lb.research,
        "legal_basis.rek_reference": value("legal_basis.rek_reference", lb.rek_reference),
        "legal_basis.dpia": value("legal_basis.dpia", lb.dpia),
        "legal_basis.gdpr_article6": value("legal_basis.gdpr_article6", lb.gdpr_article6),
        "legal_basis.gdpr_article9": value("legal_basis.gdpr_article9", lb.gdpr_article9),
        "purposes": posted.get("purposes", list(c.purposes)),
        "aarganger": value("aarganger", _forms.years_text(c.aarganger)),
        "recipients": value("recipients", "\n".join(c.recipients)),
        "storage_security": value("storage_security", c.storage_security),
        "deletion_date": value("deletion_date", c.deletion_date.isoformat() if c.deletion_date else ""),
        "output": value("output", c.output),
    }
    cat = catalog()
    lang: Language = "nb" if _lang(request) == "nb" else "en"
    labels: dict[tuple[str, str], str] = {}
    for v in c.variables:
        try:
            labels[(v.register, v.name)] = cat.variable(v.name, register=v.register).label(
                "nb" if _lang(request) == "nb" else "en"
            )
        except IplosError:
            labels[(v.register, v.name)] = ""
    return render(
        request,
        "edit.html.j2",
        status_code=status_code,
        user=user,
        case=case,
        values=values,
        posted=posted,
        problems=problems_by_field(list(problems)),
        all_problems=list(problems),
        purposes=_forms.PURPOSES,
        linkable=_forms.LINKABLE,
        labels=labels,
        population_values=_population_form.builder_values(c.population, posted),
        population_options=population_options(request),
        tables=[
            (
                _tables_form.table_values(t, posted, i),
                _population_form.builder_values(t.universe, posted, f"tables[{i}].universe"),
            )
            for i, t in enumerate(c.tables)
        ],
        dimension_choices=_tables_form.dimension_choices(service_of(request).catalogue),
        statistics=_tables_form.STATISTICS,
        max_dimensions=_tables_form.MAX_DIMENSIONS,
        population_words=in_words(c.population, lang, service_of(request).catalogue)
        if c.population.has_criteria or c.population.description
        else "",
        last_return=case.returns[-1] if case.returns else (),
        preview=risk_of(request, case) if show_preview else None,
        scale=scale_of(request),
    )


def population_options(request: Request) -> dict[str, list[tuple[str, str]] | tuple[str, ...]]:
    """The builder's choices: sexes, households and SSB service groups (in the page's language)."""
    cat = service_of(request).catalogue
    nb = _lang(request) == "nb"

    def labelled(found: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
        return [(code, f"{names[0] if nb else names[1]}") for code, names in found.items()]

    return {
        "sex": labelled(cat.code_labels("kjonn", "iplos")),
        "husstand": labelled(cat.code_labels("husstand", "iplos")),
        "groups": labelled(cat.service_groups()),
        "conditions": _population_form.CONDITIONS,
    }


def _lang(request: Request) -> str:
    from iplos.web._render import lang_of

    return lang_of(request)


def not_found(exc: CaseNotFound) -> HTTPException:
    return HTTPException(404, exc.message)
