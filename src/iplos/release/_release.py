"""The release path: search a plan, or evaluate one as it stands, on an extract in the engine.

`search_plan` finds the least-loss levels within the plan's bounds; `evaluate_plan` measures the
plan's own levels (a counter-proposal, the agreed plan at delivery). Both return an `Outcome`, and
`release_table` carries it out on the extract. The command line, the delivery and the web call
these, so the same data and plan give the same levels and the same suppressed persons everywhere.
Record-level criteria (unit "record") run the same code with every row its own person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iplos.catalog import Hierarchy
from iplos.engine import Engine
from iplos.errors import IplosError
from iplos.release._apply import Mode, apply_plan
from iplos.release._local import LocalRelease
from iplos.release._local_apply import apply_local, local_release
from iplos.release._person import PersonTable
from iplos.release._plan import Plan
from iplos.release._search import PersonEvaluator, PersonNode, PersonSearchResult, person_search
from iplos.release._signatures import person_table

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Outcome:
    """A plan carried out on the persons of an extract: its levels, suppression and class sizes.

    `class_sizes_before` are persons per class at the finest level (the extract as linked),
    `class_sizes_after` persons per released class. `suppressed` holds the suppressed persons' keys
    (row numbers when the plan has no person key or counts records).
    """

    plan: Plan
    node: PersonNode
    n_persons: int
    n_records: int
    suppressed: npt.NDArray[Any]
    class_sizes_before: IntArray
    class_sizes_after: IntArray
    search: PersonSearchResult | None = None
    table: PersonTable | None = None  # the signatures it was computed on (reuse for other plans)
    local: LocalRelease | None = None  # per-class levels, when the plan is local (`Plan.local`)
    # Under (k, k^m) (`Plan.items_known`): per released person, the fewest persons holding one of
    # their (trajectory, <= m rows) keys; the classes above are then those of equal trajectory.
    key_support: IntArray | None = None

    @property
    def levels(self) -> tuple[int, ...]:
        return self.node.levels

    @property
    def suppressed_persons(self) -> int:
        return self.node.suppressed_persons

    @property
    def suppressed_records(self) -> int:
        return self.node.suppressed_records

    @property
    def suppressed_share(self) -> float:
        """Share of the units the budget counts (persons, or records for unit "record")."""
        return self.node.suppressed_persons / self.n_persons if self.n_persons else 0.0

    @property
    def acceptable(self) -> bool:
        return self.node.satisfies


def _key(plan: Plan) -> str | None:
    return plan.person_key if plan.criteria.unit == "person" else None


def _items_known(plan: Plan) -> int | None:
    """The attacker's bound on the other tables' rows, when persons are judged as persons by the
    global search (local methods judge whole signatures, which implies the bound; `Plan`)."""
    return plan.items_known if plan.criteria.unit == "person" and not plan.local else None


def _evaluator(plan: Plan, table: PersonTable, hierarchies: Mapping[str, Hierarchy]) -> PersonEvaluator:
    return PersonEvaluator(
        table, hierarchies, plan.sdc_criteria(), plan.criteria.max_suppressed, _items_known(plan)
    )


def signatures(
    engine: Engine, source: ir.Table | pa.Table, plan: Plan, hierarchies: Mapping[str, Hierarchy]
) -> PersonTable:
    """The extract's distinct signatures as the plan judges them (persons, or rows for unit record)."""
    return person_table(engine, source, plan.columns, hierarchies, plan.sensitive, _key(plan))


def _outcome(
    plan: Plan,
    table: PersonTable,
    evaluator: PersonEvaluator,
    node: PersonNode,
    out_sig: npt.NDArray[np.bool_],
) -> Outcome:
    before = evaluator.classes((0,) * len(plan.columns)).sizes
    assert table.person_keys is not None and table.person_signature is not None
    suppressed = table.person_keys[out_sig[table.person_signature]]
    return Outcome(
        plan=plan,
        node=node,
        n_persons=table.n_persons,
        n_records=table.n_records,
        suppressed=np.sort(suppressed),
        class_sizes_before=before,
        class_sizes_after=evaluator.released_class_sizes(node.levels),
        table=table,
        key_support=evaluator.key_support(node.levels),
    )


