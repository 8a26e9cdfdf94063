"""What the registers hold, and how their values generalise.

- `catalog()` -> `Catalog`: registers (`Register`), their tables and variables (`Variable`) with
  labels in bokmål and English, type, code list (`Code`, `CodeGroup`, `CodeList`), årganger and
  disclosure role (`Role`); the machine-readable form of docs/registers.md.
- `Hierarchy`: a strictly nesting generalization hierarchy (ARX CSV in and out).
- `hierarchy_for(variable, name=None, **params)` / `hierarchies_for(variable)`: the built-in
  hierarchies (age, birth year, date, service, functional score, ICD-10, ICPC-2, code lists,
  regions) found by variable or column name.
- `iplos.catalog.regions`: SSB's regional classification with its history (its own package).
"""

from __future__ import annotations

from iplos.catalog._model import Code, CodeGroup, CodeList, DType, Language, Register, Role, Variable
from iplos.catalog._search import SearchHit, normalise
from iplos.catalog.hierarchies import hierarchies_for, hierarchy_for
from iplos.catalog.hierarchy import Hierarchy
from iplos.catalog.variables import Catalog, catalog

__all__ = [
    "Catalog",
    "Code",
    "CodeGroup",
    "CodeList",
    "DType",
    "Hierarchy",
    "Language",
    "Register",
    "Role",
    "SearchHit",
    "Variable",
    "catalog",
    "hierarchies_for",
    "hierarchy_for",
    "normalise",
]
