"""Harmonisation of kommune codes between the classifications of two years, forwards or backwards.

Each step between consecutive KLASS versions links old and new kommuner (`_changes.Step`). The
population that moved along a link is estimated as

* the old kommune's population on 1 January of the last year it existed, when it went whole into
  one new kommune (renumbering, merger);
* that population times the split share (data/split_shares.csv), when it was split; where the data
  give no share it is unknown and every share computed through it is None.

Forwards, a code's share in each new kommune is the part of its population that went there;
backwards, a code's share in each old kommune is the part of its population that came from there.
Composing steps multiplies shares. Across a merger followed by a split of the merged kommune
(1534 Haram 2019 -> 1507 Ålesund 2020 -> 1508 Ålesund / 1580 Haram 2024, or back), KLASS does not say
which former kommune went where: every candidate is listed and the shares are None (unknown), not a
proportional guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from iplos.catalog.regions import _changes, _classification, _data, _population
from iplos.errors import IplosError

How = Literal["same", "renumbered", "merged", "split"]
_RANK: dict[str, int] = {"same": 0, "renumbered": 1, "merged": 2, "split": 3}


@dataclass(frozen=True)
class Candidate:
    """A kommune of the target year that (part of) the source kommune corresponds to.

    `share` is the estimated fraction of the source kommune's population that lies in this
    candidate (forwards) or came from it (backwards); None where the data do not allow an
    estimate. `how` is the strongest change on the way: 'split' > 'merged' > 'renumbered' > 'same'.
    """

    code: str
    name: str
    share: float | None
    how: How


@cache
def _split_shares() -> dict[tuple[dt.date, str, str], float | None]:
    out: dict[tuple[dt.date, str, str], float | None] = {}
    for r in _data.read_csv("split_shares.csv"):
        key = (dt.date.fromisoformat(r["date"]), r["old_code"], r["new_code"])
        out[key] = float(r["share"]) if r["share"] else None
    return out


@cache
def _flows(index: int) -> dict[tuple[str, str], float | None]:
    """Estimated persons moving along each link of step `index` (old code, new code)."""
    step = _changes.steps()[index]
    date = _data.versions()[index + 1].valid_from
    before = _population.population_total(date.year - 1)
    shares = _split_shares()
    flows: dict[tuple[str, str], float | None] = {}
    for old, succ in step.successors.items():
        for new in succ:
            if len(succ) == 1:
                flows[(old, new)] = float(before[old])
            else:
                share = shares.get((date, old, new))
                flows[(old, new)] = None if share is None else before[old] * share
    return flows


def _mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@cache
def _step_shares(index: int, forward: bool) -> dict[str, dict[str, float | None]]:
    """For each code on the source side of step `index`, its share in each linked code."""
    step = _changes.steps()[index]
    flows = _flows(index)
    out: dict[str, dict[str, float | None]] = {}
    if forward:
        for old, succ in step.successors.items():
            parts = [flows[(old, n)] for n in succ]
            total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
            out[old] = {n: _ratio(flows[(old, n)], total, len(succ)) for n in succ}
    else:
        for new, pred in step.predecessors.items():
            parts = [flows[(o, new)] for o in pred]
            total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
            out[new] = {o: _ratio(flows[(o, new)], total, len(pred)) for o in pred}
    return out


def _ratio(part: float | None, total: float | None, n: int) -> float | None:
    if n == 1:
        return 1.0
    if part is None or total is None or total <= 0:
        return None
    return part / total


def harmonise(code: str, from_year: int | str | dt.date, to_year: int | str | dt.date) -> list[Candidate]:
    """The kommuner of `to_year`'s classification that kommune `code` of `from_year` corresponds to.

    Works forwards and backwards across renumbering, mergers and splits; a split returns every
    candidate (never one silent guess), largest share first.

    >>> [(c.code, c.how) for c in harmonise("0101", 2019, 2020)]
    [('3001', 'renumbered')]
    >>> [(c.code, c.how) for c in harmonise("1601", 2017, 2018)]
    [('5001', 'renumbered')]
    """
    text = _classification.normalise_code(code)
    src = _classification.version_index(from_year)
    dst = _classification.version_index(to_year)
    if text not in _data.version_members(src):
        raise IplosError(_classification.not_valid_message(text, _classification.as_date(from_year)))
    vector: dict[str, float | None] = {text: 1.0}
    kinds: dict[str, str] = {text: "same"}
    # partial[c]: the source covers only part of unit c (c also holds other areas). When such a
    # unit is divided again (a split forwards, a merger backwards), nothing says how the source's
    # part was divided: the shares become unknown rather than a proportional guess.
    partial: dict[str, bool] = {text: False}
    forward = dst >= src
    indices = range(src, dst) if forward else range(src - 1, dst - 1, -1)
    for index in indices:
        step = _changes.steps()[index]
        shares = _step_shares(index, forward)
        new_vector: dict[str, float | None] = {}
        new_kinds: dict[str, str] = {}
        new_partial: dict[str, bool] = {}
        for current, weight in vector.items():
            links = shares[current]
            ambiguous = partial[current] and len(links) > 1
            for target, share in links.items():
                value = None if ambiguous else _mul(weight, share)
                new_vector[target] = _add(new_vector[target], value) if target in new_vector else value
                kind = step.kind(current, target) if forward else step.kind(target, current)
                best = max(kinds[current], kind, new_kinds.get(target, "same"), key=_RANK.__getitem__)
                new_kinds[target] = best
                shared = len(step.predecessors[target] if forward else step.successors[target]) > 1
                new_partial[target] = new_partial.get(target, False) or partial[current] or shared
        vector, kinds, partial = new_vector, new_kinds, new_partial
    names = _data.version_members(dst)
    out = [
        Candidate(c, names[c], None if s is None else round(s, 6), kinds[c])  # type: ignore[arg-type]
        for c, s in vector.items()
    ]
    out.sort(key=lambda c: (c.share is None, -(c.share or 0.0), c.code))
    return out


def harmonise_many(
    codes: Iterable[str], from_year: int | str | dt.date, to_year: int | str | dt.date
) -> dict[str, list[Candidate]]:
    """`harmonise` for many codes; the first unknown code is an error naming it."""
    return {_classification.normalise_code(c): harmonise(c, from_year, to_year) for c in codes}
