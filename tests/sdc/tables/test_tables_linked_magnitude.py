"""Linked magnitude tables (sums of hours) against the independent attacker, with dominance and
p % rules setting the protection of their cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
from linked_attacker import Attacker
from test_tables_linked_attack import covers_of, group4, make_table, persons

from iplos.sdc.tables import Dominance, MinCount, PPercent, Release, build_table, protect, protect_linked

RULES = [MinCount(3), Dominance(1, 85), PPercent(10)]


def hours() -> pd.DataFrame:
    data = persons(seed=11, n=600)
    rng = np.random.default_rng(3)
    data["timer"] = np.round(rng.gamma(0.6, 8.0, len(data)), 1)
    return data


def sum_table(data: pd.DataFrame, grouping: str):  # type: ignore[no-untyped-def]
    counts = make_table(data, grouping)
    return build_table(data, counts.dimensions, value="timer")


def need(data: pd.DataFrame, covers: dict, labels: dict[str, str]) -> tuple[float, float, float]:  # type: ignore[type-arg]
    """(total, lower, upper protection) of a cell, from the records, as the rules define them."""
    frame = data.assign(group=[group4(int(a)) for a in data["alder"]])
    sel = (
        frame["kommune"].isin(covers["kommune"](labels["kommune"]))
        & frame["group"].isin(covers["alder"](labels["alder"]))
        & frame["kjonn"].isin(covers["kjonn"](labels["kjonn"]))
    )
    x = np.sort(frame.loc[sel, "timer"].to_numpy())[::-1]
    total = float(x.sum())
    x1, x2 = (float(x[0]) if x.size else 0.0), (float(x[1]) if x.size > 1 else 0.0)
    level = max(0.3 * total, 3.0)
    if x1 > 0.85 * total:
        level = max(level, 100 / 85 * x1 - total)
    if total - x1 - x2 < 0.10 * x1:
        level = max(level, 0.10 * x1 - (total - x1 - x2))
    return total, min(total, level), level


def test_linked_sum_tables_keep_every_primary_cell_protected() -> None:
    data = hours()
    finest, covers = covers_of(data)
    # alone, the two tables give cells away together
    alone = [protect(sum_table(data, g), RULES) for g in ("a", "b")]
    assert all(pt.audit is not None and pt.audit.passed for pt in alone)
    assert any(pt.counts()["primary"] for pt in alone)

    def breaches(released):  # type: ignore[no-untyped-def]
        attacker = Attacker(released, finest, covers)  # type: ignore[arg-type]
        out = []
        for t, pt in enumerate(released):
            for cell in np.flatnonzero(pt.flags == 1):
                labels = pt.table.labels_of(int(cell))
                lo, hi = attacker.interval(labels)
                total, need_lo, need_up = need(data, covers, labels)
                if lo > total - need_lo + 1e-6 or hi < total + need_up - 1e-6:
                    out.append((t, labels))
        return out

    assert breaches(alone), "two sum tables protected one at a time should give a cell away"
    earlier: list[Release] = []
    results = []
    for g in ("a", "b"):
        result = protect_linked(data, sum_table(data, g), earlier, RULES, name=g, value="timer")
        earlier.append(Release.of(g, result.table))
        results.append(result)
    assert all(r.passed for r in results)
    for t, labels in breaches([r.table for r in results]):
        assert {"table": "ab"[t], **labels} in results[t].given_away(), labels


def test_a_release_round_trips_through_its_log_record() -> None:
    data = hours()
    for table in (
        sum_table(data, "a"),
        make_table(data, "b"),
        build_table(data, make_table(data, "c").dimensions, count="records"),
    ):
        pt = protect(table, RULES if table.kind == "magnitude" else None)
        release = Release.of("t", pt)
        rec = release.as_record()
        back = Release.from_record(
            rec["name"], rec["kind"], rec["statistic"], rec["dimensions"], rec["cells"]
        )
        assert back.quantity == release.quantity
        assert np.array_equal(back.flags, release.flags)
        assert np.array_equal(np.isnan(back.published), np.isnan(release.published))
        assert all(
            a.leaf_of == b.leaf_of and a.labels == b.labels
            for a, b in zip(back.dimensions, release.dimensions, strict=True)
        )
        assert None in rec["cells"]["values"] and all(v is None or v >= 0 for v in rec["cells"]["values"])
