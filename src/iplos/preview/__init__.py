"""Previews for the applicant before anything is filed (issue 14): no real data in a draft's preview.

- `risk_preview(case, synthetic_register())` -> `RiskPreview`: a draft's quasi-identifiers measured
  at the person level on a synthetic register (share in classes under k, uniques, expected
  re-identifications) and the coarsenings the release search finds would make the extract anonymous.
- `counter_consequences(case, plan, synthetic, register)` -> `Consequences`: a counter-proposal's
  suppressed persons, risk and loss, on the case's linked extract or else the synthetic register.
- `Previews(synthetic, register)`: both for the web, each case version's answer kept.
- `SyntheticRegister`, `synthetic_register()`: the small register the previews run on, made once
  per process.

Between `delivery` and `web` (DESIGN.md): it links and searches with the one release path.
"""

from __future__ import annotations

from iplos.preview._preview import (
    Coarsening,
    Consequences,
    PersonRisk,
    RiskPreview,
    as_if_granted,
    counter_consequences,
    risk_preview,
)
from iplos.preview._service import Previews
from iplos.preview._synthetic import SyntheticRegister, synthetic_register

__all__ = [
    "Coarsening",
    "Consequences",
    "PersonRisk",
    "Previews",
    "RiskPreview",
    "SyntheticRegister",
    "as_if_granted",
    "counter_consequences",
    "risk_preview",
    "synthetic_register",
]
