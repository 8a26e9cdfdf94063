"""Read what an approved case asks for: the linkage request, the quasi-identifiers and their bounds.

The case records the variables (minus those the reviewer denied), the årganger, the population
described in words, the registers with their approvals, and the reviewer's required coarsening
(`coarsened` with a level name such as '5 years' or 'fylke'). Those levels become lower bounds for
the search on the extract column the variable turned into (`fodselsaar` becomes `alder`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from iplos.cases import Case
from iplos.catalog import Hierarchy, catalog, hierarchies_for
from iplos.delivery._hierarchies import build_hierarchy, catalog_variable, institution_services
from iplos.delivery._plan import QuasiIdentifier
from iplos.errors import IplosError
from iplos.linkage import LinkageRequest, OutputColumn, Population, VariableRef

AARGANG = "aargang"

_AGE_PATTERNS = (
    re.compile(r"(?:aged?|alder)\s*(\d{1,3})\s*-\s*(\d{1,3})", re.IGNORECASE),
    re.compile(r"(\d{1,3})\s*\+", re.IGNORECASE),
    re.compile(
        r"(\d{1,3})\s*(?:years?|år)?\s*(?:and over|and older|or older|og eldre|og over)", re.IGNORECASE
    ),
)
_HOME = re.compile(
    r"home[- ]dwelling|home[- ]based|living at home|hjemmeboende|bor hjemme|hjemmetjenester", re.IGNORECASE
)
_EVERYONE = re.compile(r"^\s*(all|alle)\b", re.IGNORECASE)


def population_from_text(text: str) -> Population:
    """The population a case describes in words: an age bound and whether only home-dwellers count.

    Understood: '80+', '80 years and over', '80 år og eldre', 'aged 67-79'; 'home-dwelling',
    'home-based services', 'hjemmeboende', 'hjemmetjenester'. A description none of this fits (and
    that does not start with 'all') is refused rather than read as everyone.

    >>> population_from_text("Home-dwelling recipients aged 80+ at the end of the årgang").min_age
    80
    """
    min_age = max_age = None
    for i, pattern in enumerate(_AGE_PATTERNS):
        match = pattern.search(text)
        if match:
            min_age = int(match.group(1))
            if i == 0:
                max_age = int(match.group(2))
            break
    home = bool(_HOME.search(text))
    if min_age is None and not home and text.strip() and not _EVERYONE.search(text):
        raise IplosError(
            f"the case's population {text[:80]!r} is not understood: describe it with an age bound "
            "('80+', 'aged 67-79') and/or 'home-dwelling', or start with 'all'"
        )
    return Population(
        min_age=min_age,
        max_age=max_age,
        home_dwelling=home,
        institution_services=institution_services() if home else frozenset(),
        description=text,
    )


def _reference(register: str, name: str) -> VariableRef:
    reg = "iplos" if register in ("iplos", "kpr") else register
    variable = catalog().variable(name, register="iplos" if reg == "iplos" else reg)
    return VariableRef(reg, variable.table, variable.name)


def granted_variables(case: Case) -> list[tuple[str, str]]:
    """(register, name) of every requested variable the reviewer did not deny."""
    out: list[tuple[str, str]] = []
    for v in case.content.variables:
        decision = case.variable_decisions.get(f"{v.register}.{v.name}")
        if decision is not None and decision.outcome == "denied":
            continue
        out.append((v.register, v.name))
    return out


def linkage_request(case: Case) -> LinkageRequest:
    """The linkage an approved case asks for."""
    if case.outcome not in ("approved", "partly_approved"):
        raise IplosError(f"case {case.case_id} is not approved (status {case.status})")
    variables = [_reference(r, n) for r, n in granted_variables(case)]
    return LinkageRequest(
        case_id=case.case_id,
        years=tuple(case.content.aarganger),
        variables=tuple(variables),
        population=population_from_text(case.content.population),
        approvals=frozenset(case.approved_registers()),
    )


def required_levels(case: Case) -> dict[str, str]:
    """Variable name -> the level name the reviewer required (coarsened variables only)."""
    return {
        d.name: d.level
        for d in case.variable_decisions.values()
        if d.outcome == "coarsened" and d.level is not None
    }


@dataclass(frozen=True)
class Anonymisation:
    """The quasi-identifiers of an extract with their hierarchies, and the sensitive columns."""

    quasi_identifiers: tuple[QuasiIdentifier, ...]
    hierarchies: Mapping[str, Hierarchy]
    sensitive: tuple[str, ...]


def _aargang_hierarchy(years: Sequence[int]) -> Hierarchy:
    # The årgang stays as it is: with it in every class a person counts once per class.
    return Hierarchy.from_rows(
        AARGANG, [[str(y), "*"] for y in sorted(set(years))], level_names=["aargang", "all"]
    )


def _level_number(h: Hierarchy, level: str, column: str) -> int:
    try:
        return h.level(level)
    except IplosError:
        raise IplosError(
            f"the required level {level!r} of {column} is not a level of hierarchy {h.name!r} "
            f"({', '.join(h.level_names)})"
        ) from None


def anonymisation_setup(
    columns: Sequence[OutputColumn], years: Sequence[int], required: Mapping[str, str]
) -> Anonymisation:
    """Quasi-identifiers (catalogue role, plus `aargang`) with hierarchies and reviewer lower bounds."""
    qis = [QuasiIdentifier(AARGANG, "aargang", 0, 0)]
    hierarchies: dict[str, Hierarchy] = {AARGANG: _aargang_hierarchy(years)}
    sensitive: list[str] = []
    for out in columns:
        variable = catalog_variable(str(out.source), out.name)
        role = variable.role if variable is not None else "other"
        if out.name in ("antall_tjenester", "npr_episoder"):
            role = "sensitive"
        if role == "sensitive":
            sensitive.append(out.name)
            continue
        if role != "quasi_identifier":
            continue
        lookup = "alder" if out.name == "alder" else out.source.column
        names = hierarchies_for(lookup)
        if not names:
            raise IplosError(f"no hierarchy for the quasi-identifier {out.name!r}")
        q = QuasiIdentifier(out.name, names[0])
        h = build_hierarchy(q, years)
        level = required.get(out.source.column)
        min_level = _level_number(h, level, out.name) if level is not None else 0
        q = QuasiIdentifier(out.name, names[0], min_level)
        qis.append(q)
        hierarchies[out.name] = h
    return Anonymisation(tuple(qis), hierarchies, tuple(sensitive))
