"""A synthetic IPLOS register (and KPR years) with linkable registers, calibrated to published figures.

- `generate(settings, scale, seed, years, kpr_years, progress) -> SynthSummary` writes the register
  tables of docs/registers.md (iplos/kpr: person, tjeneste, funksjon, diagnose; kpr.kontakt, everyone
  with a municipal health contact; dar.dodsfall, npr.episode, ssb.befolkning), the key holder's
  identity list and keys.
- `report(settings) -> list[CalibrationRow]` measures the written files against the published
  figures they target.
"""

from __future__ import annotations

from iplos.synth._generate import Progress, SynthSummary, generate
from iplos.synth._report import CalibrationRow, report

__all__ = ["CalibrationRow", "Progress", "SynthSummary", "generate", "report"]
