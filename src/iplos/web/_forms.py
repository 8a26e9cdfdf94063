"""The application form: an `Application` shown as named fields, and a posted form read back.

Field names are the dotted paths the case validation uses in its problems (`project.title`,
`variables[2].justification`, `linkages[0].approval_reference`), so each problem is shown at its
field. Reading goes through the application's JSON form (`to_json` / `from_json`), so a field the
form does not show (one added to the model later) is kept as it was. Input that cannot be read
(a date that is no date, a year that is no number) comes back as located problems, nothing saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from iplos.cases import Application, VariableRequest, from_json, to_json
from iplos.errors import IplosError, Problem
from iplos.web import _population_form, _tables_form

PURPOSES: tuple[str, ...] = (
    "overvaking",
    "kvalitetssikring",
    "planlegging",
    "utvikling",
    "styring",
    "forskning",
)
LINKABLE: tuple[str, ...] = ("dar", "npr", "ssb")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def years_text(years: tuple[int, ...] | list[int]) -> str:
    """Årganger as the applicant types them: '2012-2016' for a run, else '2012, 2014'."""
    ordered = sorted(years)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))


def parse_years(text: str, problems: list[Problem]) -> list[int]:
    """'2012-2016, 2018' -> [2012, ..., 2016, 2018]; anything else is a problem at `aarganger`."""
    years: list[int] = []
    joined = re.sub(r"\s*[-–]\s*", "-", text.strip())
    for part in filter(None, (p.strip() for p in re.split(r"[,;\s]+", joined))):
        m = re.fullmatch(r"(\d{4})\s*[-–]\s*(\d{4})|(\d{4})", part)
        if m is None:
            problems.append(
                Problem(
                    "write årganger as years, e.g. 2012-2016 or 2012, 2014",
                    column="aarganger",
                    value=part,
                    rule="years",
                )
            )
            continue
        if m.group(3):
            years.append(int(m.group(3)))
        else:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo or hi - lo > 50:
                problems.append(
                    Problem(
                        "the range of årganger runs backwards or is too long",
                        column="aarganger",
                        value=part,
                        rule="years",
                    )
                )
                continue
            years.extend(range(lo, hi + 1))
    return years


def _date(form: Mapping[str, Any], name: str, problems: list[Problem]) -> str | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    if not _DATE.match(text):
        problems.append(Problem("write the date as YYYY-MM-DD", column=name, value=text, rule="date"))
        return None
    return text


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_application(
    current: Application, form: Mapping[str, Any], purposes: list[str]
) -> tuple[Application | None, list[Problem]]:
    """The application after the posted form, or None with the problems that stop reading it.

    `purposes` are the checked § 1-3 purposes (a multi-valued field, passed by the caller).
    """
    problems: list[Problem] = []
    data: dict[str, Any] = to_json(current)
    project = data["project"]
    for key in ("title", "summary", "institution", "leader", "funding"):
        project[key] = str(form.get(f"project.{key}", "")).strip()
    project["members"] = [m for m in re.split(r"[,\s]+", str(form.get("project.members", ""))) if m]
    project["start"] = _date(form, "project.start", problems)
    project["end"] = _date(form, "project.end", problems)
    legal = data["legal_basis"]
    legal["research"] = form.get("legal_basis.research") == "on"
    for key in ("rek_reference", "dpia", "gdpr_article6", "gdpr_article9"):
        legal[key] = str(form.get(f"legal_basis.{key}", "")).strip()
    data["purposes"] = [p for p in purposes if p in PURPOSES]
    data["aarganger"] = parse_years(str(form.get("aarganger", "")), problems)
    if _population_form.has_any(form, "population"):
        data["population"] = _population_form.read_population(form, problems)
    for i, var in enumerate(data["variables"]):
        var["justification"] = str(form.get(f"variables[{i}].justification", var["justification"])).strip()
        if f"variables[{i}].purpose" in form:
            chosen = str(form.get(f"variables[{i}].purpose", ""))
            var["purpose"] = chosen if chosen in PURPOSES else None
    data["tables"] = _tables_form.read_tables(data["tables"], form, problems, parse_years)
    for i, link in enumerate(data["linkages"]):
        for key in ("register", "approval_reference", "purpose"):
            link[key] = str(form.get(f"linkages[{i}].{key}", link[key])).strip()
    output = str(form.get("output", data["output"]))
    data["output"] = output if output in ("microdata", "tables") else data["output"]
    data["recipients"] = _lines(str(form.get("recipients", "")))
    data["storage_security"] = str(form.get("storage_security", "")).strip()
    data["deletion_date"] = _date(form, "deletion_date", problems)
    if problems:
        return None, problems
    try:
        return from_json(Application, data), []
    except IplosError as exc:
        return None, [Problem(exc.message, column=_column_of(exc.message), rule="format")]


def _column_of(message: str) -> str | None:
    head = message.split(":", 1)[0].strip()
    return head if re.fullmatch(r"[a-z_.\[\]0-9]+", head) else None


def with_variable(content: Application, register: str, name: str) -> Application:
    """The application with one more requested variable (no change if it is in the cart already)."""
    data: dict[str, Any] = to_json(content)
    if any(v["name"] == name and v["register"] == register for v in data["variables"]):
        return content
    blank: dict[str, Any] = to_json(from_json(VariableRequest, {"name": name, "register": register}))
    data["variables"].append(blank)
    result: Application = from_json(Application, data)
    return result


def without_item(content: Application, key: str, index: int) -> Application:
    """The application without item `index` of the list `key` ('variables' or 'linkages')."""
    data: dict[str, Any] = to_json(content)
    if 0 <= index < len(data[key]):
        del data[key][index]
    result: Application = from_json(Application, data)
    return result


def with_linkage(content: Application) -> Application:
    """The application with one more (blank) linkage request, to a register not yet asked for."""
    data: dict[str, Any] = to_json(content)
    taken = {link["register"] for link in data["linkages"]}
    register = next((r for r in LINKABLE if r not in taken), LINKABLE[0])
    data["linkages"].append({"register": register, "approval_reference": "", "purpose": ""})
    result: Application = from_json(Application, data)
    return result
