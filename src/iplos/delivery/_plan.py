"""The anonymisation plan agreed with the applicant: the release package's one plan type.

The plan travels as JSON: it is what the processor proposes, what the applicant may counter, and what
the case records as agreed (`iplos.cases` checks its shape; `iplos.release.from_case` whether the
release can enforce it on the extract).
"""

from __future__ import annotations

from iplos.release import Plan, QuasiIdentifier

__all__ = ["Plan", "QuasiIdentifier"]
