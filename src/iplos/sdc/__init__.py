"""Disclosure control for microdata: risk measures, generalization, suppression, optimal search.

Pure numpy logic on a `FrequencyTable` of quasi-identifier combinations (DESIGN.md, "Frequency
table first"); whoever holds the rows (the engine, the command line) builds the table and applies
the chosen transformation. Vocabulary after ARX (Prasser & Kohlmayer 2015):

- `FrequencyTable`: distinct combinations with counts and sensitive values.
- criteria: `KAnonymity`, `DistinctLDiversity`, `EntropyLDiversity`, `RecursiveCLDiversity`,
  `EqualTCloseness`, `OrderedTCloseness`, `HierarchicalTCloseness`.
- utility metrics: `Loss`, `NonUniformEntropy`, `Discernibility`, `AECS`, `Precision`.
- `search(freq, hierarchies, SearchConfig(...)) -> SearchResult`: the optimal transformation.
- `assess_risk(freq, population=None) -> RiskReport`: re-identification risk and its drivers.
- `population_uniqueness(class_sizes, population_size=...) -> PopulationUniqueness`: population
  uniques of a sample extract (Pitman, Zayatz, SNB, Dankar's rule).
- `generalize`, `local_suppression`: transformations; `check_release`: the independent re-check.
- `local_recoding(freq, hierarchies, SearchConfig(...)) -> LocalRecoding`: classes generalised to
  levels of their own (Mondrian-style partitioning), for less loss than the global optimum.
- `NodeMeasure`: the metrics of a node when the suppressed records are chosen outside the search
  (person-level release); `encode_hierarchy` / `EncodedHierarchy`: hierarchies as integer codes.
"""

from __future__ import annotations

from iplos.catalog.hierarchy import Hierarchy
from iplos.sdc._check import CheckReport, check_release
from iplos.sdc._criteria import (
    Criterion,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    HierarchicalTCloseness,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
)
from iplos.sdc._encoding import EncodedHierarchy, encode_hierarchy
from iplos.sdc._evaluate import NodeResult
from iplos.sdc._frequency import FrequencyTable
from iplos.sdc._local import LocalSuppression, local_suppression
from iplos.sdc._measure import NodeMeasure
from iplos.sdc._metrics import AECS, Discernibility, Loss, Metric, NonUniformEntropy, Precision, metric_named
from iplos.sdc._population import PopulationUniqueness, population_uniqueness
from iplos.sdc._recoding import LocalRecoding, local_recoding
from iplos.sdc._risk import RiskMeasure, RiskReport, SensitiveReport, assess_risk, risk_from_class_sizes
from iplos.sdc._search import (
    TIE_TOLERANCE,
    SearchConfig,
    SearchResult,
    better_node,
    level_bounds,
    node_key,
    search,
)
from iplos.sdc._suda import SudaReport, suda
from iplos.sdc._transform import generalize

__all__ = [
    "AECS",
    "TIE_TOLERANCE",
    "CheckReport",
    "Criterion",
    "Discernibility",
    "DistinctLDiversity",
    "EncodedHierarchy",
    "EntropyLDiversity",
    "EqualTCloseness",
    "FrequencyTable",
    "HierarchicalTCloseness",
    "Hierarchy",
    "KAnonymity",
    "LocalRecoding",
    "LocalSuppression",
    "Loss",
    "Metric",
    "NodeMeasure",
    "NodeResult",
    "NonUniformEntropy",
    "OrderedTCloseness",
    "PopulationUniqueness",
    "Precision",
    "RecursiveCLDiversity",
    "RiskMeasure",
    "RiskReport",
    "SearchConfig",
    "SearchResult",
    "SensitiveReport",
    "SudaReport",
    "assess_risk",
    "better_node",
    "check_release",
    "encode_hierarchy",
    "generalize",
    "level_bounds",
    "local_recoding",
    "local_suppression",
    "metric_named",
    "node_key",
    "population_uniqueness",
    "risk_from_class_sizes",
    "search",
    "suda",
]
