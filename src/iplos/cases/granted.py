"""What a decided case grants, in one place for the letter, the linkage and the delivery.

A partial register approval narrows the case consistently: an årgang is granted only when the
register that holds it for the delivery (IPLOS to 2017, KPR after; 2017 is read from IPLOS) is
approved, and a variable only when it is not denied and its register is approved. So a case with
KPR denied for a 2016-2018 request is granted 2016-2017 from IPLOS, and the letter says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from iplos.cases._catalogue import CatalogueView
from iplos.cases.model import VariableDecision
from iplos.cases.state import Case

IPLOS_PART = ("iplos", "kpr")


def base_register_of(year: int, catalogue: CatalogueView) -> str | None:
    """The register an årgang is read from: the first of IPLOS and KPR that holds it."""
    spans = catalogue.register_years()
    return next((r for r in IPLOS_PART if r in spans and spans[r][0] <= year <= spans[r][1]), None)


@dataclass(frozen=True)
class Grant:
    """The årganger and variables a decided case grants, and what it withholds and why."""

    years: tuple[int, ...]
    withheld_years: tuple[tuple[int, str], ...]
    """(årgang, register) for each årgang whose register is denied or not approved."""
    variables: tuple[VariableDecision, ...]
    withheld_variables: tuple[tuple[VariableDecision, str], ...]
    """Variables granted on their own but whose register is not approved, with that register."""


def grant(case: Case, catalogue: CatalogueView) -> Grant:
    """What `case` grants after its register approvals (call after the decision)."""
    approved = set(case.approved_registers())
    years: list[int] = []
    withheld: list[tuple[int, str]] = []
    for y in sorted(set(case.content.aarganger)):
        reg = base_register_of(y, catalogue)
        if reg is not None and reg in approved:
            years.append(y)
        else:
            withheld.append((y, reg or "?"))
    variables: list[VariableDecision] = []
    lost: list[tuple[VariableDecision, str]] = []
    for d in case.granted_variables():
        if d.register in IPLOS_PART:
            ok = any(base_register_of(y, catalogue) in approved for y in case.content.aarganger)
            reg = "/".join(r for r in IPLOS_PART if r not in approved)
        else:
            ok = d.register in approved
            reg = d.register
        if ok:
            variables.append(d)
        else:
            lost.append((d, reg))
    return Grant(tuple(years), tuple(withheld), tuple(variables), tuple(lost))
