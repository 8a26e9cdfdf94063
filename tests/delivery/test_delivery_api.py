from __future__ import annotations

import ast
from pathlib import Path

import iplos.delivery


def test_public_api_is_pinned() -> None:
    assert sorted(iplos.delivery.__all__) == [
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


def test_release_gate_shares_no_code_with_the_search_or_the_transformation() -> None:
    """The gate and its scan import neither the search nor the plan's own transformation."""
    src = Path(iplos.delivery.__file__).parent
    for module in ("_gate.py", "_scan.py"):
        tree = ast.parse((src / module).read_text(encoding="utf-8"))
        names = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not any(n.startswith("iplos.sdc._") for n in names), names
        assert not names & {"iplos.delivery._transform", "iplos.delivery._anonymise", "iplos.sdc._search"}
        # Nor the release path's signatures and search: the gate counts person signatures itself.
        assert not any(n.startswith("iplos.release") for n in names), names
