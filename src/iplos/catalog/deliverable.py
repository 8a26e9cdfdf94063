"""What a delivery can carry: the one source of truth for requests, decisions, plans and letters.

A variable is *deliverable* when the person-level extract has a column for it (`column`, e.g.
`fodselsaar` is delivered as `alder`, the age in the årgang). A quasi-identifier is generalised with
one hierarchy (`hierarchy`), and only that hierarchy's level names (`levels`, level 0 first) can be
required by a decision, proposed in a plan or promised in a letter. Sensitive and other variables
are delivered as they are (no levels). What cannot be delivered says why (`not_deliverable`), so a
submission can refuse it rather than a delivery failing after the vedtak.

>>> d = deliverable("fodselsaar", "iplos")
>>> (d.column, d.hierarchy, d.levels[:2])
('alder', 'age', ('age', '5 years'))
>>> not_deliverable("startdato", "iplos") is None  # with the service spells table
True
>>> not_deliverable("leverandor_orgnr", "iplos")
"the provider's organisation number is not delivered"
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from iplos.catalog.hierarchies import hierarchies_for, hierarchy_for
from iplos.catalog.variables import catalog
from iplos.errors import IplosError

_IPLOS_PART = ("iplos", "kpr")

#: (register, table, variable) -> the reason it cannot be delivered; `None` as variable: the table.
_NOT_DELIVERABLE: dict[tuple[str, str, str | None], str] = {
    ("iplos", "person", "bydel"): "bydel has no generalization hierarchy to protect it with",
    ("iplos", "tjeneste", "leverandor_orgnr"): "the provider's organisation number is not delivered",
    **{
        (
            "iplos",
            "kontakt",
            column,
        ): "of KPR's contacts an extract carries only antall_kontakter (per person-year)"
        for column in ("kontakttype", "forste_kontakt", "siste_kontakt", "hyppigste_diagnose", "kommune")
    },
}

#: Extract columns that differ from the variable's name, with what they hold.
_COLUMNS: dict[tuple[str, str, str], str] = {
    ("iplos", "person", "fodselsaar"): "alder",
    ("iplos", "tjeneste", "tjeneste"): "antall_tjenester",
}


@dataclass(frozen=True)
class Deliverable:
    """How one catalogue variable is delivered: its extract column and the levels it can be given at."""

    register: str
    table: str
    name: str
    column: str
    role: str
    hierarchy: str | None
    levels: tuple[str, ...]
    first_year: int
    last_year: int

    @property
    def coarser_levels(self) -> tuple[str, ...]:
        """The levels a decision may require (all but level 0)."""
        return self.levels[1:]


def _key(register: str) -> str:
    return "iplos" if register in _IPLOS_PART else register


def not_deliverable(name: str, register: str) -> str | None:
    """Why a variable cannot be delivered, or None when it can (an unknown variable is an error)."""
    var = catalog().variable(name, register=register)
    if var.role in ("direct_identifier", "linkage_key"):
        return f"a {var.role.replace('_', ' ')} is never delivered"
    reg = _key(register)
    reason = _NOT_DELIVERABLE.get((reg, var.table, var.name)) or _NOT_DELIVERABLE.get((reg, var.table, None))
    if (
        reason is None
        and var.role == "quasi_identifier"
        and not hierarchies_for(_column(var.register, var.table, var.name))
    ):
        reason = f"{var.name} has no generalization hierarchy to protect it with"
    return reason


def _column(register: str, table: str, name: str) -> str:
    return _COLUMNS.get((_key(register), table, name), name)


@functools.cache
def deliverable(name: str, register: str) -> Deliverable:
    """How the variable is delivered; an error saying why when it cannot be."""
    reason = not_deliverable(name, register)
    var = catalog().variable(name, register=register)
    if reason is not None:
        raise IplosError(f"{register}.{var.table}.{name} cannot be delivered: {reason}")
    column = _column(register, var.table, name)
    hierarchy: str | None = None
    levels: tuple[str, ...] = ()
    if var.role == "quasi_identifier":
        hierarchy = hierarchies_for(column)[0]
        levels = _levels(column, hierarchy)
    return Deliverable(
        register, var.table, name, column, var.role, hierarchy, levels, var.aargang_from, var.aargang_to
    )


def _levels(column: str, hierarchy: str) -> tuple[str, ...]:
    try:
        return hierarchy_for(column, hierarchy).level_names
    except IplosError:
        # Region hierarchies are built per classification year; their level names do not depend on it.
        return hierarchy_for(column, hierarchy, year=2024).level_names


def deliverables(register: str | None = None) -> tuple[Deliverable, ...]:
    """Every deliverable variable (of one register), in catalogue order."""
    out = []
    for v in catalog().variables(register=register):
        if v.register == "keyholder" or not_deliverable(v.name, v.register) is not None:
            continue
        out.append(deliverable(v.name, v.register))
    return tuple(out)
