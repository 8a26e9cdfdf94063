"""What the registers hold, and how their values generalise.

- `catalog()` -> `Catalog`: registers (`Register`), their tables and variables (`Variable`) with
  labels in bokmål and English, type, code list (`Code`, `CodeGroup`, `CodeList`), årganger and
  disclosure role (`Role`); the machine-readable form of docs/registers.md.
- `Hierarchy`: a strictly nesting generalization hierarchy (ARX CSV in and out).
- `hierarchy_for(variable, name=None, **params)` / `hierarchies_for(variable)`: the built-in
  hierarchies (age, birth year, date, service, functional score, ICD-10, ICPC-2, code lists,
  regions) found by variable or column name.
- `deliverable(variable, register)` -> `Deliverable`: the extract column a variable becomes and the
  hierarchy levels it can be delivered at (`not_deliverable` says why not): what a case may ask,
  a decision require and a plan or letter name.
- `iplos.catalog.regions`: SSB's regional classification with its history (its own package).
"""

from __future__ import annotations

from iplos.catalog._model import Code, CodeGroup, CodeList, DType, Language, Register, Role, Variable
from iplos.catalog._search import SearchHit, normalise
from iplos.catalog.deliverable import Deliverable, deliverable, deliverables, not_deliverable
from iplos.catalog.hierarchies import hierarchies_for, hierarchy_for
from iplos.catalog.hierarchy import Hierarchy
from iplos.catalog.variables import Catalog, catalog

__all__ = [
    "Catalog",
    "Code",
    "CodeGroup",
    "CodeList",
    "DType",
    "Deliverable",
    "Hierarchy",
    "Language",
    "Register",
    "Role",
    "SearchHit",
    "Variable",
    "catalog",
    "deliverable",
    "deliverables",
    "hierarchies_for",
    "hierarchy_for",
    "normalise",
    "not_deliverable",
]
