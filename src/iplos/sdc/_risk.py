"""Re-identification risk of a frequency table (class-size based, after ARX's risk models).

- prosecutor risk of a record: 1/f, f its class size in the sample (the attacker knows the person
  is in the data);
- journalist risk: 1/F, F the class size in the population (equal to prosecutor without a population);
- marketer risk: the expected share of records re-identified when all are matched, the mean over
  records of 1/F (classes/n without a population).
Highest and average over records, and the share of records whose risk exceeds `threshold`, are
reported (El Emam, "Guide to the De-Identification of Personal Health Information", 2013).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.errors import IplosError
from iplos.sdc._criteria import equal_distance, ordered_distance
from iplos.sdc._frequency import FrequencyTable
from iplos.sdc._suda import SudaReport, suda

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RiskMeasure:
    """One attacker model: highest and average record risk, share of records above the threshold."""

    highest: float
    average: float
    share_above_threshold: float


@dataclass(frozen=True)
class SensitiveReport:
    """Diversity and closeness of one sensitive attribute over the classes (worst class)."""

    attribute: str
    distinct_l: int
    entropy_l: float
    t_equal: float
    t_ordered: float


@dataclass(frozen=True)
class RiskReport:
    """Risk of a table with chosen quasi-identifiers; see module doc for the measures."""

    n_records: int
    n_classes: int
    k: int
    sample_uniques: int
    class_size_histogram: dict[int, int]
    threshold: float
    prosecutor: RiskMeasure
    journalist: RiskMeasure
    marketer: float
    sensitive: tuple[SensitiveReport, ...] = ()
    suda: SudaReport | None = None
    population_uniques: int | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON reports."""
        from dataclasses import asdict

        return asdict(self)


