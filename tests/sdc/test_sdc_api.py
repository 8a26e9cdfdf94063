"""The public API of iplos.sdc is pinned; the package imports without pandas or drivers."""

from __future__ import annotations

import subprocess
import sys

import iplos.sdc


def test_all_is_pinned() -> None:
    assert sorted(iplos.sdc.__all__) == sorted(
        [
            "AECS",
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
            "TIE_TOLERANCE",
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
    )


def test_import_is_light() -> None:
    code = (
        "import sys, iplos.sdc; print(sorted(m for m in ('pandas', 'duckdb', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
