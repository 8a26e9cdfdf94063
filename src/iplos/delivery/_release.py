"""The release: the anonymised table with what a researcher needs to read it, ready to be written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from iplos.release import Criteria

__all__ = ["SERIAL", "ColumnInfo", "Criteria", "Kind", "Release"]

Kind = Literal["integer", "float", "string", "date"]
SERIAL = "lopenr"


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
    group_codes: Mapping[str, int] = field(default_factory=dict)  # numeric groups in Stata/SPSS

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
            **({"stata_spss_codes": dict(self.group_codes)} if self.group_codes else {}),
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
    persons_before: int | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    stem: str = "extract"  # the data files' name
    table: str = "person_year"  # which of the delivery's tables this is
    # The attacker's bound on the other tables' rows (`iplos.release.Plan.items_known`); the gate
    # counts (k, k^m) keys across the tables with it (None: the full multiset).
    items_known: int | None = None

    def column(self, name: str) -> ColumnInfo:
        for info in self.columns:
            if info.name == name:
                return info
        raise KeyError(name)
