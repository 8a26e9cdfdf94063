"""The change graph between consecutive KLASS 131 versions.

Between version k and k+1 every kommune of k has one or more successors in k+1: the codes the change
table (KLASS "changes") lists for it on the date version k+1 starts, or, when it is not listed, the
same code. A successor with several predecessors is a merger (sammenslåing); a predecessor with
several successors was split (delt). Boundary adjustments that move only part of a kommune without a
code change are not in the KLASS change table and so not here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from iplos.catalog.regions import _data
from iplos.errors import IplosError, Problem


@dataclass(frozen=True)
class Step:
    """The change from version `index` to version `index + 1`."""

    index: int
    successors: dict[str, tuple[str, ...]]
    predecessors: dict[str, tuple[str, ...]]

    def kind(self, old: str, new: str) -> str:
        """How `old` became (part of) `new`: 'split', 'merged', 'renumbered' or 'same'."""
        if len(self.successors[old]) > 1:
            return "split"
        if len(self.predecessors[new]) > 1:
            return "merged"
        return "same" if old == new else "renumbered"


@cache
def steps() -> tuple[Step, ...]:
    """Every step between consecutive versions, checked against both versions' code lists."""
    versions = _data.versions()
    out = []
    for k in range(len(versions) - 1):
        old_codes = _data.version_members(k)
        new_codes = _data.version_members(k + 1)
        date = versions[k + 1].valid_from
        listed: dict[str, list[str]] = {}
        for change in _data.changes():
            if change.date == date:
                listed.setdefault(change.old_code, []).append(change.new_code)
        problems = []
        successors: dict[str, tuple[str, ...]] = {}
        for code in old_codes:
            succ = tuple(dict.fromkeys(listed.get(code, [code])))
            for s in succ:
                if s not in new_codes:
                    problems.append(
                        Problem(f"successor {s} of {code} is not in the next version", value=code)
                    )
            successors[code] = succ
        for code in listed:
            if code not in old_codes:
                problems.append(
                    Problem(f"changed code {code} is not in the version before {date}", value=code)
                )
        predecessors: dict[str, list[str]] = {code: [] for code in new_codes}
        for code, succ in successors.items():
            for s in succ:
                if s in predecessors:
                    predecessors[s].append(code)
        for code, pred in predecessors.items():
            if not pred:
                problems.append(Problem(f"kommune {code} of {date} has no predecessor", value=code))
        if problems:
            raise IplosError(f"KLASS 131 change table does not fit the versions at {date}", problems)
        out.append(Step(k, successors, {c: tuple(sorted(p)) for c, p in predecessors.items()}))
    return tuple(out)


def components(from_index: int, to_index: int) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Groups of kommuner of version `from_index` and `to_index` (later) that map onto each other.

    Each group is the smallest set of codes on both sides such that no change links it to codes
    outside: a group with one code on each side is the same area (possibly renumbered).
    """
    if to_index < from_index:
        raise ValueError("to_index must not be earlier than from_index")
    # reach[c] = set of codes in version to_index that code c (in from_index) maps to
    reach: dict[str, set[str]] = {c: {c} for c in _data.version_members(from_index)}
    for step in steps()[from_index:to_index]:
        reach = {c: {s for t in targets for s in step.successors[t]} for c, targets in reach.items()}
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c, targets in reach.items():
        for t in targets:
            parent[find("o" + c)] = find("n" + t)
    groups: dict[str, tuple[set[str], set[str]]] = {}
    for c, targets in reach.items():
        old, new = groups.setdefault(find("o" + c), (set(), set()))
        old.add(c)
        new.update(targets)
    return [(frozenset(o), frozenset(n)) for o, n in groups.values()]
