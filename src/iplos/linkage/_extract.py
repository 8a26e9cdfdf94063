"""What linkage hands back: the linked extract with project serial numbers, and the linkage report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from iplos.linkage._query import OutputColumn


@dataclass(frozen=True)
class LinkageCount:
    """Matched and unmatched persons of one register in one årgang.

    For IPLOS and KPR: persons of the approved population whose pseudonym the key holder knows
    (matched) or does not know (unmatched). For a linked register: persons of the population with a
    record in that register (matched) or without one (unmatched).
    """

    register: str
    aargang: int
    persons: int
    matched: int

    @property
    def unmatched(self) -> int:
        return self.persons - self.matched

    def to_dict(self) -> dict[str, Any]:
        return {
            "register": self.register,
            "aargang": self.aargang,
            "persons": self.persons,
            "matched": self.matched,
            "unmatched": self.unmatched,
        }


@dataclass(frozen=True)
class LinkageReport:
    """Matched and unmatched persons per register and årgang, and the size of the extract."""

    case_id: str
    backend: str
    counts: tuple[LinkageCount, ...]
    rows: int
    persons: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "backend": self.backend,
            "rows": self.rows,
            "persons": self.persons,
            "counts": [c.to_dict() for c in self.counts],
        }


@dataclass(frozen=True)
class LinkedExtract:
    """The approved extract: `lopenr`, `aargang` and the output columns, one row per person and årgang.

    `lopenr` are this delivery's serial numbers; no pseudonym or person number is left in `table`.
    """

    case_id: str
    table: pa.Table
    columns: tuple[OutputColumn, ...]
    report: LinkageReport

    @property
    def serial_numbers(self) -> frozenset[int]:
        return frozenset(self.table.column("lopenr").to_pylist())
