"""The catalogue's value objects: registers, variables, code lists and their codes.

All are frozen dataclasses built once from the package data (`_load.py`) and shared read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["direct_identifier", "linkage_key", "quasi_identifier", "sensitive", "other"]
"""Disclosure role of a variable: who may see it and how anonymisation treats it."""

DType = Literal["string", "int8", "int16", "float64", "date"]
"""Storage type (docs/registers.md: strings `string`, small codes `int8`/`int16`, dates `date32`, hours `float64`)."""

RegisterKind = Literal["primary", "linkable", "keyholder"]
"""The IPLOS register itself (iplos, kpr), a register it may be linked with (dar, npr, ssb), or the
key holder's identity list."""

Language = Literal["nb", "en"]

ROLES: tuple[str, ...] = get_args(Role)
DTYPES: tuple[str, ...] = get_args(DType)
REGISTER_KINDS: tuple[str, ...] = get_args(RegisterKind)


@dataclass(frozen=True)
class CodeGroup:
    """A group of codes (e.g. SSB's hjemmetjenester), the level above the codes in a hierarchy."""

    code: str
    label_nb: str
    label_en: str

    def label(self, language: Language = "nb") -> str:
        return self.label_nb if language == "nb" else self.label_en


@dataclass(frozen=True)
class Code:
    """One value of a code list with its labels.

    `group` names a `CodeGroup` of the same list. `hour_based` and `institution_stay` apply to the
    service codes (Volven 9151): hours per week are registered only for hour-based services, and an
    institution stay is a døgnopphold. `first_year`/`last_year` limit the årganger a code is valid in.
    `synonyms` are everyday words search finds the code by ('hjemmesykepleie' for 15), leaving the
    official label as it is.
    """

    code: str
    label_nb: str
    label_en: str
    group: str | None = None
    hour_based: bool = False
    institution_stay: bool = False
    first_year: int | None = None
    last_year: int | None = None
    reconstructed: bool = False
    synonyms: tuple[str, ...] = ()

    def label(self, language: Language = "nb") -> str:
        return self.label_nb if language == "nb" else self.label_en

    def valid_in(self, year: int) -> bool:
        """Whether the code may appear in the årgang `year`."""
        return (self.first_year is None or year >= self.first_year) and (
            self.last_year is None or year <= self.last_year
        )


@dataclass(frozen=True)
class CodeList:
    """A named code list shared by variables (e.g. the IPLOS functional score used by 17 items)."""

    name: str
    label_nb: str
    label_en: str
    source: str
    codes: tuple[Code, ...]
    groups: tuple[CodeGroup, ...] = ()
    reconstructed: bool = False
    _by_code: dict[str, Code] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {c.code: c for c in self.codes})

    def get(self, code: object) -> Code | None:
        """The code, or None when it is not in the list (ints and strings both accepted)."""
        return self._by_code.get(str(code))

    def group(self, name: str) -> CodeGroup | None:
        return next((g for g in self.groups if g.code == name), None)


@dataclass(frozen=True)
class Register:
    """A register an applicant can request (or the key holder's identity list), with its årganger.

    `kind` tells the IPLOS register proper (`primary`: iplos 2007-2017, kpr from 2017) from the
    registers it may be linked with (`linkable`) and the key holder's list (`keyholder`).
    """

    name: str
    label_nb: str
    label_en: str
    first_year: int
    last_year: int
    tables: tuple[str, ...]
    pseudonym_key_name: str
    description: str
    kind: RegisterKind = "primary"

    def label(self, language: Language = "nb") -> str:
        return self.label_nb if language == "nb" else self.label_en

    @property
    def years(self) -> range:
        """The årganger the register holds, both ends included."""
        return range(self.first_year, self.last_year + 1)

    def covers(self, first: int, last: int) -> bool:
        """Whether any of the years first..last is an årgang of this register."""
        return first <= self.last_year and last >= self.first_year


@dataclass(frozen=True)
class Variable:
    """A column of a register table, with its labels, type, code list, årganger and disclosure role.

    `codes` is empty when the values come from a large external classification, named by
    `code_system` (ICD-10, ICPC-2, SSB's municipality classification). `hierarchies` names the
    generalization hierarchies that apply (see `iplos.catalog.hierarchy_for`).
    """

    name: str
    register: str
    table: str
    label_nb: str
    label_en: str
    dtype: DType
    role: Role
    aargang_from: int
    aargang_to: int
    nullable: bool = False
    codes: tuple[Code, ...] = ()
    groups: tuple[CodeGroup, ...] = ()
    codelist: str | None = None
    code_system: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    unit: str | None = None
    description: str = ""
    hierarchies: tuple[str, ...] = ()
    reconstructed: bool = False

    def label(self, language: Language = "nb") -> str:
        return self.label_nb if language == "nb" else self.label_en

    @property
    def qualified_name(self) -> str:
        """`register.table.name`, unique in the catalogue."""
        return f"{self.register}.{self.table}.{self.name}"

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("int8", "int16", "float64")

    def code(self, code: object) -> Code | None:
        """The code entry for a value, or None (ints and strings both accepted)."""
        text = str(code)
        return next((c for c in self.codes if c.code == text), None)

    def exists_in(self, year: int) -> bool:
        """Whether the variable exists in the årgang `year`."""
        return self.aargang_from <= year <= self.aargang_to
