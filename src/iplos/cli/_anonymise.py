"""The work behind `iplos anonymise`: load, search, transform every row, write, report."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from iplos.catalog.hierarchy import Hierarchy
from iplos.cli import _microdata_io as io
from iplos.errors import IplosError
from iplos.sdc import (
    Criterion,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    KAnonymity,
    OrderedTCloseness,
    RecursiveCLDiversity,
    RiskReport,
    SearchConfig,
    assess_risk,
    generalize,
    local_suppression,
    metric_named,
    risk_from_class_sizes,
    search,
)
from iplos.sdc._encoding import encode_hierarchy


def criteria_from_options(
    k: int,
    l: float | None,  # noqa: E741
    l_variant: str,
    t: float | None,
    t_variant: str,
    sensitive: list[str],
) -> list[Criterion]:
    """The criteria the options ask for; l and t apply to every sensitive column."""
    criteria: list[Criterion] = [KAnonymity(k)]
    if (l is not None or t is not None) and not sensitive:
        raise IplosError("--l and --t need at least one --sensitive column")
    if l is not None:
        variant = l_variant.strip().lower()
        if variant == "distinct":
            if l != int(l):
                raise IplosError(f"distinct l-diversity needs a whole number l, not {l}")
            criteria.append(DistinctLDiversity(int(l)))
        elif variant == "entropy":
            criteria.append(EntropyLDiversity(l))
        elif variant.startswith("recursive:"):
            try:
                c = float(variant.split(":", 1)[1])
            except ValueError:
                raise IplosError(f"--l-variant {l_variant!r}: expected recursive:C with a number C") from None
            criteria.append(RecursiveCLDiversity(c, int(l)))
        else:
            raise IplosError(f"--l-variant {l_variant!r}: choose distinct, entropy or recursive:C")
    if t is not None:
        if t_variant == "equal":
            criteria.append(EqualTCloseness(t))
        elif t_variant == "ordered":
            criteria.append(OrderedTCloseness(t))
        else:
            raise IplosError(f"--t-variant {t_variant!r}: choose equal or ordered")
    return criteria


def run_anonymise(
    *,
    input: Path,
    qis: list[str],
    hierarchies: dict[str, Hierarchy],
    sensitive: list[str],
    k: int,
    l: float | None,  # noqa: E741
    l_variant: str,
    t: float | None,
    t_variant: str,
    max_suppression: float,
    metric: str,
    min_levels: dict[str, int],
    max_levels: dict[str, int],
    local: bool,
    out: Path,
    all_nodes: bool,
    sep: str | None,
    started: float,
    load: Callable[..., tuple[Any, Any]],
) -> dict[str, Any]:
    """Run the whole command; returns the report. Nothing is written unless everything succeeded."""
    criteria = criteria_from_options(k, l, l_variant, t, t_variant, sensitive)
    if local and len(criteria) > 1:
        raise IplosError("--local-suppression reaches k-anonymity only; drop --l and --t")
    config = SearchConfig(
        criteria=tuple(criteria),
        max_suppressed=max_suppression,
        utility=metric_named(metric),
        min_levels=min_levels,
        max_levels=max_levels,
        list_all=all_nodes,
    )
    table, freq = load(input, qis, hierarchies, sensitive, sep)
    loaded = time.perf_counter()
    result = search(freq, hierarchies, config)
    searched = time.perf_counter()
    risk_before = assess_risk(freq, with_suda=False)  # now, while only the search's input is held

    encoded = [encode_hierarchy(hierarchies[q]) for q in qis]
    # Every row's code at its chosen level, read off the columns again (one lookup per row) rather
    # than kept from loading: leaf codes of every row would double the memory the search has.
    gen_rows: list[Any] = [
        io.leaf_codes(table, q, hierarchies[q], str(input), lookup=h.leaf_codes[level])
        for q, h, level in zip(qis, encoded, result.levels, strict=True)
    ]
    table = io.complete_table(input, table)
    cards = [h.cardinality(level) for h, level in zip(encoded, result.levels, strict=True)]
    key = _keys(gen_rows, cards, table.num_rows)
    local_info: dict[str, Any] | None = None
    if local:
        gen_freq, _ = generalize(freq, hierarchies, result.levels)
        ls = local_suppression(gen_freq, k)
        gen_key = np.zeros(gen_freq.n_rows, dtype=np.int64)
        for col, card in zip(gen_freq.codes, cards, strict=True):
            gen_key = gen_key * card + col
        order = np.argsort(gen_key)
        row_of = order[np.searchsorted(gen_key, key, sorter=order)]
        blanked = [codes[row_of] < 0 for codes in ls.codes]
        if ls.fully_blanked.any():
            # The first m records of a combination with fully_blanked = m lose every value.
            candidates = np.flatnonzero(ls.fully_blanked[row_of] > 0)
            groups = row_of[candidates]
            order = np.argsort(groups, kind="stable")
            sorted_groups = groups[order]
            first = np.searchsorted(sorted_groups, sorted_groups, side="left")
            rank = np.arange(sorted_groups.shape[0]) - first
            chosen_rows = candidates[order[rank < ls.fully_blanked[sorted_groups]]]
            for mask in blanked:
                mask[chosen_rows] = True
        local_info = {"cells_suppressed": ls.cells_suppressed, "cells_by_attribute": ls.cells_by_attribute}
        suppressed_rows = np.zeros(table.num_rows, dtype=np.bool_)
    else:
        supp_key = _keys(
            list(result.suppressed_classes), cards, result.suppressed_classes[0].shape[0] if qis else 0
        )
        space = float(np.prod(cards, dtype=np.float64)) if cards else 1.0
        if not supp_key.size:
            suppressed_rows = np.zeros(table.num_rows, dtype=np.bool_)
        elif space <= 1 << 26:
            lookup = np.zeros(int(space), dtype=np.bool_)
            lookup[supp_key] = True
            suppressed_rows = np.take(lookup, key, mode="clip")  # keys < space by construction
        else:
            suppressed_rows = np.isin(key, supp_key)
        blanked = [suppressed_rows] * len(qis)
    del key
    any_blank = [bool(b.any()) for b in blanked] if local else [bool(suppressed_rows.any())] * len(qis)
    released = table
    del table  # the original columns go as soon as their replacements exist
    out_codes = []
    cell_losses: list[float] = []
    fully_blanked = np.logical_and.reduce(blanked) if local and blanked else None
    for j, (q, h, level, blank) in enumerate(zip(qis, encoded, result.levels, blanked, strict=True)):
        col, gen_rows[j] = gen_rows[j], None  # free each column's codes once written
        if local:
            cell_losses.append(_cell_loss(h, level, col, blank))
        labels = list(h.labels[level])
        if any_blank[j]:
            star = labels.index("*") if "*" in labels else len(labels)
            if star == len(labels):
                labels.append("*")
            np.copyto(col, star, where=blank)  # col is this function's own array
        if local:
            out_codes.append((col, len(labels)))
        released = io.replace_column(released, q, col, labels)
        del col

    # Risk of the release: suppressed records leave the classes (they are '*' throughout).
    risk_after: RiskReport | None
    if local:
        risk_after = risk_from_class_sizes(_row_class_sizes(out_codes))
    elif sensitive:
        keep = ~result.suppressed_rows
        after_freq, _ = generalize(_subset(freq, keep), hierarchies, result.levels)
        risk_after = assess_risk(after_freq, with_suda=False) if after_freq.n_rows else None
    else:
        sizes = result.released_class_sizes
        risk_after = risk_from_class_sizes(sizes) if sizes.size else None
    io.write_table(released, out, sep)
    finished = time.perf_counter()
    achieved: dict[str, Any] = {"k": risk_after.k if risk_after else None}
    if risk_after is not None:
        for s in risk_after.sensitive:
            achieved[s.attribute] = {
                "distinct_l": s.distinct_l,
                "entropy_l": s.entropy_l,
                "t_equal": s.t_equal,
                "t_ordered": s.t_ordered,
            }
    return {
        "input": str(input),
        "output": str(out),
        "records": freq.n_records,
        "quasi_identifiers": {
            q: {"hierarchy": hierarchies[q].name, "level": lv, "level_name": name}
            for q, lv, name in zip(qis, result.levels, result.level_names, strict=True)
        },
        "sensitive": sensitive,
        "criteria": [c.describe() for c in criteria],
        "max_suppression": max_suppression,
        "metric": result.utility,
        # With local suppression, a record blanked in every quasi-identifier is as good as suppressed.
        "suppressed_records": int(fully_blanked.sum()) if fully_blanked is not None else result.suppressed,
        "record_suppression_avoided": result.suppressed if local else 0,
        "local_suppression": (
            {
                **local_info,
                "records_fully_blanked": int(fully_blanked.sum()) if fully_blanked is not None else 0,
            }
            if local_info is not None
            else None
        ),
        "achieved": achieved,
        "metrics_before": result.metrics_before,
        # The file written: with local suppression, the loss of its cells (a blanked cell costs as
        # a suppressed one); the other metrics are defined on classes, not cells, and are left out.
        "metrics_after": {"loss": _geometric(cell_losses)} if local else result.metrics,
        "risk_before": _risk(risk_before),
        "risk_after": _risk(risk_after) if risk_after else None,
        "search": {
            "lattice_size": result.lattice_size,
            "evaluated": result.evaluated,
            "complete": result.complete,
            "satisfying": [
                {"levels": list(n.levels), "suppressed": n.suppressed, "metrics": n.metrics}
                for n in result.satisfying
            ],
        },
        "elapsed_seconds": finished - started,
        "timings": {"load": loaded - started, "search": searched - loaded, "write": finished - searched},
    }


def _cell_loss(h: Any, level: int, codes: Any, blank: Any) -> float:
    """ARX's Loss of one attribute over the cells as written: u/D per value covering u of D leaves,
    1 per blanked cell, normalised to [0, 1] between no generalisation and everything blanked."""
    n = int(codes.shape[0])
    d = h.domain_size
    if n == 0 or d <= 1:
        return 0.0
    under = h.leaves_under[level][codes].astype(np.float64)
    cost = float(np.where(blank, float(d), under).sum())
    return float(max(0.0, (cost - n) / (n * d - n)))


def _geometric(values: list[float]) -> float:
    """ARX's aggregation of attribute losses: prod(1 + v)^(1/m) - 1."""
    if not values:
        return 0.0
    product = 1.0
    for v in values:
        product *= (1.0 + v) ** (1.0 / len(values))
    return product - 1.0


