"""One release path: the plan, person-level signatures, the search, applying the plan.

Between `sdc`/`engine` and `delivery`/`cli` (DESIGN.md): the command line, the delivery and the web
judge and carry out a release with this code only.

- `Plan`, `QuasiIdentifier`, `Criteria`: everything a release is judged by (quasi-identifiers with
  hierarchies and level bounds, k / l / t in person or record form, suppression budget, metric,
  attacker model), as JSON for the case store; `plan_problems` lists what a case's plan JSON asks
  that the release cannot enforce.
- `signatures(engine, extract, plan, hierarchies)` -> `PersonTable`: the distinct person signatures,
  grouped in the engine.
- `search_plan` / `evaluate_plan` -> `Outcome`: the optimal levels, or a given plan measured;
  `release_table` carries an outcome out on the extract (suppressed persons removed or blanked).
- `person_search`, `PersonSearchResult`, `PersonNode`: the person-level search on a `PersonTable`.
- `DEFAULT_ITEMS_KNOWN`: the attacker's default bound m on a person's rows in the other tables of a
  multi-table extract ((k, k^m)-anonymity, `Plan.items_known`).
- `released_risk`: person-level, record-level and acquaintance risk of a released table.
"""

from __future__ import annotations

from iplos.release._apply import apply_plan
from iplos.release._case import from_case, plan_problems, to_case
from iplos.release._items import DEFAULT_ITEMS_KNOWN
from iplos.release._person import PersonTable
from iplos.release._plan import Criteria, Plan, QuasiIdentifier
from iplos.release._release import Outcome, evaluate_plan, release_table, search_plan, signatures
from iplos.release._risk import RiskFigures, released_risk
from iplos.release._search import PersonNode, PersonSearchResult, person_search
from iplos.release._signatures import leaf_text

__all__ = [
    "DEFAULT_ITEMS_KNOWN",
    "Criteria",
    "Outcome",
    "PersonNode",
    "PersonSearchResult",
    "PersonTable",
    "Plan",
    "QuasiIdentifier",
    "RiskFigures",
    "apply_plan",
    "evaluate_plan",
    "from_case",
    "leaf_text",
    "person_search",
    "plan_problems",
    "release_table",
    "released_risk",
    "search_plan",
    "signatures",
    "to_case",
]
