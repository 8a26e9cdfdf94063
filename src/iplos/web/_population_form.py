"""The population builder: a structured `Population` as form fields, and posted fields read back.

Every field is named by the path the case validation gives its problems
(`population.age.min_age`, `population.services[0].codes`, `population.registers[1].codes`), so
each problem is shown at its field (a list item's problem, `...codes[1]`, at its list's field).
The form always offers one blank row more than the population has services and register
conditions; a row left blank is dropped. A number that is no number, or a date that is no date,
comes back as a located problem. The same builder reads a table's universe (`tables[0].universe`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from iplos.cases import to_json
from iplos.cases.population import Population
from iplos.errors import Problem

MAX_ROWS = 20
"""Rows read per list (services, register conditions); the form never offers more."""
CONDITIONS: tuple[str, ...] = ("npr.hoveddiagnose", "dar.underliggende_dodsarsak", "iplos.kode")
"""Register conditions the builder offers, as register.variable."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Fields = dict[str, Any]
GetList = Callable[[str], list[str]]


def _join(values: Any) -> str:
    return ", ".join(map(str, values or ()))


def population_fields(pop: Population | None, prefix: str = "population") -> Fields:
    """The builder's fields as a browser posts them (a checked box 'on', an unchecked one absent),
    with a blank row after the services and after the register conditions."""
    data: dict[str, Any] = to_json(pop) if pop is not None else {}
    age = data.get("age") or {}
    born = data.get("birth_years") or {}
    region = data.get("region") or {}
    out: Fields = {
        f"{prefix}.age.min_age": _text(age.get("min_age")),
        f"{prefix}.age.max_age": _text(age.get("max_age")),
        f"{prefix}.age.at": _text(age.get("at")),
        f"{prefix}.birth_years.first": _text(born.get("first")),
        f"{prefix}.birth_years.last": _text(born.get("last")),
        f"{prefix}.sex": [str(s) for s in data.get("sex", ())],
        f"{prefix}.husstand": [str(h) for h in data.get("husstand", ())],
        f"{prefix}.region.level": region.get("level", ""),
        f"{prefix}.region.codes": _join(region.get("codes")),
        f"{prefix}.region.year": _text(region.get("year")),
        f"{prefix}.description": data.get("description", ""),
    }
    services = list(data.get("services", ()))
    for i, s in enumerate([*services, {}]):
        out[f"{prefix}.services[{i}].codes"] = _join(s.get("codes"))
        out[f"{prefix}.services[{i}].groups"] = [str(g) for g in s.get("groups", ())]
        out[f"{prefix}.services[{i}].min_hours"] = _text(s.get("min_hours"))
    registers = list(data.get("registers", ()))
    for i, c in enumerate([*registers, {}]):
        out[f"{prefix}.registers[{i}].variable"] = f"{c['register']}.{c['variable']}" if c else ""
        out[f"{prefix}.registers[{i}].codes"] = _join(c.get("codes"))
        out[f"{prefix}.registers[{i}].within"] = c.get("within", "period")
    for name in ("everyone", "home_dwelling", "functional_assessment"):
        if data.get(name):
            out[f"{prefix}.{name}"] = "on"
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def getlist_of(form: Mapping[str, Any]) -> GetList:
    """A multi-valued field's values, from a starlette FormData or a plain dict of lists/strings."""
    getlist = getattr(form, "getlist", None)

    def values(name: str) -> list[str]:
        if getlist is not None:
            return [str(v) for v in getlist(name)]
        found = form.get(name)
        if found is None:
            return []
        return [str(v) for v in found] if isinstance(found, (list, tuple)) else [str(found)]

    return values


