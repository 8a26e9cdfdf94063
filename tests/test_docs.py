"""Docs that cannot drift: the CLI reference is generated from the commands and must be current."""

from __future__ import annotations

from pathlib import Path

from iplos.cli._docs import render

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run `python -m iplos.cli._docs > docs/cli.md`"
