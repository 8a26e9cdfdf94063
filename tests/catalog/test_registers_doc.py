"""The catalogue agrees with docs/registers.md: every register, table and column there, same names,
types and order (docs/registers.md is the contract every package shares)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iplos.catalog import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "registers.md"
DTYPES = {"string": "string", "int8": "int8", "int16": "int16", "float64": "float64", "date32": "date"}

Column = tuple[str, str | None, bool | None]  # name, dtype (None: not stated), nullable (None: not stated)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    rest = text[start + len(heading) :]
    level = len(heading) - len(heading.lstrip("#"))
    match = re.search(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)
    return rest[: match.start()] if match else rest


def _table_rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # drop the header


def _columns_from_table(section: str) -> list[Column]:
    out: list[Column] = []
    for name, typ, *_ in _table_rows(section):
        parts = [p.strip() for p in typ.split(",")]
        out.append((name, DTYPES[parts[0]], "null" in parts[1:]))
    return out


def _columns_from_prose(prose: str) -> list[Column]:
    """`name` (type[, null] ...) declarations; a backticked comma list is a run of int8 items."""
    out: list[Column] = []
    for match in re.finditer(r"`([^`]+)`(?: \(([a-z0-9]+)(, null)?)?", prose, flags=re.DOTALL):
        span, typ, null = match.groups()
        if "," in span:
            out.extend((n.strip(), "int8", False) for n in span.split(","))
        elif re.fullmatch(r"[a-z_]+", span) and "." not in span:
            out.append((span, DTYPES.get(typ) if typ else None, True if null else None))
    return out


def documented() -> dict[tuple[str, str], list[Column]]:
    text = DOC.read_text(encoding="utf-8")
    tables: dict[tuple[str, str], list[Column]] = {}
    shared = _section(text, "## Tables of `iplos` and `kpr`")
    for table in ("person", "tjeneste"):
        cols = _columns_from_table(_section(shared, f"### `{table}`"))
        for reg in ("iplos", "kpr"):
            tables[reg, table] = cols
    for table in ("funksjon", "diagnose"):
        section = _section(shared, f"### `{table}`")
        cols = _columns_from_prose(section.split("\n", 1)[1])  # skip the rest of the heading line
        for reg in ("iplos", "kpr"):
            tables[reg, table] = cols
    kpr_only = _section(text, "## Table of `kpr` only")
    tables["kpr", "kontakt"] = _columns_from_table(_section(kpr_only, "### `kontakt`"))
    bullets = re.sub(r"\n  +", " ", _section(text, "## Linkable registers"))  # join continuation lines
    for line in bullets.splitlines():
        match = re.match(r"- `(\w+)\.(\w+)`: (.*)", line)
        if match:
            tables[match[1], match[2]] = _columns_from_prose(match[3])
    identity = _section(text, "## Identity (key holder only)")
    tables["keyholder", "identities"] = [c for c in _columns_from_prose(identity) if c[0] == "fnr"]
    return tables


def documented_registers() -> dict[str, tuple[int, int]]:
    rows = _table_rows(_section(catalog_doc(), "## Registers"))
    out = {}
    for name, _label, years, *_ in rows:
        first, last = years.split("-")
        out[name.strip("`")] = (int(first), int(last))
    return out


def catalog_doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_parser_finds_every_documented_table() -> None:
    tables = documented()
    assert len(tables) == 13
    assert tables["iplos", "funksjon"][0] == ("pseudonym", None, None)
    assert len(tables["iplos", "funksjon"]) == 2 + 17
    assert ("sluttdato", "date", True) in tables["kpr", "tjeneste"]


def test_registers_and_years_agree() -> None:
    cat = catalog()
    assert {r.name: (r.first_year, r.last_year) for r in cat.registers} == documented_registers()


@pytest.mark.parametrize(("register", "table"), sorted(documented()))
def test_every_documented_column_is_in_the_catalogue(register: str, table: str) -> None:
    cat = catalog()
    doc_cols = documented()[register, table]
    assert cat.columns(register, table) == tuple(name for name, _, _ in doc_cols)
    for name, dtype, nullable in doc_cols:
        var = cat.variable(name, register=register, table=table)
        if dtype is not None:
            assert var.dtype == dtype, var.qualified_name
        if nullable is not None:
            assert var.nullable == nullable, var.qualified_name


def test_catalogue_holds_no_undocumented_table() -> None:
    cat = catalog()
    in_catalogue = {(r.name, t) for r in cat.all_registers for t in r.tables}
    assert in_catalogue == set(documented())


def test_every_table_of_a_data_register_has_a_pseudonym() -> None:
    cat = catalog()
    for reg in cat.registers:
        for table in reg.tables:
            var = cat.variable("pseudonym", register=reg.name, table=table)
            assert var.role == "linkage_key"
            assert cat.columns(reg.name, table)[0] == "pseudonym"
