"""Harmonisation of kommune codes between the classifications of two years, forwards or backwards.

Each step between consecutive KLASS versions links old and new kommuner (`_changes.Step`). The
population that moved along a link is estimated as

* the old kommune's population on 1 January of the last year it existed, when it went whole into
  one new kommune (renumbering, merger);
* that population times the split share (data/split_shares.csv), when it was split; where the data
  give no share it is unknown and every share computed through it is None.

Forwards, a code's share in each new kommune is the part of its population that went there;
backwards, a code's share in each old kommune is the part of its population that came from there.
Composing steps multiplies shares. Across a merger followed by a split of the merged kommune,
KLASS does not say which former kommune went where: every candidate is listed and the shares are
None (unknown), not a proportional guess, unless the split re-established a former kommune with its
old borders (data/restorations.csv: 1580 Haram 2024 is 1534 Haram before 2020). Then the territory is
traced: old Ålesund (1504) lies wholly in 1508, old Haram (1534) wholly in 1580, and back from 1508
the shares are those of the merged kommuner other than Haram.
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


@dataclass(frozen=True)
class _Restoration:
    split_code: str
    new_code: str
    former_code: str


@cache
def _restorations() -> dict[dt.date, tuple[_Restoration, ...]]:
    out: dict[dt.date, list[_Restoration]] = {}
    for r in _data.read_csv("restorations.csv"):
        out.setdefault(dt.date.fromisoformat(r["date"]), []).append(
            _Restoration(r["split_code"], r["new_code"], r["former_code"])
        )
    return {d: tuple(v) for d, v in out.items()}


def _restricted(
    current: str, links: dict[str, float | None], lineage: frozenset[str], date: dt.date, forward: bool
) -> dict[str, float | None] | None:
    """The links of a merged-then-split unit after tracing territory, or None when nothing applies.

    Forwards (`current` is the split kommune): a part that was the restored former kommune goes to
    the new one; any other part goes to the other new kommuner. Backwards (`current` is the merged
    kommune, `lineage` the codes the tracked part had later): the restored kommune came wholly from
    the former one; the rest came from the others.
    """
    for r in _restorations().get(date, ()) if forward else _all_restorations():
        if forward and current == r.split_code and r.new_code in links:
            keep = {r.new_code} if r.former_code in lineage else set(links) - {r.new_code}
        elif not forward and r.split_code in lineage and r.former_code in links:
            keep = {r.former_code} if r.new_code in lineage else set(links) - {r.former_code}
        else:
            continue
        kept = {c: s for c, s in links.items() if c in keep}
        if any(s is None for s in kept.values()):
            return dict.fromkeys(kept, None) if len(kept) > 1 else dict.fromkeys(kept, 1.0)
        total = sum(s for s in kept.values() if s is not None)
        return {c: (s or 0.0) / total if total > 0 else None for c, s in kept.items()}
    return None


def _all_restorations() -> tuple[_Restoration, ...]:
    return tuple(r for rs in _restorations().values() for r in rs)


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
    lineage: dict[str, frozenset[str]] = {text: frozenset({text})}
    forward = dst >= src
    indices = range(src, dst) if forward else range(src - 1, dst - 1, -1)
    for index in indices:
        step = _changes.steps()[index]
        shares = _step_shares(index, forward)
        new_vector: dict[str, float | None] = {}
        new_kinds: dict[str, str] = {}
        new_partial: dict[str, bool] = {}
        new_lineage: dict[str, frozenset[str]] = {}
        date = _data.versions()[index + 1].valid_from
        for current, weight in vector.items():
            links = shares[current]
            # Only a part of a merged-then-split unit needs tracing; the whole unit keeps its shares.
            traced = (
                _restricted(current, links, lineage[current], date, forward)
                if partial[current] and len(links) > 1
                else None
            )
            if traced is not None:
                links = traced
            ambiguous = partial[current] and len(links) > 1 and traced is None
            for target, share in links.items():
                new_lineage[target] = new_lineage.get(target, frozenset()) | lineage[current] | {target}
                value = None if ambiguous else _mul(weight, share)
                new_vector[target] = _add(new_vector[target], value) if target in new_vector else value
                kind = step.kind(current, target) if forward else step.kind(target, current)
                best = max(kinds[current], kind, new_kinds.get(target, "same"), key=_RANK.__getitem__)
                new_kinds[target] = best
                shared = len(step.predecessors[target] if forward else step.successors[target]) > 1
                new_partial[target] = new_partial.get(target, False) or partial[current] or shared
        vector, kinds, partial, lineage = new_vector, new_kinds, new_partial, new_lineage
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
