"""What a change or new-period application keeps from its base case when the review starts.

The reviewer decides only what changed: the base case's decisions on unchanged variables and its
register approvals (when nothing they depend on changed) are recorded again, as `VariableDecided` and
`RegisterDecided` events with the reason "decision carried over", right after `ReviewStarted`.
"""

from __future__ import annotations

from typing import Any

from iplos.cases import events as ev
from iplos.cases._catalogue import CatalogueView
from iplos.cases.state import Case
from iplos.cases.validation import involved_registers


def carried_decisions(case: Case, catalogue: CatalogueView, meta: dict[str, Any]) -> list[ev.Event]:
    """A change or new-period application keeps the base decisions on what it does not change.

    A variable keeps its decision when its request (name, register, justification) and the
    purposes are as approved; a register keeps its approval when the årganger, legal basis,
    purposes and population are as approved and the register is still involved. Everything else
    waits for the reviewer, who may also re-decide a carried decision.
    """
    base = case.base_content
    if base is None:
        return []
    why = f"unchanged since case {case.base_case_id}: decision carried over"
    out: list[ev.Event] = []
    if case.content.purposes == base.purposes:
        asked = {(v.register, v.name): v for v in case.content.variables}
        approved = {(v.register, v.name): v for v in base.variables}
        for d in case.base_decisions:
            key = (d.register, d.name)
            if key in asked and asked[key] == approved.get(key):
                out.append(
                    ev.VariableDecided(
                        register=d.register, name=d.name, outcome=d.outcome, level=d.level, reason=why, **meta
                    )
                )
    c, b = case.content, base
    if (c.aarganger, c.legal_basis, c.purposes, c.population) == (
        b.aarganger,
        b.legal_basis,
        b.purposes,
        b.population,
    ):
        involved = involved_registers(c, catalogue)
        for a in case.base_registers:
            if a.register in involved:
                out.append(
                    ev.RegisterDecided(
                        register=a.register, outcome=a.outcome, reference=a.reference, reason=why, **meta
                    )
                )
    return out
