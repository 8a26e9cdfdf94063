"""The anonymisation plan agreed with the applicant: criteria, and one hierarchy level per quasi-identifier.

The plan travels as JSON: it is what the processor proposes, what the applicant may counter, and what
the case records as agreed (`iplos.cases` stores it without reading it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iplos.delivery._release import Criteria
from iplos.errors import IplosError


@dataclass(frozen=True)
class QuasiIdentifier:
    """A quasi-identifier of the extract with its hierarchy and the levels the case allows.

    `min_level` is the reviewer's required coarsening (a lower bound for the search); `max_level`
    the coarsest level the applicant accepts (None: any).
    """

    column: str
    hierarchy: str
    min_level: int = 0
    max_level: int | None = None
    hierarchy_params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "hierarchy": self.hierarchy,
            "min_level": self.min_level,
            "max_level": self.max_level,
            "hierarchy_params": dict(self.hierarchy_params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuasiIdentifier:
        max_level = data.get("max_level")
        return cls(
            column=str(data["column"]),
            hierarchy=str(data["hierarchy"]),
            min_level=int(data.get("min_level", 0)),
            max_level=None if max_level is None else int(max_level),
            hierarchy_params=dict(data.get("hierarchy_params", {})),
        )


@dataclass(frozen=True)
class Plan:
    """Levels per quasi-identifier under the agreed criteria (what `apply_plan` carries out)."""

    criteria: Criteria
    quasi_identifiers: tuple[QuasiIdentifier, ...]
    levels: Mapping[str, int]
    sensitive: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        names = [q.column for q in self.quasi_identifiers]
        missing = [n for n in names if n not in self.levels]
        extra = [n for n in self.levels if n not in names]
        if missing or extra:
            raise IplosError(
                f"anonymisation plan: levels must name every quasi-identifier once "
                f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(extra) or 'none'})"
            )
        for q in self.quasi_identifiers:
            level = self.levels[q.column]
            if level < q.min_level:
                raise IplosError(
                    f"anonymisation plan: {q.column} at level {level} is finer than the required level {q.min_level}"
                )

    def with_levels(self, levels: Mapping[str, int], note: str = "") -> Plan:
        """The same plan with other levels (a counter-proposal)."""
        merged = {**self.levels, **levels}
        return Plan(self.criteria, self.quasi_identifiers, merged, self.sensitive, note)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": self.criteria.to_dict(),
            "quasi_identifiers": [q.to_dict() for q in self.quasi_identifiers],
            "levels": dict(self.levels),
            "sensitive": list(self.sensitive),
            "note": self.note,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        try:
            return cls(
                criteria=Criteria.from_dict(data.get("criteria", {})),
                quasi_identifiers=tuple(QuasiIdentifier.from_dict(q) for q in data["quasi_identifiers"]),
                levels={str(k): int(v) for k, v in data["levels"].items()},
                sensitive=tuple(data.get("sensitive", ())),
                note=str(data.get("note", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IplosError(f"anonymisation plan is malformed: {exc}") from None
