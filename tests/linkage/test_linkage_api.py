from __future__ import annotations

import iplos.linkage


def test_public_api_is_pinned() -> None:
    assert sorted(iplos.linkage.__all__) == [
        "LINKABLE",
        "LinkageCount",
        "LinkageReport",
        "LinkageRequest",
        "LinkedExtract",
        "LinkedTables",
        "OutputColumn",
        "Population",
        "RecordFilter",
        "ServiceFilter",
        "TABLE_KEYS",
        "VariableRef",
        "base_register",
        "check_approvals",
        "draw_serial_numbers",
        "link",
        "link_tables",
    ]
