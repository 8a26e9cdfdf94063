"""Commands from posted forms: each form field is read into the command's JSON form, then
`from_json` builds the typed command (so the case service validates it like any other).

Pure of the web framework: takes a mapping of field -> values (`fields_of` makes one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from iplos.cases import COMMAND_TYPES, Command, RateCard, from_json
from iplos.errors import IplosError, Problem

Fields = Mapping[str, Sequence[str]]
"""A posted form as field -> its values (a repeated field has several)."""


def fields_of(items: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """The text fields of a posted form (uploads are left out)."""
    out: dict[str, list[str]] = {}
    for key, value in items:
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _s(form: Fields, key: str) -> str:
    values = form.get(key, ())
    return values[0].strip() if values else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(form: Fields, key: str, problems: list[Problem], integer: bool = False) -> float | int | None:
    text = _s(form, key).replace(",", ".").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        problems.append(Problem("not a number", column=key, value=_s(form, key), rule="number"))
        return None


def plan_from_form(form: Fields, problems: list[Problem]) -> dict[str, Any]:
    """An anonymisation plan (`ANONYMISATION_PLAN_SCHEMA`) from `level.<variable>` selects and the bounds."""
    levels: dict[str, Any] = {}
    for key in form.get("qi", ()):
        chosen = _s(form, f"level.{key}")
        if chosen:
            levels[str(key)] = int(chosen) if chosen.isdigit() else chosen
    plan: dict[str, Any] = {
        "levels": levels,
        "k": _number(form, "k", problems, integer=True),
        "l": _number(form, "l", problems, integer=True),
        "t": _number(form, "t", problems),
        "sensitive": [s for s in re.split(r"[,\s]+", _s(form, "sensitive")) if s],
        "max_suppression": _number(form, "max_suppression", problems),
    }
    notes = _s(form, "notes")
    if notes:
        plan["notes"] = notes
    return plan


def _offer(form: Fields, problems: list[Problem], rate_card: RateCard) -> dict[str, Any]:
    lines = []
    for group in rate_card.rates:
        hours = _number(form, f"hours.{group}", problems)
        if hours:
            lines.append({"staff_group": group, "hours": hours, "description": _s(form, f"desc.{group}")})
    return {"lines": lines, "expected_delivery": _s(form, "expected_delivery") or None}


def _json_object(form: Fields, key: str, problems: list[Problem]) -> dict[str, Any]:
    text = _s(form, key)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(Problem(f"not valid JSON: {exc.msg}", column=key, rule="json"))
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("must be a JSON object", column=key, rule="json"))
        return {}
    return value


Builder = Callable[[Fields, list[Problem], RateCard], dict[str, Any]]

BUILDERS: Mapping[str, Builder] = {
    "submit": lambda f, p, r: {},
    "start_review": lambda f, p, r: {},
    "accept_offer": lambda f, p, r: {},
    "issue_invoice": lambda f, p, r: {},
    "withdraw": lambda f, p, r: {"reason": _s(f, "reason")},
    "close": lambda f, p, r: {"reason": _s(f, "reason")},
    "decline_offer": lambda f, p, r: {"reason": _s(f, "reason")},
    "resubmit": lambda f, p, r: {"response": _s(f, "response")},
    "return_to_applicant": lambda f, p, r: {"comments": return_comments(f)},
    "decide_register": lambda f, p, r: {
        "register": _s(f, "register"),
        "outcome": _s(f, "outcome"),
        "reference": _s(f, "reference"),
        "reason": _s(f, "reason"),
    },
    "decide_case": lambda f, p, r: {
        "outcome": _s(f, "outcome"),
        "reasons": _lines(_s(f, "reasons")),
        "conditions": _lines(_s(f, "conditions")),
    },
    "lodge_appeal": lambda f, p, r: {"grounds": _s(f, "grounds")},
    "decide_appeal": lambda f, p, r: {"outcome": _s(f, "outcome"), "reason": _s(f, "reason")},
    "make_offer": _offer,
    "record_linkage_done": lambda f, p, r: {"summary": _json_object(f, "summary", p)},
    "propose_anonymisation": lambda f, p, r: {"plan": plan_from_form(f, p), "comment": _s(f, "comment")},
    "counter_anonymisation": lambda f, p, r: {"plan": plan_from_form(f, p), "comment": _s(f, "comment")},
    "agree_anonymisation": lambda f, p, r: {"round": _number(f, "round", p, integer=True)},
    "record_delivery": lambda f, p, r: {
        "delivery_id": _s(f, "delivery_id"),
        "manifest_sha256": _s(f, "manifest_sha256").lower(),
    },
    "record_hours": lambda f, p, r: {
        "staff_group": _s(f, "staff_group"),
        "hours": _number(f, "hours", p),
        "work_date": _s(f, "work_date") or None,
        "note": _s(f, "note"),
    },
    "confirm_deletion": lambda f, p, r: {
        "deleted_on": _s(f, "deleted_on") or None,
        "statement": _s(f, "statement"),
    },
}
"""Command name -> how its fields are read from a form (decide_variable has its own batch page)."""

RETURN_SECTIONS: tuple[str, ...] = (
    "project",
    "legal_basis",
    "purposes",
    "aarganger",
    "population",
    "variables",
    "linkages",
    "security",
    "general",
)


def return_comments(form: Fields) -> list[str]:
    """The reviewer's comments per field (`comment.<section>`), each prefixed with its field."""
    comments = []
    for section in RETURN_SECTIONS:
        text = _s(form, f"comment.{section}")
        if text:
            comments.append(text if section == "general" else f"{section}: {text}")
    return comments


def command_from_form(name: str, form: Fields, rate_card: RateCard) -> tuple[Command | None, list[Problem]]:
    """The command `name` from a posted form, or None with the problems found reading it."""
    if name not in BUILDERS:
        raise IplosError(f"no form for command {name!r}")
    problems: list[Problem] = []
    data = BUILDERS[name](form, problems, rate_card)
    if problems:
        return None, problems
    try:
        command: Command = from_json(COMMAND_TYPES[name], data, name)
    except IplosError as exc:
        return None, [Problem(exc.message, rule="format")]
    except (TypeError, ValueError) as exc:
        return None, [Problem(str(exc), rule="format")]
    return command, []
