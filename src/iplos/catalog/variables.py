"""The register catalogue: which registers exist, their tables, variables, code lists and årganger.

`catalog()` returns the one shared `Catalog`, built from the package data `data/catalog.json`
(validated on load). It is the machine-readable form of docs/registers.md.

>>> cat = catalog()
>>> cat.variable("kjonn").role
'quasi_identifier'
>>> [r.name for r in cat.registers_for_years(2010, 2020)]
['iplos', 'kpr']
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

from iplos.catalog._load import load_document, parse_catalog
from iplos.catalog._model import ROLES, CodeList, Language, Register, Role, Variable
from iplos.catalog._search import IndexEntry, SearchHit, build_index, normalise, search
from iplos.errors import IplosError


class Catalog:
    """Registers, tables and variables of the catalogue, with look-ups that fail clearly."""

    def __init__(
        self, registers: Iterable[Register], codelists: dict[str, CodeList], variables: Iterable[Variable]
    ) -> None:
        self._registers = {r.name: r for r in registers}
        self._codelists = dict(codelists)
        self._variables = tuple(variables)
        self._by_name: dict[str, list[Variable]] = {}
        for v in self._variables:
            self._by_name.setdefault(v.name, []).append(v)
        self._order = {name: i for i, name in enumerate(self._registers)}
        self._index: tuple[IndexEntry, ...] | None = None  # search index, built on first search

    # registers --------------------------------------------------------------------------------------
    @property
    def registers(self) -> tuple[Register, ...]:
        """The data registers an applicant can request (not the key holder's identity list)."""
        return tuple(r for r in self._registers.values() if r.kind != "keyholder")

    @property
    def linkable_registers(self) -> tuple[Register, ...]:
        """The registers an applicant may ask to link with IPLOS (dar, npr, ssb)."""
        return tuple(r for r in self._registers.values() if r.kind == "linkable")

    @property
    def all_registers(self) -> tuple[Register, ...]:
        """Every register of the catalogue, the key holder's identity list included."""
        return tuple(self._registers.values())

    def register(self, name: str) -> Register:
        """The register `name`; an unknown name is an error listing the registers."""
        try:
            return self._registers[name]
        except KeyError:
            raise IplosError(
                f"unknown register {name!r}{_suggest(name, self._registers)}; "
                f"registers: {', '.join(self._registers)}"
            ) from None

    def registers_for_years(self, first: int, last: int, linkable: bool = False) -> tuple[Register, ...]:
        """The IPLOS registers holding any årgang in first..last, each needing its own approval.

        2010-2020 touches iplos and kpr; with `linkable=True` the linkable registers covering
        those years are included too.
        """
        if first > last:
            raise IplosError(f"year range {first}-{last} is empty: the first year is after the last")
        kinds = ("primary", "linkable") if linkable else ("primary",)
        return tuple(r for r in self.registers if r.kind in kinds and r.covers(first, last))

    def tables(self, register: str) -> tuple[str, ...]:
        """Table names of a register, in the catalogue's order."""
        return self.register(register).tables

    def columns(self, register: str, table: str) -> tuple[str, ...]:
        """Column names of a register table, in storage order."""
        return tuple(v.name for v in self.variables(register=register, table=table))

    # variables --------------------------------------------------------------------------------------
    def variables(
        self, register: str | None = None, table: str | None = None, role: Role | None = None
    ) -> tuple[Variable, ...]:
        """All variables, or those of one register, table and/or role (unknown names are errors)."""
        if role is not None and role not in ROLES:
            raise IplosError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if register is not None:
            reg = self.register(register)
            if table is not None and table not in reg.tables:
                raise IplosError(
                    f"register {register!r} has no table {table!r}{_suggest(table, reg.tables)}; "
                    f"tables: {', '.join(reg.tables)}"
                )
        elif table is not None:
            tables = {v.table for v in self._variables}
            if table not in tables:
                raise IplosError(f"no register has a table {table!r}{_suggest(table, tables)}")
        return tuple(
            v
            for v in self._variables
            if (register is None or v.register == register)
            and (table is None or v.table == table)
            and (role is None or v.role == role)
        )

    def variable(self, name: str, register: str | None = None, table: str | None = None) -> Variable:
        """The variable `name`, optionally in a given register and table.

        Without a register the first register holding the name wins, in catalogue order (iplos,
        kpr, dar, npr, ssb, keyholder); without a table the first table holding it does. A
        qualified name `register.table.name` is accepted too. An unknown name is an error
        suggesting close matches.
        """
        if name.count(".") == 2 and register is None and table is None:
            register, table, name = name.split(".")
        if register is not None:
            self.register(register)
        candidates = [
            v
            for v in self._by_name.get(name, [])
            if (register is None or v.register == register) and (table is None or v.table == table)
        ]
        if candidates:
            return min(candidates, key=lambda v: self._order[v.register])
        where = f" in {register}" if register else ""
        where += f".{table}" if register and table else f" in table {table}" if table else ""
        pool = {v.name for v in self._variables if register is None or v.register == register}
        raise IplosError(f"unknown variable {name!r}{where}{_suggest(name, pool)}")

    def codelist(self, name: str) -> CodeList:
        """A named code list (e.g. 'tjenestetype', 'funksjonsskaar')."""
        try:
            return self._codelists[name]
        except KeyError:
            raise IplosError(f"unknown code list {name!r}{_suggest(name, self._codelists)}") from None

    @property
    def codelists(self) -> tuple[CodeList, ...]:
        return tuple(self._codelists.values())

    def code_label(
        self, variable: str | Variable, code: object, language: Language = "nb", register: str | None = None
    ) -> str:
        """The label of a code of a variable; an unknown code is an error naming variable and code."""
        var = variable if isinstance(variable, Variable) else self.variable(variable, register=register)
        entry = var.code(code)
        if entry is not None:
            return entry.label(language)
        if var.code_system in _CLASSIFICATIONS and not var.codes:
            from iplos.catalog.hierarchies import diagnosis_title

            title = diagnosis_title(str(code), var.code_system, language)
            if title is not None:
                return title
        raise IplosError(f"code {str(code)!r} is not in the code list of {var.qualified_name}")

    def is_valid_code(
        self, variable: str | Variable, code: object, year: int | None = None, register: str | None = None
    ) -> bool:
        """Whether `code` is a valid value of the variable (in the årgang `year`, when given).

        Code lists are checked code by code (with the years a code is valid in); ICD-10 and ICPC-2
        variables against the packaged classifications; numeric variables against their range. A
        variable with nothing to check against is an error.
        """
        var = variable if isinstance(variable, Variable) else self.variable(variable, register=register)
        if year is not None and not var.exists_in(year):
            return False
        if var.codes:
            entry = var.code(code)
            return entry is not None and (year is None or entry.valid_in(year))
        if var.code_system in _CLASSIFICATIONS:
            from iplos.catalog.hierarchies import diagnosis_title

            return diagnosis_title(str(code), var.code_system, "nb") is not None
        if var.is_numeric and (var.min_value is not None or var.max_value is not None):
            try:
                value = float(str(code))
            except ValueError:
                return False
            lo = var.min_value if var.min_value is not None else float("-inf")
            hi = var.max_value if var.max_value is not None else float("inf")
            return lo <= value <= hi
        raise IplosError(
            f"variable {var.qualified_name} has no code list or range to check {str(code)!r} against"
        )

    # search -----------------------------------------------------------------------------------------
    def search(self, text: str, register: str | None = None) -> tuple[SearchHit, ...]:
        """Variables whose name, labels, description or codes (labels in nb or en, synonyms) contain
        every word of `text`.

        Case and diacritics are ignored ('horsel' finds 'hørsel'; 'home nursing' and 'hjemmesykepleie'
        both find `tjeneste`). Best matches first: name, then labels, then code labels.
        """
        words = normalise(text).split()
        if not words:
            raise IplosError("search text is empty")
        if register is not None:
            self.register(register)
        if self._index is None:
            self._index = build_index(self._variables)
        hits = search(self._index, words, lambda v: register is None or v.register == register)
        hits.sort(key=lambda h: (-h.score, self._order[h.variable.register], h.variable.qualified_name))
        return tuple(hits)


_CLASSIFICATIONS = ("ICD-10", "ICPC-2", "ICD-10 / ICPC-2")


def _suggest(name: str, pool: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(pool), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


@functools.cache
def catalog() -> Catalog:
    """The catalogue built from the package data (validated, built once per process)."""
    registers, codelists, variables = parse_catalog(load_document())
    return Catalog(registers, codelists, variables)