def _risk(report: Any) -> dict[str, Any]:
    return {
        "records": report.n_records,
        "classes": report.n_classes,
        "k": report.k,
        "sample_uniques": report.sample_uniques,
        "prosecutor": vars(report.prosecutor),
        "journalist": vars(report.journalist),
        "marketer": report.marketer,
    }


def _keys(columns: list[Any], radices: list[int], n: int) -> Any:
    """Mixed-radix key of each row (first column most significant); int32 when the space fits."""
    space = float(np.prod(radices, dtype=np.float64)) if radices else 1.0
    dtype = np.int32 if space < 2**31 else np.int64
    if not columns:
        return np.zeros(n, dtype=dtype)
    key = columns[0].astype(dtype)
    for col, radix in zip(columns[1:], radices[1:], strict=True):
        key *= radix
        key += col
    return key


def _subset(freq: Any, keep: Any) -> Any:
    from iplos.sdc import FrequencyTable

    return FrequencyTable(
        quasi_identifiers=freq.quasi_identifiers,
        codes=tuple(c[keep] for c in freq.codes),
        counts=freq.counts[keep],
        sensitive=freq.sensitive,
        sensitive_codes=tuple(c[keep] for c in freq.sensitive_codes),
        sensitive_labels=freq.sensitive_labels,
    )


def _row_class_sizes(columns: list[tuple[Any, int]]) -> Any:
    """Class sizes of released rows, from each column's codes and number of labels."""
    key = np.zeros(columns[0][0].shape[0] if columns else 0, dtype=np.int64)
    for col, radix in columns:
        key = key * radix + col
    _, counts = np.unique(key, return_counts=True)
    return counts.astype(np.int64)
