"""Re-identification risk of a released table, person-level beside record-level, and the acquaintance.

Measured in the engine on the released values themselves (GROUP BYs, no hierarchy needed):
- record level: the classes of rows with equal known values (what a per-row count sees);
- person level: the classes of persons with equal signatures (the multiset of their rows' known
  values), the prosecutor's view when the attacker knows the quasi-identifiers in every year;
- acquaintance: a person's signature plus the values of one of their rows in further columns an
  acquaintance would know (hours per week in bands, functional scores in groups, ...): for each
  row, the persons of its class whose row for the same element shows the same values. The measure
  is taken per row and its worst row stands for the person, so it cannot understate the risk.
Every figure is a prosecutor risk: 1 / class size, highest and average, and the share at risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from iplos.engine import Engine

THRESHOLD = 0.2


@dataclass(frozen=True)
class RiskFigures:
    """Prosecutor risk of one view of the release (record, person or acquaintance)."""

    view: str
    units: int
    classes: int
    smallest: int
    highest: float
    average: float
    share_at_risk: float
    uniques: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(
    view: str, sizes: np.ndarray[Any, Any], weights: np.ndarray[Any, Any] | None = None
) -> RiskFigures:
    """Risk from class sizes; `weights` = units per class (default: the sizes)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    w = sizes if weights is None else np.asarray(weights, dtype=np.int64)
    units = int(w.sum())
    if units == 0:
        return RiskFigures(view, 0, 0, 0, 0.0, 0.0, 0.0, 0)
    risk = 1.0 / sizes
    return RiskFigures(
        view=view,
        units=units,
        classes=int(sizes.shape[0]),
        smallest=int(sizes.min()),
        highest=float(risk.max()),
        average=float((w * risk).sum() / units),
        share_at_risk=float(w[risk > THRESHOLD].sum() / units),
        uniques=int(w[sizes == 1].sum()),
    )


def hours_band(value: object) -> str:
    """Hours per week as an acquaintance would know them: none, under 2, 2-5, 5-10, 10-20, 20-40, 40+."""
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if value != value:
        return ""
    for bound, label in (
        (0.0, "0"),
        (2.0, "<2"),
        (5.0, "2-5"),
        (10.0, "5-10"),
        (20.0, "10-20"),
        (40.0, "20-40"),
    ):
        if value <= bound if bound == 0.0 else value < bound:
            return label
    return "40+"


def score_group(value: object) -> str:
    """A functional score as an acquaintance would know it: no need (1-2), need (3-5), not relevant (9)."""
    text = "" if value is None else str(value).split(".")[0]
    return {"1": "1-2", "2": "1-2", "3": "3-5", "4": "3-5", "5": "3-5", "9": "9"}.get(text, text)


def banded(table: pa.Table, columns: Mapping[str, str]) -> pa.Table:
    """The acquaintance's knowledge of `columns` (name -> 'hours' or 'score'), as text columns."""
    out = table
    for name, kind in columns.items():
        values = table.column(name).to_pylist()
        band = hours_band if kind == "hours" else score_group
        distinct = {v: band(v) for v in set(values)}  # each distinct value banded once
        out = out.set_column(out.schema.get_field_index(name), name, pa.array([distinct[v] for v in values]))
    return out


def released_risk(
    engine: Engine,
    released: pa.Table,
    known: Sequence[str],
    person_key: str | None,
    acquaintance: Mapping[str, str] | None = None,
) -> dict[str, RiskFigures]:
    """Record-level, person-level and (with `acquaintance` columns) acquaintance risk of a release.

    Suppressed rows must already be gone (or blanked to '*' in every known column, and then they
    form one class of their own, as an attacker would see them).
    """
    acq = dict(acquaintance or {})
    table = banded(released, acq) if acq else released
    t: ir.Table = ibis.memtable(table)
    out: dict[str, RiskFigures] = {}
    known = list(known)
    records = engine.to_arrow(t.group_by(known).aggregate(_n=t.count()))
    out["record"] = _figures("record", records.column("_n").to_numpy())
    if person_key is None:
        return out
    t = t.mutate(_el=ibis.dense_rank().over(order_by=[t[c] for c in known]))
    persons = t.group_by(person_key).aggregate(_sig=t["_el"].collect().sort())
    persons = persons.mutate(_sid=ibis.dense_rank().over(order_by=persons["_sig"]))
    sizes = engine.to_arrow(persons.group_by("_sid").aggregate(_n=persons.count()))
    out["person"] = _figures("person", sizes.column("_n").to_numpy())
    if acq:
        joined = t.join(persons.select(person_key, "_sid"), person_key)
        cells = joined.group_by(["_sid", "_el", *acq]).aggregate(_n=joined[person_key].nunique())
        with_size = joined.join(cells, ["_sid", "_el", *acq])
        worst = with_size.group_by(person_key).aggregate(_m=with_size["_n"].min())
        per_person = engine.to_arrow(worst.group_by("_m").aggregate(_p=worst.count()))
        out["acquaintance"] = _figures(
            "acquaintance", per_person.column("_m").to_numpy(), per_person.column("_p").to_numpy()
        )
    return out
