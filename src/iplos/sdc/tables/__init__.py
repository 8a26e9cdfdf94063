"""Protected aggregate tables: build, suppress, audit, perturb, write.

- `Dimension`: a tree of categories whose root is the total (from a `Hierarchy` or flat).
- `build_table`: records -> a linked `Table` with every margin and subtotal.
- Rules (`MinCount`, `Dominance`, `PPercent`, `GroupDisclosure`) mark primary cells.
- `protect`: primary + secondary suppression ('optimal' MILP or 'fast' hypercubes) + audit.
- `audit`: attacker intervals by linear programming for any suppression pattern.
- `perturb_table` with a `PerturbationTable`: the cell key method.
- `write_table`, `read_table_csv`, `audit_file`: CSV/Excel/HTML output and audits of files.
- `Release`: a table as published (the release log's record); `protect_linked` protects a new
  table jointly with every earlier release of the same data, `audit_linked` audits several.
- `TableRequest` (with `DimensionRequest`): a table an application asks for; `produce_tables`
  builds, protects (jointly) and labels them.
"""

from __future__ import annotations

from iplos.sdc.tables._audit import AuditResult, audit
from iplos.sdc.tables._build import build_table
from iplos.sdc.tables._cellkey import PerturbationTable
from iplos.sdc.tables._dimension import TOTAL, Dimension
from iplos.sdc.tables._files import TableFile, audit_file, file_audit_report, read_table_csv
from iplos.sdc.tables._linked import LinkedResult, audit_linked, linked_audit_report, protect_linked
from iplos.sdc.tables._output import table_csv, write_report, write_table
from iplos.sdc.tables._protect import FLAG_NAMES, ProtectedTable, perturb_table, protect
from iplos.sdc.tables._protection import ProtectionLevels
from iplos.sdc.tables._release import Release, data_version, release_of_file
from iplos.sdc.tables._request import DimensionRequest, ProducedTable, TableRequest, produce_tables
from iplos.sdc.tables._rules import Dominance, GroupDisclosure, MinCount, PPercent, PrimaryResult, Rule
from iplos.sdc.tables._table import Table

__all__ = [
    "FLAG_NAMES",
    "TOTAL",
    "AuditResult",
    "Dimension",
    "DimensionRequest",
    "Dominance",
    "GroupDisclosure",
    "LinkedResult",
    "MinCount",
    "PPercent",
    "PerturbationTable",
    "PrimaryResult",
    "ProducedTable",
    "ProtectedTable",
    "ProtectionLevels",
    "Release",
    "Rule",
    "Table",
    "TableFile",
    "TableRequest",
    "audit",
    "audit_file",
    "audit_linked",
    "build_table",
    "data_version",
    "file_audit_report",
    "linked_audit_report",
    "perturb_table",
    "produce_tables",
    "protect",
    "protect_linked",
    "read_table_csv",
    "release_of_file",
    "table_csv",
    "write_report",
    "write_table",
]
