"""Turn a linked extract and an evaluated plan into a `Release`: labelled columns and report figures."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from iplos.catalog import Hierarchy
from iplos.delivery._anonymise import Evaluation, histograms
from iplos.delivery._hierarchies import MISSING, catalog_variable, code_labels, level_labels
from iplos.delivery._plan import Plan, QuasiIdentifier
from iplos.delivery._release import SERIAL, ColumnInfo, Kind, Release
from iplos.linkage import LinkedExtract
from iplos.release._items import TABLE

_INTEGER = ("int8", "int16", "int32", "int64")
_LOWER = re.compile(r"^(\d+)(?:\D|$)")


def _kind(dtype: str, generalised: bool) -> Kind:
    if generalised:
        return "string"
    if dtype in _INTEGER:
        return "integer"
    if dtype in ("double", "float", "float64", "float32"):
        return "float"
    if dtype == "date":
        return "date"
    return "string"


def typed(series: pd.Series, kind: Kind) -> pd.Series:
    if kind == "integer":
        return series.astype("Int64") if series.isna().any() else series.astype("int64")
    if kind == "float":
        return series.astype("float64")
    if kind == "string":
        return series.astype(object).where(series.notna(), None)
    return series


_DERIVED_LABELS = {
    "alder": "Alder ved utgangen av årgangen",
    "antall_tjenester": "Antall ulike tjenester i årgangen",
    "npr_episoder": "Antall episoder i NPR i årgangen",
}


def column_info(
    name: str,
    source: str,
    dtype: str,
    level: int,
    hierarchy: Hierarchy | None,
    q: QuasiIdentifier | None,
    years: Sequence[int],
    derivation: str = "",
    levels_used: Sequence[int] | None = None,
) -> ColumnInfo:
    """The codebook entry of one delivered column (`source` is `register.table.column`).

    `levels_used` are the levels a locally recoded column mixes (each class of persons at one of them).
    """
    variable = catalog_variable(source, name.split(".")[-1])
    used = tuple(levels_used) if levels_used else (level,)
    generalised = max(used) > 0
    dtype = "date" if dtype.startswith("date") else dtype
    mixed = len(used) > 1
    numeric = _group_codes(hierarchy, level) if generalised and not mixed and hierarchy is not None else {}
    kind = _kind("int16" if name in _DERIVED_LABELS else dtype, generalised)
    label = _DERIVED_LABELS.get(name) or (variable.label_nb if variable is not None else name)
    generalization = None
    labels: dict[str, str] = {}
    if q is not None and hierarchy is not None:
        h = hierarchy
        generalization = (
            f"{q.hierarchy}: {h.level_names[level]} (level {level} of {h.height - 1})"
            if level
            else f"none (hierarchy {q.hierarchy}, levels up to {h.level_names[-2] if h.height > 2 else 'all'})"
        )
        labels = level_labels(q, level, years)
        if mixed:
            names = ", ".join(h.level_names[v] for v in used)
            generalization = f"{q.hierarchy}: local recoding, each class of persons at one of: {names}"
            labels = {code: text for v in used for code, text in level_labels(q, v, years).items()}
    if not generalised and not labels and name not in _DERIVED_LABELS:
        labels = code_labels(variable)
    role = (
        "sensitive"
        if name in ("antall_tjenester", "npr_episoder")
        else (variable.role if variable else "other")
    )
    return ColumnInfo(
        name=name,
        label=label,
        kind=kind,
        role=role,
        source=source,
        derivation=derivation,
        value_labels=labels,
        codelist=variable.codelist if variable is not None and not generalised else None,
        generalization=generalization,
        level=level,
        unit=variable.unit if variable is not None else None,
        group_codes=numeric,
    )


def _group_codes(hierarchy: Hierarchy, level: int) -> dict[str, int]:
    """A numeric grouping's values as numbers: each group's lower bound ('65-69' -> 65, '90+' -> 90).

    Stata and SPSS get these labelled numbers (sorting as the groups do) instead of strings; Parquet
    and CSV keep the group's text. Empty unless every value of the level (missing aside) starts with
    a distinct whole number: a level such as '*' or a fylke name stays text everywhere.
    """
    out: dict[str, int] = {}
    for value in hierarchy.values(level):
        if value == MISSING:
            continue
        match = _LOWER.match(value)
        if match is None:
            return {}
        out[value] = int(match.group(1))
    return out if len(set(out.values())) == len(out) else {}


def build_release(
    extract: LinkedExtract,
    evaluation: Evaluation,
    hierarchies: Mapping[str, Hierarchy],
    delivery_id: str,
    years: Sequence[int],
) -> Release:
    """The release of an agreed plan: generalised data with codebook entries per column."""
    plan = evaluation.plan
    data = evaluation.applied.data.copy()
    qis = {q.column: q for q in plan.quasi_identifiers}
    infos = [
        ColumnInfo(
            SERIAL,
            "Løpenummer (prosjektspesifikt for denne leveransen)",
            "integer",
            "serial",
            derivation="random serial number drawn for this delivery; cannot be linked to other deliveries",
        ),
        ColumnInfo("aargang", "Årgang", "integer", "quasi_identifier", derivation="the register year"),
    ]
    for out in extract.columns:
        q = qis.get(out.name)
        local = evaluation.outcome.local
        # A local plan releases each class at levels of its own: a column of mixed levels is text.
        used = local.levels_used(out.name) if local is not None and q is not None else None
        infos.append(
            column_info(
                out.name,
                str(out.source),
                str(extract.table.schema.field(out.name).type),
                plan.levels.get(out.name, 0),
                hierarchies[out.name] if q is not None else None,
                q,
                years,
                out.derivation,
                levels_used=used,
            )
        )
    for info in infos:
        data[info.name] = typed(data[info.name], info.kind)
    data = data[[i.name for i in infos]]
    summary: dict[str, Any] = {**evaluation.results(), **histograms(evaluation)}
    return Release(
        case_id=extract.case_id,
        delivery_id=delivery_id,
        data=data,
        columns=tuple(infos),
        quasi_identifiers=tuple(q.column for q in plan.quasi_identifiers),
        sensitive=tuple(plan.sensitive),
        criteria=plan.criteria,
        records_before=evaluation.records_before,
        persons_before=evaluation.persons_before if plan.criteria.unit == "person" else None,
        summary=summary,
    )


def _attacker(plan: Plan) -> dict[str, Any]:
    """The attacker model of the report: the known columns and, with several tables, the bound m."""
    several = TABLE in plan.columns
    model = "prosecutor: knows the known columns of every person in every year they are present"
    if several:
        model = "prosecutor: " + plan.describe_attacker()
    return {
        "knows": list(plan.known),
        "items_known": plan.items_known if several else None,
        "model": model,
    }


def disclosure_report(
    release: Release,
    evaluation: Evaluation,
    hierarchies: Mapping[str, Hierarchy],
    rounds: Sequence[Mapping[str, Any]],
    search: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The disclosure report's content (the gate's verdict is added when it has run)."""
    plan = evaluation.plan
    return {
        "case": release.case_id,
        "delivery": release.delivery_id,
        "criteria": plan.criteria.to_dict(),
        "criteria_text": plan.criteria.describe(),
        "unit": plan.criteria.unit,
        "attacker": _attacker(plan),
        "quasi_identifiers": [
            {
                "column": q.column,
                "hierarchy": q.hierarchy,
                "level": plan.levels[q.column],
                "level_name": hierarchies[q.column].level_names[plan.levels[q.column]],
                "min_level": q.min_level,
            }
            for q in plan.quasi_identifiers
        ],
        "sensitive": list(plan.sensitive),
        "records_before": evaluation.records_before,
        "records_after": len(release.data),
        "suppressed": evaluation.applied.suppressed,
        "persons_before": evaluation.outcome.n_persons,
        "suppressed_persons": evaluation.outcome.suppressed_persons,
        "suppressed_share": evaluation.suppressed_share,
        "risk_before": evaluation.risk_before(),
        "risk_after": evaluation.risk_after(),
        **histograms(evaluation),
        "rounds": list(rounds),
        "search": dict(search or {}),
    }
