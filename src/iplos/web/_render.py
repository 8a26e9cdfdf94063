"""Rendering pages: the Jinja2 environment (autoescaped), the per-request context, login checks.

Every template gets `t(key, **values)` (the message in the page's language), the formatters of
`_i18n` bound to that language (`day`, `moment`, `number`, `money`, `percent`, `level`), the
logged-in `user` (or None), the `csrf` token for its forms and `lang`. Autoescaping is on for
every template, so a hostile project title or comment is shown as text, never run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.datastructures import FormData

from iplos.cases import CaseService, Role, User
from iplos.errors import Problem
from iplos.web import _i18n
from iplos.web._messages import MESSAGES
from iplos.web._session import LANG_COOKIE, Sessions, checked_form

ENV = Environment(
    loader=PackageLoader("iplos.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    """Raised by `page_user` when nobody is logged in; answered by a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class Forbidden(Exception):
    """Raised when the logged-in user's role may not open a page."""

    def __init__(self, role: Role) -> None:
        self.role = role


def lang_of(request: Request) -> _i18n.Lang:
    """The page language of this request."""
    return _i18n.negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.sessions
    return found


def service_of(request: Request) -> CaseService:
    found: CaseService = request.app.state.service
    return found


def page_user(request: Request) -> User:
    """The logged-in user (a FastAPI dependency); nobody logged in -> to the login page."""
    user = sessions(request).user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


def require(user: User, *roles: Role) -> User:
    """The user if their role is one of `roles`, else `Forbidden`."""
    if user.role not in roles:
        raise Forbidden(user.role)
    return user


def problems_by_field(problems: tuple[Problem, ...] | list[Problem]) -> dict[str, list[Problem]]:
    """Problems keyed by their field path (`variables[2].justification`), a list item's also under
    its list (`aarganger[1]` -> `aarganger`), so a template shows each at its field."""
    out: dict[str, list[Problem]] = {}
    for p in problems:
        column = p.column or ""
        keys = {column, re.sub(r"\[\d+\]$", "", column)}
        for key in keys:
            out.setdefault(key, []).append(p)
    return out


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    user: User | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template` in the request's language."""
    lang = lang_of(request)
    session = sessions(request)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "user": user,
        "csrf": session.csrf_token(request),
        "t": partial(_i18n.translate, lang),
        "day": partial(_i18n.day, lang),
        "moment": partial(_i18n.moment, lang),
        "number": partial(_i18n.number, lang),
        "money": partial(_i18n.money, lang),
        "percent": partial(_i18n.percent, lang),
        "level": partial(_i18n.level_name, lang),
        "here": quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&"),
        "problem_text": partial(problem_text, lang),
        "field_label": partial(field_label, lang),
        "field_anchor": field_anchor,
        **context,
    }
    html = ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    return session.finish(request, response)  # type: ignore[return-value]


def problem_text(lang: _i18n.Lang, problem: Problem) -> str:
    """A validation problem in the page language: known rules translated, else the service's text."""
    if lang == "nb" and problem.rule is not None:
        key = f"rule.{problem.rule}"
        if key in MESSAGES["nb"]:
            return _i18n.translate("nb", key)
    return problem.message


def field_label(lang: _i18n.Lang, column: str | None) -> str:
    """The form's label of a problem's field: 'variables[2].justification' -> 'Justification (3)'."""
    if not column:
        return ""
    bare = re.sub(r"\[\d+\]", "", column)
    bare = re.sub(r"^tables\.universe(?=\.|$)", "population", bare)
    index = re.search(r"\[(\d+)\]", column)
    last = bare.rsplit(".", 1)[-1]
    for key in (f"field.{bare}", f"field.{bare.replace('linkages.', 'linkage.')}", f"field.{last}"):
        if key in MESSAGES[lang]:
            label = MESSAGES[lang][key]
            return f"{label} ({int(index.group(1)) + 1})" if index and key != f"field.{bare}" else label
    return column


def field_anchor(column: str) -> str:
    """The id of the form field a problem's path points into (a list item's: its list's field)."""
    return "f-" + re.sub(r"\[\d+\]$", "", column)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs the page."""
    return RedirectResponse(url, status_code=303)


def as_mapping(value: object) -> Mapping[str, Any]:
    """A plan or summary as a mapping for templates (None -> empty)."""
    return value if isinstance(value, Mapping) else {}


PageUser = Annotated[User, Depends(page_user)]
"""A route parameter: the logged-in user (else a redirect to the login page)."""
PostedForm = Annotated[FormData, Depends(checked_form)]
"""A route parameter: the POSTed form, after the CSRF check."""
