"""The history of one kommune code 2006-2024: its names, validity, and the changes in and out."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Literal

from iplos.catalog.regions import _changes, _classification, _data
from iplos.errors import IplosError

Event = Literal[
    "valid",  # the code is valid with this name from this date (first version carried, or new name)
    "renamed",
    "formed",  # the code was created from other kommuner (merger, split or renumbering)
    "absorbed",  # other kommuner merged into this code, which continued
    "ceded",  # part of this kommune went to another code; this code continued
    "merged",  # this kommune became part of another code
    "split",  # this kommune was divided between several codes
    "renumbered",  # the same kommune continued under a new code
    "ended",  # last day of validity
]


@dataclass(frozen=True)
class HistoryEvent:
    """One dated event in a code's history; `related` are the other kommuner involved."""

    date: dt.date
    event: Event
    code: str
    name: str
    related: tuple[tuple[str, str], ...]
    text: str


def _names(related: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{c} {n}" for c, n in related)


def history(code: str) -> list[HistoryEvent]:
    """Names, validity and changes of kommune `code` in KLASS 131, 2006-2024, oldest first.

    >>> [e.event for e in history("0101")]
    ['valid', 'ended', 'renumbered']
    """
    text = _classification.normalise_code(code)
    runs = _data.intervals_by_code().get(text)
    if not runs:
        raise IplosError(
            f"kommune {text} is not in KLASS 131 {_data.FIRST_YEAR}-{_data.LAST_YEAR} (no kommune had that code)"
        )
    versions = _data.versions()
    events: list[HistoryEvent] = []
    first = runs[0]
    # Formations dated on the first version's start (2006-01-01) are only in the change table.
    start = versions[0].valid_from
    formed_2006 = tuple(
        (c.old_code, c.old_name)
        for c in _data.changes()
        if first.valid_from == start and c.date == start and c.new_code == text
    )
    if formed_2006 and any(o != text for o, _ in formed_2006):
        events.append(
            HistoryEvent(
                first.valid_from,
                "formed",
                text,
                first.name,
                formed_2006,
                f"{text} {first.name} formed from {_names(formed_2006)}",
            )
        )
    events.append(
        HistoryEvent(
            first.valid_from,
            "valid",
            text,
            first.name,
            (),
            f"{text} {first.name} valid from {first.valid_from}",
        )
    )
    for prev, run in itertools.pairwise(runs):
        if prev.valid_to == run.valid_from:
            events.append(
                HistoryEvent(
                    run.valid_from,
                    "renamed",
                    text,
                    run.name,
                    (),
                    f"{text} renamed from {prev.name!r} to {run.name!r}",
                )
            )
    for step in _changes.steps():
        date = versions[step.index + 1].valid_from
        old = _data.version_members(step.index)
        new = _data.version_members(step.index + 1)
        if text in new and text not in old:
            pred = step.predecessors[text]
            related = tuple((p, old[p]) for p in pred)
            kinds = {step.kind(p, text) for p in pred}
            what = "split" if "split" in kinds else "merger" if "merged" in kinds else "renumbering"
            events.append(
                HistoryEvent(
                    date,
                    "formed",
                    text,
                    new[text],
                    related,
                    f"{text} {new[text]} formed by {what} of {_names(related)}",
                )
            )
        if text in old and text in new and text in step.successors[text]:
            others = tuple((p, old[p]) for p in step.predecessors[text] if p != text)
            if others:
                parts = ", ".join(
                    f"{'part of ' if len(step.successors[p]) > 1 else ''}{p} {n}" for p, n in others
                )
                events.append(
                    HistoryEvent(
                        date, "absorbed", text, new[text], others, f"{parts} merged into {text} {new[text]}"
                    )
                )
        if text in old:
            succ = step.successors[text]
            if succ == (text,):
                continue
            related = tuple((s, new[s]) for s in succ)
            if len(succ) > 1 and text in succ:
                event: Event = "ceded"
                msg = f"{text} {old[text]} ceded part of its area to {_names(tuple(r for r in related if r[0] != text))}"
            elif len(succ) > 1:
                event, msg = "split", f"{text} {old[text]} split between {_names(related)}"
            elif len(step.predecessors[succ[0]]) > 1:
                event, msg = "merged", f"{text} {old[text]} merged into {_names(related)}"
            else:
                event, msg = "renumbered", f"{text} {old[text]} renumbered to {_names(related)}"
            events.append(HistoryEvent(date, event, text, old[text], related, msg))
    last = runs[-1]
    if last.valid_to is not None:
        end = last.valid_to - dt.timedelta(days=1)
        events.append(
            HistoryEvent(end, "ended", text, last.name, (), f"{text} {last.name} valid until {end}")
        )
    order = {"formed": 0, "valid": 1, "renamed": 2, "absorbed": 3}
    events.sort(key=lambda e: (e.date, order.get(e.event, 4)))
    return events
