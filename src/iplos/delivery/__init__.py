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

from iplos.delivery._anonymise import Evaluation, alternatives, evaluate, propose
from iplos.delivery._case import Anonymisation, anonymisation_setup, linkage_request, required_levels
from iplos.delivery._documents import risk_from_sizes
from iplos.delivery._gate import GateResult, Measure, ReleaseRefused, release_gate
from iplos.delivery._plan import Plan, QuasiIdentifier
from iplos.delivery._process import Processor, StepResult, forbidden_columns
from iplos.delivery._release import ColumnInfo, Criteria, Release
from iplos.delivery._scan import Finding, scan_folder
from iplos.delivery._write import Delivered, write_delivery

__all__ = [
    "Anonymisation",
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
    "alternatives",
    "anonymisation_setup",
    "evaluate",
    "forbidden_columns",
    "linkage_request",
    "propose",
    "release_gate",
    "required_levels",
    "risk_from_sizes",
    "scan_folder",
    "write_delivery",
]
