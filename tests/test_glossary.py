"""The glossary names identifiers that exist: commands, hierarchies, registers, tables."""

from __future__ import annotations

import re
from pathlib import Path

from iplos.cases import COMMAND_TYPES
from iplos.catalog import catalog, hierarchies_for

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"


def _cells() -> list[str]:
    rows = [
        line.split("|") for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("| ")
    ]
    return [r[3] for r in rows[1:] if len(r) > 3]


def test_commands_named_in_the_glossary_exist() -> None:
    for cell in _cells():
        if "command" in cell:
            for name in re.findall(r"`(\w+)`", cell.split("command", 1)[1]):
                assert name in COMMAND_TYPES, f"glossary names command {name!r}, which does not exist"


def test_hierarchies_and_registers_named_in_the_glossary_exist() -> None:
    known_hierarchies = {h for v in catalog().variables() for h in hierarchies_for(v.name)} | set(
        hierarchies_for("alder")
    )
    registers = {r.name for r in catalog().registers}
    for cell in _cells():
        for name in re.findall(r"hierarchy `(\w+)`", cell):
            assert name in known_hierarchies, f"glossary names hierarchy {name!r}, which does not exist"
        for name in re.findall(r"register `(\w+)`", cell):
            assert name in registers, name
