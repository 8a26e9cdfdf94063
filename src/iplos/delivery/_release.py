"""The release: the anonymised table with what a researcher needs to read it, ready to be written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

Kind = Literal["integer", "float", "string", "date"]
SERIAL = "lopenr"


@dataclass(frozen=True)
class Criteria:
    """The agreed privacy criteria: k-anonymity (Sweeney 2002) counted in persons, optionally distinct
    l-diversity on the sensitive columns (Machanavajjhala et al. 2007), and the largest share of
    records that may be suppressed."""

    k: int = 5
    max_suppressed: float = 0.05
    l: int | None = None  # noqa: E741  (the letter of the literature)

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "l": self.l, "max_suppressed": self.max_suppressed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Criteria:
        l_value = data.get("l")
        return cls(
            k=int(data.get("k", 5)),
            max_suppressed=float(data.get("max_suppressed", 0.05)),
            l=None if l_value is None else int(l_value),
        )


@dataclass(frozen=True)
class ColumnInfo:
    """One delivered column: labels, origin, code list and the generalization applied to it."""

    name: str
    label: str
    kind: Kind
    role: str
    source: str = ""
    derivation: str = ""
    value_labels: Mapping[str, str] = field(default_factory=dict)
    codelist: str | None = None
    generalization: str | None = None
    level: int = 0
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.kind,
            "role": self.role,
            "source": self.source,
            "derivation": self.derivation,
            "codelist": self.codelist,
            "value_labels": dict(self.value_labels),
            "generalization": self.generalization,
            "level": self.level,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class Release:
    """An anonymised extract with its column descriptions and the figures of its anonymisation.

    `data` has `lopenr` first; `quasi_identifiers` and `sensitive` name columns of `data`.
    `summary` holds what the disclosure report shows (risk before and after, suppression, levels).
    """

    case_id: str
    delivery_id: str
    data: pd.DataFrame
    columns: tuple[ColumnInfo, ...]
    quasi_identifiers: tuple[str, ...]
    sensitive: tuple[str, ...]
    criteria: Criteria
    records_before: int
    summary: Mapping[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> ColumnInfo:
        for info in self.columns:
            if info.name == name:
                return info
        raise KeyError(name)
