"""Classes given as a group index per frequency-table row, as the criteria see them (`ClassView`).

Local recoding judges candidate classes that no lattice node describes (the parts of a split, the
classes of a released table whose cells sit at different levels); this view lets the criteria of
`_criteria` judge them exactly as they judge a node's classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.sdc._criteria import Criterion

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class GroupView:
    """Classes numbered 0..n_groups-1; `groups[i]` is the class of row `rows[i]` of the table."""

    def __init__(
        self,
        groups: IntArray,
        n_groups: int,
        weights: IntArray,
        sensitive: dict[str, npt.NDArray[np.integer[Any]]],
        distributions: dict[str, FloatArray],
        labels: dict[str, tuple[str, ...]],
    ) -> None:
        self.groups = groups
        self.n_groups = n_groups
        self.weights = weights
        self.sensitive = sensitive
        self.distributions = distributions
        self._labels = labels
        self._sizes: IntArray | None = None

    @property
    def sizes(self) -> IntArray:
        if self._sizes is None:
            self._sizes = np.bincount(self.groups, weights=self.weights, minlength=self.n_groups).astype(
                np.int64
            )
        return self._sizes

    def histogram(self, attribute: str) -> tuple[IntArray, IntArray, IntArray]:
        values = self.sensitive[attribute].astype(np.int64)
        m = max(int(self.distributions[attribute].shape[0]), 1)
        key = self.groups * m + values
        uniq, inverse = np.unique(key, return_inverse=True)
        cnt = np.bincount(inverse.reshape(-1), weights=self.weights, minlength=uniq.shape[0]).astype(np.int64)
        return uniq // m, uniq % m, cnt

    def distribution(self, attribute: str) -> FloatArray:
        return self.distributions[attribute]

    def labels(self, attribute: str) -> tuple[str, ...]:
        return self._labels[attribute]


def passing_groups(view: GroupView, checks: Sequence[tuple[Criterion, str | None]]) -> BoolArray:
    """Which groups meet every (criterion, attribute) pair."""
    mask = np.ones(view.n_groups, dtype=np.bool_)
    for criterion, attribute in checks:
        mask &= criterion.passing(view, attribute)
    return mask
