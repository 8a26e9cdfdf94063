"""What a change application changes: a field-by-field diff against the approved content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from iplos.cases._codec import to_json
from iplos.cases.model import Application

if TYPE_CHECKING:
    from iplos.cases.state import Case

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    """One difference; `path` is a dotted field path (variables and linkages keyed by register.name)."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None


def _keyed(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {
        str(item[key]) if key != "variable" else f"{item['register']}.{item['name']}": item for item in items
    }


def _walk(before: Any, after: Any, path: str, out: list[Change]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for k in sorted(set(before) | set(after)):
            _walk(before.get(k), after.get(k), f"{path}.{k}" if path else k, out)
        return
    out.append(Change(path, "changed", before, after))


def resubmission_changes(case: Case) -> list[Change]:
    """What the applicant changed between the last return and now (empty when never returned).

    The reviewer reads this when a returned application comes back.
    """
    before = case.returned_content
    return [] if before is None else diff(before, case.content)


def diff(base: Application, new: Application) -> list[Change]:
    """Every difference between the approved application `base` and `new`."""
    b, n = to_json(base), to_json(new)
    out: list[Change] = []
    for field, key in (("variables", "variable"), ("linkages", "register")):
        old, cur = _keyed(b.pop(field), key), _keyed(n.pop(field), key)
        for k in sorted(set(old) | set(cur)):
            if k not in cur:
                out.append(Change(f"{field}.{k}", "removed", old[k], None))
            elif k not in old:
                out.append(Change(f"{field}.{k}", "added", None, cur[k]))
            else:
                _walk(old[k], cur[k], f"{field}.{k}", out)
    for field in ("aarganger", "purposes", "recipients"):
        old_set, cur_set = set(b.pop(field)), set(n.pop(field))
        out.extend(Change(f"{field}", "removed", v, None) for v in sorted(old_set - cur_set, key=str))
        out.extend(Change(f"{field}", "added", None, v) for v in sorted(cur_set - old_set, key=str))
    _walk(b, n, "", out)
    return sorted(out, key=lambda c: c.path)
