"""Hierarchies over code lists of the catalogue: service types, functional scores, any grouped list.

A code list with groups gives code -> group -> all; one without gives code -> all.
"""

from __future__ import annotations

from iplos.catalog._model import CodeList
from iplos.catalog.hierarchy import Hierarchy
from iplos.catalog.variables import catalog

ALL = "*"


def codelist_hierarchy(codelist: str | CodeList, name: str | None = None) -> Hierarchy:
    """Code, group (when the list has groups), all, for a catalogue code list."""
    cl = codelist if isinstance(codelist, CodeList) else catalog().codelist(codelist)
    rows: list[tuple[str, ...]]
    if cl.groups:
        rows = [(c.code, c.group or ALL, ALL) for c in cl.codes]
        levels: tuple[str, ...] = (cl.name, "group", "all")
    else:
        rows = [(c.code, ALL) for c in cl.codes]
        levels = (cl.name, "all")
    return Hierarchy(
        name=name or cl.name,
        level_names=levels,
        rows=tuple(rows),
        description=f"{cl.label_en} ({cl.source}).",
    )


def service_hierarchy() -> Hierarchy:
    """Volven 9151 service code, SSB group (hjemmetjenester / institusjon / andre), all."""
    h = codelist_hierarchy("tjenestetype", name="service")
    return Hierarchy(
        name="service",
        level_names=("service", "SSB group", "all"),
        rows=h.rows,
        description=h.description,
    )


def functional_score_hierarchy() -> Hierarchy:
    """IPLOS functional score 1-5, 9: score, no need (1-2) / need (3-5) / not relevant (9), all."""
    h = codelist_hierarchy("funksjonsskaar", name="functional_score")
    return Hierarchy(
        name="functional_score",
        level_names=("score", "need of assistance", "all"),
        rows=h.rows,
        description=h.description,
    )
