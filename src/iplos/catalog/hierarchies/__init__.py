"""The built-in generalization hierarchies and the registry that finds them by column name.

Each builder returns a strictly nesting `Hierarchy` (see `iplos.catalog.hierarchy`); the registry
`hierarchy_for(column, name=None, **params)` builds and caches them, `hierarchies_for(column)`
lists what applies to a column. Region hierarchies come from `iplos.catalog.regions`.
"""

from __future__ import annotations

from iplos.catalog.hierarchies._coded import codelist_hierarchy, functional_score_hierarchy, service_hierarchy
from iplos.catalog.hierarchies._dates import DATE_FIRST, DATE_LAST, date_hierarchy
from iplos.catalog.hierarchies._diagnosis import (
    DiagnosisCode,
    diagnosis_title,
    icd10_codes,
    icd10_hierarchy,
    icpc2_codes,
    icpc2_component_hierarchy,
    icpc2_hierarchy,
    normalise_icd10,
)
from iplos.catalog.hierarchies._numeric import (
    AGE_MAX,
    BIRTH_YEAR_FIRST,
    BIRTH_YEAR_LAST,
    age_hierarchy,
    age_ssb_hierarchy,
    birth_year_hierarchy,
    birth_year_ssb_hierarchy,
    ssb_age_group,
)
from iplos.catalog.hierarchies._registry import (
    ALIASES,
    BUILDERS,
    hierarchies_for,
    hierarchy_for,
    region_centrality_hierarchy,
    region_hierarchy,
)

__all__ = [
    "AGE_MAX",
    "ALIASES",
    "BIRTH_YEAR_FIRST",
    "BIRTH_YEAR_LAST",
    "BUILDERS",
    "DATE_FIRST",
    "DATE_LAST",
    "DiagnosisCode",
    "age_hierarchy",
    "age_ssb_hierarchy",
    "birth_year_hierarchy",
    "birth_year_ssb_hierarchy",
    "codelist_hierarchy",
    "date_hierarchy",
    "diagnosis_title",
    "functional_score_hierarchy",
    "hierarchies_for",
    "hierarchy_for",
    "icd10_codes",
    "icd10_hierarchy",
    "icpc2_codes",
    "icpc2_component_hierarchy",
    "icpc2_hierarchy",
    "normalise_icd10",
    "region_centrality_hierarchy",
    "region_hierarchy",
    "service_hierarchy",
    "ssb_age_group",
]
