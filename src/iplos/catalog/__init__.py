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

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iplos.catalog._model import Code, CodeGroup, CodeList, DType, Language, Register, Role, Variable
    from iplos.catalog._search import SearchHit, normalise
    from iplos.catalog.deliverable import Deliverable, deliverable, deliverables, not_deliverable
    from iplos.catalog.hierarchies import hierarchies_for, hierarchy_for
    from iplos.catalog.hierarchy import Hierarchy
    from iplos.catalog.variables import Catalog, catalog

# Names are imported on first use: `iplos anonymise` needs `Hierarchy` alone, and the catalogue's
# model (pydantic), code lists and built-in hierarchies cost a fifth of its start-up.
_SOURCES = {
    **dict.fromkeys(
        ("Code", "CodeGroup", "CodeList", "DType", "Language", "Register", "Role", "Variable"), "_model"
    ),
    **dict.fromkeys(("SearchHit", "normalise"), "_search"),
    **dict.fromkeys(("Deliverable", "deliverable", "deliverables", "not_deliverable"), "deliverable"),
    **dict.fromkeys(("hierarchies_for", "hierarchy_for"), "hierarchies"),
    "Hierarchy": "hierarchy",
    **dict.fromkeys(("Catalog", "catalog"), "variables"),
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"iplos.catalog.{source}"), name)
    globals()[name] = value
    return value


class _Catalog(types.ModuleType):
    """The package, whose `deliverable` is the function even after its submodule is imported."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "deliverable" and isinstance(value, types.ModuleType):
            value = value.deliverable  # the import system binds each submodule on its package
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Catalog


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
