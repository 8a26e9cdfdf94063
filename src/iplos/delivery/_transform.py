"""Carry out an agreed anonymisation plan on the linked extract: generalise, then suppress records.

Each quasi-identifier is replaced by its value at the plan's level of its hierarchy; then every
record of an equivalence class that breaks the criteria (fewer than k persons, or fewer than l
distinct values of a sensitive column) is removed. With `aargang` among the quasi-identifiers at
its own level, a person has at most one record per class, so persons and records count alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from iplos.catalog import Hierarchy
from iplos.delivery._hierarchies import MISSING, as_leaf
from iplos.delivery._plan import Plan
from iplos.delivery._release import SERIAL
from iplos.errors import IplosError, Problem, redact


@dataclass(frozen=True)
class Applied:
    """The generalised and suppressed table, and what suppression removed."""

    data: pd.DataFrame
    suppressed: int
    class_sizes: npt.NDArray[np.int64]


def leaves(series: pd.Series, column: str, hierarchy: Hierarchy) -> pd.Series:
    """The column's values as hierarchy leaves; a value outside the hierarchy is an error naming it."""
    text = pd.Series([as_leaf(v) for v in series.tolist()], index=series.index, dtype=object)
    unknown = sorted({v for v in text.unique() if v not in hierarchy})
    if unknown:
        raise IplosError(
            f"column {column!r} holds values that hierarchy {hierarchy.name!r} does not know",
            [Problem("not in the hierarchy", column=column, value=redact(v, keep=8)) for v in unknown[:10]],
        )
    return text


def generalise(frame: pd.DataFrame, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> pd.DataFrame:
    """Replace each quasi-identifier by its value at the plan's level (level 0 keeps the column as is)."""
    out = frame.copy()
    for q in plan.quasi_identifiers:
        level = plan.levels[q.column]
        if level == 0:
            continue
        h = hierarchies[q.column]
        if not 0 <= level < h.height:
            raise IplosError(f"plan: {q.column} has levels 0..{h.height - 1}, not {level}")
        mapping = {row[0]: row[level] for row in h.rows}
        text = leaves(out[q.column], q.column, h)
        values = text.map(mapping)
        out[q.column] = values.where(values != MISSING, None).astype(object)
    return out


def class_keys(frame: pd.DataFrame, columns: Sequence[str]) -> npt.NDArray[np.int64]:
    """An integer per row naming its equivalence class over `columns` (values compared as text)."""
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    text = pd.DataFrame({c: [as_leaf(v) for v in frame[c].tolist()] for c in columns}, index=frame.index)
    codes = text.groupby(list(columns), sort=False, dropna=False).ngroup()
    return np.asarray(codes.to_numpy(), dtype=np.int64)


def apply_plan(frame: pd.DataFrame, plan: Plan, hierarchies: Mapping[str, Hierarchy]) -> Applied:
    """Generalise to the plan's levels and remove the records of classes that break the criteria."""
    general = generalise(frame, plan, hierarchies)
    qis = [q.column for q in plan.quasi_identifiers]
    keys = class_keys(general, qis)
    per_class = pd.DataFrame({"key": keys, "serial": general[SERIAL].to_numpy()})
    persons = per_class.groupby("key")["serial"].nunique()
    failing = persons[persons < plan.criteria.k].index
    bad = np.isin(keys, failing.to_numpy())
    if plan.criteria.l is not None:
        for column in plan.sensitive:
            diverse = pd.DataFrame({"key": keys, "v": [as_leaf(v) for v in general[column].tolist()]})
            distinct = diverse.groupby("key")["v"].nunique()
            bad |= np.isin(keys, distinct[distinct < plan.criteria.l].index.to_numpy())
    kept = general.loc[~bad].reset_index(drop=True)
    sizes = np.asarray(persons[~persons.index.isin(np.unique(keys[bad]))].to_numpy(), dtype=np.int64)
    return Applied(data=kept, suppressed=int(bad.sum()), class_sizes=sizes)
