"""A case's table delivery: the tables it asks for, or the standard ones, protected and gated.

With `Application.tables` the tables are made exactly as asked (`_requested.make_tables`),
protected jointly with the case's earlier releases in the release log, and recorded there once
delivered; a case that names none gets the standard tables at the agreed levels (`_tables`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from iplos.cases import Case
from iplos.cases.release_store import ReleaseLog
from iplos.config import Settings
from iplos.delivery._case import Anonymisation, granted_years
from iplos.delivery._plan import Plan
from iplos.delivery._requested import data_version_of, make_tables
from iplos.delivery._tables import TableSpec, protected_tables, table_specs, write_tables_delivery
from iplos.delivery._write import Delivered
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.sdc.tables import Release as TablesRelease


def deliver_tables(
    case_db_url: str,
    settings: Settings,
    case: Case,
    frame: pd.DataFrame,
    plan: Plan,
    setup: Anonymisation,
    delivery_id: str,
    target: Path,
    linkage_report: Mapping[str, Any],
    username: str,
    progress: Callable[[str], None],
    forbidden: frozenset[str] | None = None,
) -> Delivered:
    """Make, protect, write and gate the case's tables into `target`; log them once delivered."""
    from iplos.delivery._process import forbidden_columns  # the one list of never-delivered columns

    log = ReleaseLog(case_db_url)
    source = f"case {case.case_id}"
    try:
        version = data_version_of(settings.registers_dir)
        labels: Mapping[str, Mapping[str, Mapping[str, str]]] = {}
        linked_with: dict[str, list[str]] | None = None
        if case.content.tables:
            earlier = [
                TablesRelease.from_record(r.name, r.kind, r.statistic, r.dimensions, r.cells)
                for r in log.releases(source, version)
            ]
            produced = make_tables(frame, case, plan, setup.hierarchies, granted_years(case), earlier)
            failed = [p.request.name for p in produced if not p.passed]
            if failed:
                raise IplosError(
                    f"case {case.case_id}: the joint audit of {', '.join(failed)} with the earlier "
                    "releases finds a suppressed cell recoverable"
                )
            tables = [
                (
                    TableSpec(p.request.name, tuple((d.column, 0) for d in p.request.dimensions)),
                    p.result.table,
                )
                for p in produced
            ]
            labels = {p.request.name: p.labels for p in produced}
            linked_with = {p.request.name: list(p.result.report().get("linked_with", [])) for p in produced}
        else:
            specs = table_specs(plan, frame.columns)
            progress(f"protecting {len(specs)} tables (secondary suppression and audit)")
            tables = protected_tables(frame, plan, setup.hierarchies, specs)
        keys = KeyStore.open(settings)
        delivered = write_tables_delivery(
            tables,
            target,
            case_id=case.case_id,
            k=plan.criteria.k,
            keys_hex=[keys.key(r).secret_hex() for r in keys.registers],
            forbidden_columns=forbidden or forbidden_columns(),
            linkage_report=linkage_report,
            log_lines=[f"case {case.case_id}: table delivery {delivery_id} by {username}"],
            labels=labels,
            linked_with=linked_with,
        )
        if case.content.tables:
            for spec, pt in tables:
                record = TablesRelease.of(spec.name, pt).as_record()
                log.record(source=source, data_version=version, **record)
    finally:
        log.close()
    return delivered
