"""From an approved case to delivered files: anonymisation plan, release gate, files, documents.

- `Processor(settings, service, actor)`: the processor's steps on a case (`propose`, `answer`,
  `deliver`, or `next_step`), each recorded on the case.
- `Criteria`, `Plan`, `QuasiIdentifier`: the agreed criteria and levels; `propose`/`evaluate` search
  and measure plans on an extract.
- `release_gate(folder, ...)` -> `GateResult`: the independent re-check and identifier scan;
  `ReleaseRefused` when it fails.
- `write_delivery(release, target, ...)` -> `Delivered`: every file, atomically, gate inside.
- `deliver_tables(...)`: protected aggregate tables delivered the same way.
"""

from __future__ import annotations

from iplos.delivery._anonymise import Evaluation, evaluate, propose
from iplos.delivery._gate import GateResult, Measure, ReleaseRefused, release_gate
from iplos.delivery._plan import Plan, QuasiIdentifier
from iplos.delivery._process import Processor, StepResult, forbidden_columns
from iplos.delivery._release import ColumnInfo, Criteria, Release
from iplos.delivery._scan import Finding, scan_folder
from iplos.delivery._write import Delivered, write_delivery

__all__ = [
    "ColumnInfo",
    "Criteria",
    "Delivered",
    "Evaluation",
    "Finding",
    "GateResult",
    "Measure",
    "Plan",
    "Processor",
    "QuasiIdentifier",
    "Release",
    "ReleaseRefused",
    "StepResult",
    "evaluate",
    "forbidden_columns",
    "propose",
    "release_gate",
    "scan_folder",
    "write_delivery",
]