def class_sizes(freq: FrequencyTable) -> tuple[IntArray, IntArray]:
    """Class index of each row and the size of each class (classes = distinct QI codes)."""
    if not freq.codes:
        return np.zeros(freq.n_rows, dtype=np.int64), np.array([freq.n_records], dtype=np.int64)
    if not freq.sensitive and freq.n_rows and freq.ascending:
        # Rows sorted and distinct on the quasi-identifiers: each row is a class.
        return np.arange(freq.n_rows, dtype=np.int64), freq.counts.astype(np.int64)
    radices = [int(c.max(initial=0)) + 1 for c in freq.codes]
    if float(np.prod(radices, dtype=np.float64)) < 2.0**62:
        key = np.zeros(freq.n_rows, dtype=np.int64)
        for col, radix in zip(freq.codes, radices, strict=True):
            key *= radix
            key += col
        _, inverse = np.unique(key, return_inverse=True)
    else:
        _, inverse = np.unique(np.stack(freq.codes, axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return inverse, np.bincount(inverse, weights=freq.counts).astype(np.int64)


def measure(record_risk: npt.NDArray[np.float64], weights: IntArray, threshold: float) -> RiskMeasure:
    total = int(weights.sum())
    if total == 0:
        return RiskMeasure(0.0, 0.0, 0.0)
    return RiskMeasure(
        highest=float(record_risk.max()),
        # Multiply-and-sum, not np.dot: OpenBLAS starts threads for long vectors whose spinning
        # cost 0.2 s of CPU per run at a million classes (and its sum depends on the thread count).
        average=float((record_risk * weights).sum() / total),
        share_above_threshold=float(weights[record_risk > threshold].sum() / total),
    )


def assess_risk(
    freq: FrequencyTable,
    population: FrequencyTable | None = None,
    threshold: float = 0.2,
    with_suda: bool = True,
) -> RiskReport:
    """Measure re-identification risk; `population` holds population counts per QI combination."""
    inverse, sizes = class_sizes(freq)
    n = freq.n_records
    classes = int(sizes.shape[0])
    hist_keys, hist_counts = _histogram(sizes)
    prosecutor = measure(1.0 / np.maximum(sizes, 1), sizes, threshold)
    journalist = prosecutor
    marketer = classes / n if n else 0.0
    population_uniques = None
    if population is not None:
        pop_sizes = _population_sizes(freq, inverse, sizes, population)
        journalist = measure(1.0 / pop_sizes, sizes, threshold)
        marketer = float(np.dot(sizes, 1.0 / pop_sizes) / n) if n else 0.0
        population_uniques = int(sizes[pop_sizes == 1].sum())
    sensitive = tuple(_sensitive_report(freq, j, inverse, sizes) for j in range(len(freq.sensitive)))
    return RiskReport(
        n_records=n,
        n_classes=classes,
        k=int(sizes.min()) if classes else 0,
        sample_uniques=int((sizes == 1).sum()),
        class_size_histogram={int(a): int(b) for a, b in zip(hist_keys, hist_counts, strict=True)},
        threshold=threshold,
        prosecutor=prosecutor,
        journalist=journalist,
        marketer=marketer,
        sensitive=sensitive,
        suda=suda(freq) if with_suda else None,
        population_uniques=population_uniques,
    )


def _histogram(sizes: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct class sizes and how many classes have each (counting, not sorting)."""
    if not sizes.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if int(sizes.max()) > 4 * sizes.shape[0] + 1024:  # few, large classes: sorting is cheaper
        keys, counts_sorted = np.unique(sizes, return_counts=True)
        return keys.astype(np.int64), counts_sorted.astype(np.int64)
    counts = np.bincount(sizes)
    present = np.flatnonzero(counts)
    return present.astype(np.int64), counts[present].astype(np.int64)


def risk_from_class_sizes(sizes: IntArray, threshold: float = 0.2) -> RiskReport:
    """The class-size measures alone (no population, sensitive attributes or SUDA)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = int(sizes.sum())
    hist_keys, hist_counts = _histogram(sizes)
    prosecutor = measure(1.0 / np.maximum(sizes, 1), sizes, threshold)
    return RiskReport(
        n_records=n,
        n_classes=int(sizes.shape[0]),
        k=int(sizes.min()) if sizes.size else 0,
        sample_uniques=int((sizes == 1).sum()),
        class_size_histogram={int(a): int(b) for a, b in zip(hist_keys, hist_counts, strict=True)},
        threshold=threshold,
        prosecutor=prosecutor,
        journalist=prosecutor,
        marketer=sizes.shape[0] / n if n else 0.0,
    )


def _population_sizes(
    freq: FrequencyTable, inverse: IntArray, sizes: IntArray, population: FrequencyTable
) -> npt.NDArray[np.float64]:
    if population.quasi_identifiers != freq.quasi_identifiers:
        raise IplosError(
            "the population table must have the same quasi-identifiers as the sample, in the same order"
        )
    radices = [
        int(max(a.max(initial=0), b.max(initial=0))) + 1
        for a, b in zip(freq.codes, population.codes, strict=True)
    ]

    def keys(codes: tuple[npt.NDArray[np.integer[Any]], ...]) -> IntArray:
        key = np.zeros(codes[0].shape[0] if codes else 0, dtype=np.int64)
        for col, radix in zip(codes, radices, strict=True):
            key = key * radix + col
        return key

    pop_keys, pop_inverse = np.unique(keys(population.codes), return_inverse=True)
    pop_counts = np.bincount(pop_inverse.reshape(-1), weights=population.counts).astype(np.int64)
    class_keys = np.zeros(sizes.shape[0], dtype=np.int64)
    class_keys[inverse] = keys(freq.codes)
    pos = np.clip(np.searchsorted(pop_keys, class_keys), 0, max(len(pop_keys) - 1, 0))
    found = pop_keys[pos] == class_keys if len(pop_keys) else np.zeros(sizes.shape[0], dtype=np.bool_)
    pop = np.where(found, pop_counts[pos] if len(pop_keys) else 0, 0)
    if np.any(pop < sizes):
        raise IplosError("the population table has fewer records than the sample for some combinations")
    return pop.astype(np.float64)


class _PairsView:
    """A `ClassView` over (class, value, count) pairs of one sensitive attribute."""

    def __init__(
        self,
        attribute: str,
        sizes: IntArray,
        pairs: tuple[IntArray, IntArray, IntArray],
        q: FloatArray,
        labels: tuple[str, ...] = (),
    ):
        self.attribute = attribute
        self._sizes = sizes
        self._pairs = pairs
        self._q = q
        self._labels = labels

    @property
    def sizes(self) -> IntArray:
        return self._sizes

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        return self._pairs

    def distribution(self, attribute: str) -> FloatArray:
        return self._q

    def labels(self, attribute: str) -> tuple[str, ...]:
        return self._labels


def _sensitive_report(freq: FrequencyTable, j: int, inverse: IntArray, sizes: IntArray) -> SensitiveReport:
    m = len(freq.sensitive_labels[j])
    pair = inverse * m + freq.sensitive_codes[j]
    keys, pair_inverse = np.unique(pair, return_inverse=True)
    counts = np.bincount(pair_inverse.reshape(-1), weights=freq.counts).astype(np.int64)
    cls, val = keys // m, keys % m
    distinct = np.bincount(cls, minlength=sizes.shape[0])
    p = counts / sizes[cls]
    entropy = -np.bincount(cls, weights=p * np.log(p), minlength=sizes.shape[0])
    q = np.bincount(freq.sensitive_codes[j], weights=freq.counts, minlength=m) / max(freq.n_records, 1)
    view = _PairsView(freq.sensitive[j], sizes, (cls, val, counts), q, freq.sensitive_labels[j])
    return SensitiveReport(
        attribute=freq.sensitive[j],
        distinct_l=int(distinct.min()),
        entropy_l=float(np.exp(entropy.min())),
        t_equal=float(equal_distance(view, view.attribute).max()),
        t_ordered=float(ordered_distance(view, view.attribute).max()),
    )
