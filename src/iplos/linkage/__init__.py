"""The trusted third party's linkage: from an approved case to an extract with project serial numbers.

- `LinkageRequest` (with `Population` and `VariableRef`) says what an approved case asks for;
  `check_approvals(request)` lists the registers involved that have no recorded approval.
- `link(engine, keys, request)` runs the linkage in the engine (DuckDB or Spark) through the key
  holder's pseudonym mapping and returns a `LinkedExtract` with a `LinkageReport`.
- `link_tables(engine, keys, request)` links into several tables keyed by the same `lopenr` (person,
  person-year, service spells, diagnoses, NPR episodes, cause of death): `LinkedTables`.
- `draw_serial_numbers(n, seed, exclude)` draws a delivery's random serial numbers (`lopenr`).
"""

from __future__ import annotations

from iplos.linkage._extract import LinkageCount, LinkageReport, LinkedExtract
from iplos.linkage._link import link
from iplos.linkage._query import OutputColumn
from iplos.linkage._request import (
    LINKABLE,
    LinkageRequest,
    Population,
    RecordFilter,
    ServiceFilter,
    VariableRef,
    base_register,
    check_approvals,
)
from iplos.linkage._serial import draw_serial_numbers
from iplos.linkage._tables import TABLE_KEYS, LinkedTables, link_tables

__all__ = [
    "LINKABLE",
    "TABLE_KEYS",
    "LinkageCount",
    "LinkageReport",
    "LinkageRequest",
    "LinkedExtract",
    "LinkedTables",
    "OutputColumn",
    "Population",
    "RecordFilter",
    "ServiceFilter",
    "VariableRef",
    "base_register",
    "check_approvals",
    "draw_serial_numbers",
    "link",
    "link_tables",
]
