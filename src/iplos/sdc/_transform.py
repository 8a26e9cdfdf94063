"""Applying a transformation to a frequency table: generalise to levels, suppress records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError
from iplos.sdc._encoding import encode_hierarchy, resolve_hierarchies
from iplos.sdc._frequency import FrequencyTable, group_rows

IntArray = npt.NDArray[np.int64]


def generalize(
    freq: FrequencyTable,
    hierarchies: Mapping[str, Hierarchy] | Sequence[Hierarchy],
    levels: Mapping[str, int] | Sequence[int],
    suppressed_rows: npt.NDArray[np.bool_] | None = None,
) -> tuple[FrequencyTable, tuple[tuple[str, ...], ...]]:
    """Generalise each quasi-identifier to its level; suppressed rows get the extra code '*'.

    Returns the regrouped table, whose codes index the returned labels per quasi-identifier (the
    level's labels, with '*' appended when some row is suppressed and '*' is not a label already).
    """
    hs = [encode_hierarchy(h) for h in resolve_hierarchies(freq.quasi_identifiers, hierarchies)]
    if isinstance(levels, Mapping):
        missing = [q for q in freq.quasi_identifiers if q not in levels]
        if missing:
            raise IplosError(f"no level given for {', '.join(missing)}")
        chosen = [int(levels[q]) for q in freq.quasi_identifiers]
    else:
        chosen = [int(v) for v in levels]
    codes: list[IntArray] = []
    labels: list[tuple[str, ...]] = []
    for h, level, leaf in zip(hs, chosen, freq.codes, strict=True):
        if not 0 <= level < h.height:
            raise IplosError(f"hierarchy {h.name!r} has levels 0..{h.height - 1}, not {level}")
        mapped = h.leaf_codes[level][leaf]
        names = h.labels[level]
        if suppressed_rows is not None and suppressed_rows.any():
            star = names.index("*") if "*" in names else len(names)
            if star == len(names):
                names = (*names, "*")
            mapped = np.where(suppressed_rows, star, mapped)
        codes.append(mapped.astype(np.int64))
        labels.append(names)
    radices = [len(lab) for lab in labels] + [len(lab) for lab in freq.sensitive_labels]
    grouped, counts = group_rows([*codes, *freq.sensitive_codes], radices, freq.counts)
    q = len(codes)
    table = FrequencyTable(
        quasi_identifiers=freq.quasi_identifiers,
        codes=tuple(grouped[:q]),
        counts=counts,
        sensitive=freq.sensitive,
        sensitive_codes=tuple(grouped[q:]),
        sensitive_labels=freq.sensitive_labels,
    )
    return table, tuple(labels)
