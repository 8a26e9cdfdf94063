"""Read and validate the catalogue's package data (`data/catalog.json`).

Every problem is collected with its JSON path (`tables[2].columns[3].role`) before one
`IplosError` is raised, so a broken data file reports all its faults at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, cast

from iplos.catalog._model import (
    DTYPES,
    REGISTER_KINDS,
    ROLES,
    Code,
    CodeGroup,
    CodeList,
    DType,
    Register,
    RegisterKind,
    Role,
    Variable,
)
from iplos.errors import IplosError, Problem

DATA_FILE = "catalog.json"


class _Reader:
    """Typed access to JSON objects that records problems instead of failing on the first one."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str, value: object = None) -> None:
        self.problems.append(
            Problem(message, file=self.source, column=path, value=None if value is None else str(value))
        )

    def obj(self, data: object, path: str) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            self.problem(path, "must be an object")
            return {}
        return cast(Mapping[str, Any], data)

    def items(self, data: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.problem(f"{path}.{key}", "must be a list")
            return []
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(f"{path}.{key}", "must be a non-empty string", value)
            return ""
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, path: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{path}.{key}", "must be a non-empty string when given", value)
            return None
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> int | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(f"{path}.{key}", "must be an integer", value)
            return None
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.problem(f"{path}.{key}", "must be a number", value)
            return None
        return float(value)

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", "must be true or false", value)
            return False
        return value

    def names(self, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        values = self.items(data, key, path)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v:
                self.problem(f"{path}.{key}[{i}]", "must be a non-empty string", v)
        return tuple(v for v in values if isinstance(v, str) and v)


def _groups(r: _Reader, data: Mapping[str, Any], path: str) -> tuple[CodeGroup, ...]:
    out = []
    for i, raw in enumerate(r.items(data, "groups", path)):
        p = f"{path}.groups[{i}]"
        g = r.obj(raw, p)
        out.append(CodeGroup(r.text(g, "code", p), r.text(g, "label_nb", p), r.text(g, "label_en", p)))
    return tuple(out)


def _codelist(r: _Reader, name: str, data: Mapping[str, Any], path: str) -> CodeList:
    groups = _groups(r, data, path)
    group_names = {g.code for g in groups}
    codes: list[Code] = []
    seen: set[str] = set()
    for i, raw in enumerate(r.items(data, "codes", path)):
        p = f"{path}.codes[{i}]"
        c = r.obj(raw, p)
        code = r.text(c, "code", p)
        if code in seen:
            r.problem(f"{p}.code", "code appears twice in the list", code)
        seen.add(code)
        group = r.optional_text(c, "group", p)
        if group is not None and group not in group_names:
            r.problem(f"{p}.group", f"is not a group of code list {name!r}", group)
        if groups and group is None:
            r.problem(f"{p}.group", f"code list {name!r} has groups, so every code needs one", code)
        first, last = (
            r.integer(c, "first_year", p, required=False),
            r.integer(c, "last_year", p, required=False),
        )
        if first is not None and last is not None and first > last:
            r.problem(p, "first_year is after last_year", f"{first}-{last}")
        codes.append(
            Code(
                code=code,
                label_nb=r.text(c, "label_nb", p),
                label_en=r.text(c, "label_en", p),
                group=group,
                hour_based=r.flag(c, "hour_based", p),
                institution_stay=r.flag(c, "institution_stay", p),
                first_year=first,
                last_year=last,
                reconstructed=r.flag(c, "reconstructed", p),
                synonyms=r.names(c, "synonyms", p),
            )
        )
    if not codes:
        r.problem(f"{path}.codes", "a code list needs at least one code")
    return CodeList(
        name=name,
        label_nb=r.text(data, "label_nb", path),
        label_en=r.text(data, "label_en", path),
        source=r.text(data, "source", path),
        codes=tuple(codes),
        groups=groups,
        reconstructed=r.flag(data, "reconstructed", path),
    )


def _register(r: _Reader, data: Mapping[str, Any], path: str) -> Register:
    first = r.integer(data, "first_year", path) or 0
    last = r.integer(data, "last_year", path) or 0
    if first > last:
        r.problem(path, "first_year is after last_year", f"{first}-{last}")
    kind = r.text(data, "kind", path)
    if kind not in REGISTER_KINDS:
        r.problem(f"{path}.kind", f"must be one of {', '.join(REGISTER_KINDS)}", kind)
    return Register(
        name=r.text(data, "name", path),
        label_nb=r.text(data, "label_nb", path),
        label_en=r.text(data, "label_en", path),
        first_year=first,
        last_year=last,
        tables=r.names(data, "tables", path),
        pseudonym_key_name=r.text(data, "pseudonym_key_name", path, required=kind != "keyholder"),
        description=r.text(data, "description", path),
        kind=cast(RegisterKind, kind),
    )


def _variable(
    r: _Reader,
    data: Mapping[str, Any],
    path: str,
    register: Register,
    table: str,
    codelists: Mapping[str, CodeList],
) -> Variable:
    name = r.text(data, "name", path)
    dtype = r.text(data, "dtype", path)
    if dtype not in DTYPES:
        r.problem(f"{path}.dtype", f"must be one of {', '.join(DTYPES)}", dtype)
    role = r.text(data, "role", path)
    if role not in ROLES:
        r.problem(f"{path}.role", f"must be one of {', '.join(ROLES)}", role)
    codelist_name = r.optional_text(data, "codelist", path)
    codelist = None
    if codelist_name is not None:
        codelist = codelists.get(codelist_name)
        if codelist is None:
            r.problem(f"{path}.codelist", "names no code list of the catalogue", codelist_name)
    first = r.integer(data, "first_year", path, required=False) or register.first_year
    last = r.integer(data, "last_year", path, required=False) or register.last_year
    first, last = max(first, register.first_year), min(last, register.last_year)
    if first > last:
        r.problem(path, f"exists in no årgang of register {register.name!r}", f"{first}-{last}")
    lo, hi = r.number(data, "min_value", path), r.number(data, "max_value", path)
    if (lo is not None or hi is not None) and dtype not in ("int8", "int16", "float64"):
        r.problem(path, "min_value/max_value apply to numeric variables only", dtype)
    if lo is not None and hi is not None and lo > hi:
        r.problem(path, "min_value is above max_value", f"{lo}-{hi}")
    if codelist is not None and dtype in ("int8", "int16"):
        bad = [c.code for c in codelist.codes if not c.code.lstrip("-").isdigit()]
        if bad:
            r.problem(f"{path}.codelist", f"integer variable with non-integer codes {bad[:5]}", codelist_name)
    return Variable(
        name=name,
        register=register.name,
        table=table,
        label_nb=r.text(data, "label_nb", path),
        label_en=r.text(data, "label_en", path),
        dtype=cast(DType, dtype),
        role=cast(Role, role),
        aargang_from=first,
        aargang_to=last,
        nullable=r.flag(data, "nullable", path),
        codes=codelist.codes if codelist else (),
        groups=codelist.groups if codelist else (),
        codelist=codelist_name,
        code_system=r.optional_text(data, "code_system", path),
        min_value=lo,
        max_value=hi,
        unit=r.optional_text(data, "unit", path),
        description=r.text(data, "description", path, required=False),
        hierarchies=r.names(data, "hierarchies", path),
        reconstructed=r.flag(data, "reconstructed", path) or bool(codelist and codelist.reconstructed),
    )


def parse_catalog(
    document: object, source: str = DATA_FILE
) -> tuple[tuple[Register, ...], dict[str, CodeList], tuple[Variable, ...]]:
    """Validate a catalogue document and build its registers, code lists and variables."""
    r = _Reader(source)
    root = r.obj(document, "$")
    if root.get("format") != 1:
        r.problem("format", "unsupported catalogue format (expected 1)", root.get("format"))
    registers = [
        _register(r, r.obj(raw, f"registers[{i}]"), f"registers[{i}]")
        for i, raw in enumerate(r.items(root, "registers", "$"))
    ]
    by_name: dict[str, Register] = {}
    for i, reg in enumerate(registers):
        if reg.name in by_name:
            r.problem(f"registers[{i}].name", "register appears twice", reg.name)
        by_name[reg.name] = reg
    raw_lists = r.obj(root.get("codelists", {}), "codelists")
    codelists = {
        name: _codelist(r, name, r.obj(raw, f"codelists.{name}"), f"codelists.{name}")
        for name, raw in raw_lists.items()
    }
    variables: list[Variable] = []
    seen: set[tuple[str, str, str]] = set()
    declared: dict[str, set[str]] = {name: set() for name in by_name}
    for t, raw in enumerate(r.items(root, "tables", "$")):
        p = f"tables[{t}]"
        tdata = r.obj(raw, p)
        table = r.text(tdata, "table", p)
        for reg_name in r.names(tdata, "registers", p):
            if reg_name not in by_name:
                r.problem(f"{p}.registers", "names no register of the catalogue", reg_name)
                continue
            reg = by_name[reg_name]
            if table not in reg.tables:
                r.problem(f"{p}.table", f"is not listed among the tables of register {reg_name!r}", table)
            declared[reg_name].add(table)
            for i, col in enumerate(r.items(tdata, "columns", p)):
                cp = f"{p}.columns[{i}]"
                var = _variable(r, r.obj(col, cp), cp, reg, table, codelists)
                key = (var.register, var.table, var.name)
                if key in seen:
                    r.problem(f"{cp}.name", f"column appears twice in {reg_name}.{table}", var.name)
                seen.add(key)
                variables.append(var)
    for reg in registers:
        for table in set(reg.tables) - declared.get(reg.name, set()):
            r.problem(f"registers.{reg.name}.tables", "table has no column definitions", table)
    if r.problems:
        # A table shared by iplos and kpr is read once per register: report each fault once.
        raise IplosError(f"the catalogue data {source} is invalid", tuple(dict.fromkeys(r.problems)))
    return tuple(registers), codelists, tuple(variables)


def load_document() -> object:
    """The packaged catalogue JSON, parsed."""
    text = resources.files("iplos.catalog").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IplosError(
            f"the catalogue data {DATA_FILE} is not valid JSON",
            [Problem(exc.msg, file=DATA_FILE, row=exc.lineno)],
        ) from None