def _local_outcome(
    plan: Plan,
    table: PersonTable,
    hierarchies: Mapping[str, Hierarchy],
    base_levels: tuple[int, ...] | None = None,
) -> Outcome:
    """The plan carried out by local recoding or local suppression (`release._local`)."""
    local = local_release(table, plan, hierarchies, base_levels)
    evaluator = PersonEvaluator(table, hierarchies, plan.sdc_criteria(), plan.criteria.max_suppressed)
    before = evaluator.classes((0,) * len(plan.columns)).sizes
    assert table.person_keys is not None and table.person_signature is not None
    suppressed = table.person_keys[local.suppressed_signatures[table.person_signature]]
    node = PersonNode(
        levels=local.base_levels,
        satisfies=True,
        suppressed_persons=local.suppressed_persons,
        suppressed_records=local.suppressed_records,
        classes=int(local.class_sizes.shape[0]),
        metrics={"loss": local.loss},
        smallest_class=local.smallest_class,
    )
    return Outcome(
        plan=plan,
        node=node,
        n_persons=table.n_persons,
        n_records=table.n_records,
        suppressed=np.sort(suppressed),
        class_sizes_before=before,
        class_sizes_after=local.class_sizes,
        table=table,
        local=local,
    )


def search_plan(
    engine: Engine,
    source: ir.Table | pa.Table,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    *,
    list_all: bool = False,
    table: PersonTable | None = None,
) -> Outcome:
    """The least-loss levels within the plan's bounds that meet its criteria (levels set in the plan).

    A local-recoding plan is recoded class by class instead; with local suppression the global
    optimum's levels are kept and single cells blanked instead of suppressing persons.
    """
    table = table or signatures(engine, source, plan, hierarchies)
    if plan.method == "local_recoding":
        return _local_outcome(plan, table, hierarchies)
    result = person_search(
        table,
        hierarchies,
        plan.sdc_criteria(),
        max_suppressed=plan.criteria.max_suppressed,
        metric=plan.utility(),
        min_levels={q.column: q.min_level for q in plan.quasi_identifiers},
        max_levels={q.column: q.max_level for q in plan.quasi_identifiers if q.max_level is not None},
        list_all=list_all,
        items_known=_items_known(plan),
    )
    chosen = replace(plan, levels=result.levels_by_name)
    evaluator = _evaluator(plan, table, hierarchies)
    node, out_sig = evaluator.evaluate(result.levels)
    if plan.local_suppression:
        return replace(_local_outcome(chosen, table, hierarchies), search=result)
    outcome = _outcome(chosen, table, evaluator, node, out_sig)
    return replace(outcome, search=result)


def evaluate_plan(
    engine: Engine,
    source: ir.Table | pa.Table,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    *,
    table: PersonTable | None = None,
) -> Outcome:
    """The plan's own levels carried out and measured (whether or not they meet the criteria)."""
    for q in plan.quasi_identifiers:
        level = plan.levels[q.column]
        if not 0 <= level < hierarchies[q.column].height:
            raise IplosError(
                f"plan: {q.column} has levels 0..{hierarchies[q.column].height - 1}, not {level}"
            )
    table = table or signatures(engine, source, plan, hierarchies)
    if plan.local:
        return _local_outcome(plan, table, hierarchies)
    evaluator = _evaluator(plan, table, hierarchies)
    node, out_sig = evaluator.evaluate(plan.level_tuple())
    return _outcome(plan, table, evaluator, node, out_sig)


def release_table(
    source: pa.Table, outcome: Outcome, hierarchies: Mapping[str, Hierarchy], mode: Mode = "remove"
) -> pa.Table:
    """The extract as released under the outcome: generalised, the suppressed persons removed or blanked."""
    if outcome.local is not None:
        assert outcome.table is not None
        return apply_local(
            source, outcome.local, outcome.table, hierarchies, person_key=_key(outcome.plan), mode=mode
        )
    return apply_plan(
        source,
        outcome.plan.levels,
        hierarchies,
        outcome.suppressed,
        person_key=_key(outcome.plan),
        mode=mode,
    )
