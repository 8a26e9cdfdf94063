from __future__ import annotations

import iplos.linkage


def test_public_api_is_pinned() -> None:
    assert sorted(iplos.linkage.__all__) == [
        "LINKABLE",
        "LinkageCount",
        "LinkageReport",
        "LinkageRequest",
        "LinkedExtract",
        "OutputColumn",
        "Population",
        "RecordFilter",
        "ServiceFilter",
        "VariableRef",
        "base_register",
        "check_approvals",
        "draw_serial_numbers",
        "link",
    ]