def read_population(
    form: Mapping[str, Any], problems: list[Problem], prefix: str = "population"
) -> dict[str, Any]:
    """The population's JSON form from the builder's fields; unreadable input goes to `problems`."""
    many = getlist_of(form)

    def text(name: str) -> str:
        return str(form.get(f"{prefix}.{name}", "")).strip()

    def number(name: str, kind: type = int) -> Any:
        raw = text(name)
        if not raw:
            return None
        try:
            value = kind(raw.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
        except ValueError:
            problems.append(Problem("not a number", column=f"{prefix}.{name}", value=raw, rule="number"))
            return None
        return value

    def codes(name: str, kind: type = str) -> list[Any]:
        out: list[Any] = []
        for j, part in enumerate(p for p in re.split(r"[,;\s]+", text(name)) if p):
            if kind is int:
                if not part.isdigit():
                    problems.append(
                        Problem("not a number", column=f"{prefix}.{name}[{j}]", value=part, rule="number")
                    )
                    continue
                out.append(int(part))
            else:
                out.append(part)
        return out

    def flag(name: str) -> bool:
        return form.get(f"{prefix}.{name}") in ("on", "true", "1", True)

    data: dict[str, Any] = {
        "everyone": flag("everyone"),
        "home_dwelling": flag("home_dwelling"),
        "functional_assessment": flag("functional_assessment"),
        "description": text("description"),
        "sex": [int(v) for v in many(f"{prefix}.sex") if v.isdigit()],
        "husstand": [int(v) for v in many(f"{prefix}.husstand") if v.isdigit()],
    }
    min_age, max_age, at = number("age.min_age"), number("age.max_age"), text("age.at")
    if at and not _DATE.match(at):
        problems.append(
            Problem("write the date as YYYY-MM-DD", column=f"{prefix}.age.at", value=at, rule="date")
        )
        at = ""
    if min_age is not None or max_age is not None or at:
        data["age"] = {"min_age": min_age, "max_age": max_age, "at": at or None}
    first, last = number("birth_years.first"), number("birth_years.last")
    if first is not None or last is not None:
        data["birth_years"] = {"first": first, "last": last}
    services = []
    for i in range(MAX_ROWS):
        row = f"services[{i}]"
        if f"{prefix}.{row}.codes" not in form and not many(f"{prefix}.{row}.groups"):
            continue
        s_codes, groups = codes(f"{row}.codes", int), many(f"{prefix}.{row}.groups")
        hours = number(f"{row}.min_hours", float)
        if s_codes or groups or hours is not None:
            services.append({"codes": s_codes, "groups": groups, "min_hours": hours})
    data["services"] = services
    level, region_codes, year = text("region.level"), codes("region.codes"), number("region.year")
    if level or region_codes or year is not None:
        if level not in ("kommune", "fylke"):
            problems.append(
                Problem("choose kommune or fylke", column=f"{prefix}.region.level", rule="required")
            )
        if year is None:
            problems.append(
                Problem("give the classification year", column=f"{prefix}.region.year", rule="required")
            )
        data["region"] = {"level": level, "codes": region_codes, "year": year}
    registers = []
    for i in range(MAX_ROWS):
        row = f"registers[{i}]"
        if f"{prefix}.{row}.variable" not in form:
            continue
        which, icd = text(f"{row}.variable"), codes(f"{row}.codes")
        if not which and not icd:
            continue
        if "." not in which:
            problems.append(
                Problem("choose the register condition", column=f"{prefix}.{row}.variable", rule="required")
            )
            continue
        register, variable = which.split(".", 1)
        within = text(f"{row}.within") or "period"
        registers.append(
            {
                "register": register,
                "variable": variable,
                "codes": icd,
                "within": within if within in ("period", "aargang", "after_discharge") else "period",
            }
        )
    data["registers"] = registers
    return data


def has_any(form: Mapping[str, Any], prefix: str) -> bool:
    """Whether the form carries the builder for `prefix` (a table without a universe carries none)."""
    return any(str(k).startswith(prefix + ".") for k in form)


_LISTS = ("sex", "husstand", "groups")


def builder_values(pop: Population | None, posted: Mapping[str, Any], prefix: str = "population") -> Fields:
    """The builder's values: the saved population's, or what was posted when it could not be read."""
    if not has_any(posted, prefix):
        posted = population_fields(pop, prefix)
    out: Fields = {}
    rows = {"services": 1, "registers": 1}
    for key, value in posted.items():
        if not str(key).startswith(prefix + "."):
            continue
        last = str(key).rsplit(".", 1)[-1]
        out[key] = value if last not in _LISTS or isinstance(value, list) else [value]
        found = re.match(re.escape(prefix) + r"\.(services|registers)\[(\d+)\]", str(key))
        if found:
            rows[found.group(1)] = max(rows[found.group(1)], int(found.group(2)) + 1)
    for name in ("everyone", "home_dwelling", "functional_assessment"):
        out[f"{prefix}.{name}"] = out.get(f"{prefix}.{name}") in ("on", True)
    out[f"{prefix}.rows"] = rows
    return out


def has_any_criterion_field(form: Mapping[str, Any], prefix: str) -> bool:
    """Whether the form carries builder fields under `prefix` (not only the 'own universe' box)."""
    return any(str(k).startswith(prefix + ".") and str(k) != prefix + ".own" for k in form)
