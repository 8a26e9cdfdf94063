"""Tables released one after another from the same data, attacked together by an independent LP.

Kommune x 4 age groups x sex, kommune x {0-79, 80+} x sex and kommune x {0-66, 67+} x sex from
the same synthetic persons: each table passes its own audit, but together their cells are linked
(a kommune's 80+ is the sum of two of the first table's groups), and the attacker of
`linked_attacker` (scipy's linprog over the finest cells, not iplos's audit) is judged on all of
them at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from linked_attacker import Attacker, attack, required

from iplos.catalog.hierarchy import Hierarchy
from iplos.sdc.tables import Dimension, ProtectedTable, Table, build_table, protect
from iplos.sdc.tables._linked import LinkedResult, protect_linked
from iplos.sdc.tables._release import Release

FYLKER = {"11": 7, "15": 8}  # fylke -> number of kommuner
GROUPS4 = ("60-66", "67-79", "80-89", "90+")
COARSE = {
    "b": {"0-79": ("60-66", "67-79"), "80+": ("80-89", "90+")},
    "c": {"0-66": ("60-66",), "67+": ("67-79", "80-89", "90+")},
}


def group4(age: int) -> str:
    return "60-66" if age <= 66 else "67-79" if age <= 79 else "80-89" if age <= 89 else "90+"


def persons(seed: int = 7, n: int = 760) -> pd.DataFrame:
    """Persons aged 60-99 in 15 kommuner of very different size (small cells are common)."""
    rng = np.random.default_rng(seed)
    kommuner = [f"{f}{i:02d}" for f, k in FYLKER.items() for i in range(1, k + 1)]
    weight = 1.0 / np.arange(1, len(kommuner) + 1) ** 1.1
    rng.shuffle(weight)
    ages = np.arange(60, 100)
    age_weight = np.exp(-((ages - 82) ** 2) / 90.0)
    return pd.DataFrame(
        {
            "pseudonym": [f"p{i:05d}" for i in range(n)],
            "kommune": rng.choice(kommuner, n, p=weight / weight.sum()),
            "alder": rng.choice(ages, n, p=age_weight / age_weight.sum()).astype(str),
            "kjonn": rng.choice(["1", "2"], n),
        }
    )


def region() -> Hierarchy:
    kommuner = [f"{f}{i:02d}" for f, k in FYLKER.items() for i in range(1, k + 1)]
    return Hierarchy.from_rows(
        "kommune", [[k, k[:2], "*"] for k in kommuner], level_names=["kommune", "fylke", "land"]
    )


def age_hierarchy(grouping: str) -> Hierarchy:
    """1-year ages -> the four groups, or -> a coarser pair of groups."""
    rows = []
    for age in range(60, 100):
        g = group4(age)
        if grouping == "a":
            rows.append([str(age), g, "*"])
        else:
            coarse = next(c for c, members in COARSE[grouping].items() if g in members)
            rows.append([str(age), coarse, "*"])
    return Hierarchy.from_rows("alder", rows, level_names=["age", "group", "all"])


def make_table(data: pd.DataFrame, grouping: str) -> Table:
    dims = [
        Dimension.from_hierarchy(region(), "kommune", name="kommune", subtotals=["fylke"]),
        Dimension.from_hierarchy(age_hierarchy(grouping), "group", name="alder", subtotals=[]),
        Dimension.flat("kjonn", ["1", "2"]),
    ]
    return build_table(data, dims, count="persons")


def covers_of(data: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, object]]:
    kommuner = sorted(region().values(0))
    finest = {"kommune": kommuner, "alder": list(GROUPS4), "kjonn": ["1", "2"]}
    age_sets = {g: frozenset([g]) for g in GROUPS4}
    for groups in COARSE.values():
        age_sets.update({c: frozenset(m) for c, m in groups.items()})

    def kommune(label: str) -> frozenset[str]:
        if label == "Total":
            return frozenset(kommuner)
        return frozenset(k for k in kommuner if k == label or (len(label) == 2 and k[:2] == label))

    covers = {
        "kommune": kommune,
        "alder": lambda label: frozenset(GROUPS4) if label == "Total" else age_sets[label],
        "kjonn": lambda label: frozenset(["1", "2"]) if label == "Total" else frozenset([label]),
    }
    return finest, covers


def truth_of(data: pd.DataFrame):  # type: ignore[no-untyped-def]
    frame = data.assign(group=[group4(int(a)) for a in data["alder"]])
    _, covers = covers_of(data)

    def truth(labels: dict[str, str]) -> float:
        sel = np.ones(len(frame), dtype=bool)
        sel &= frame["kommune"].isin(covers["kommune"](labels["kommune"])).to_numpy()  # type: ignore[operator]
        sel &= frame["group"].isin(covers["alder"](labels["alder"])).to_numpy()  # type: ignore[operator]
        sel &= frame["kjonn"].isin(covers["kjonn"](labels["kjonn"])).to_numpy()  # type: ignore[operator]
        return float(sel.sum())

    return truth


def breaches(data: pd.DataFrame, released: list[ProtectedTable]) -> list:  # type: ignore[type-arg]
    finest, covers = covers_of(data)
    return attack(released, finest, covers, truth_of(data))  # type: ignore[arg-type]


def test_each_table_alone_withstands_the_attacker() -> None:
    data = persons()
    for grouping in ("a", "b", "c"):
        pt = protect(make_table(data, grouping))
        assert pt.audit is not None and pt.audit.passed
        assert pt.counts()["primary"] > 0
        assert breaches(data, [pt]) == []


def test_tables_protected_one_at_a_time_give_cells_away_together() -> None:
    """The attack works: protecting each table on its own is not enough (the issue's finding)."""
    data = persons()
    released = [protect(make_table(data, g)) for g in ("a", "b")]
    found = breaches(data, released)
    assert found, "the attacker should narrow some primary cell of two independently protected tables"
    assert any(b.exact for b in found)


def release_one_after_another(data: pd.DataFrame, groupings: tuple[str, ...]) -> list[LinkedResult]:
    """Each table protected jointly with the ones released before it (as `iplos tables make` does)."""
    earlier: list[Release] = []
    results = []
    for g in groupings:
        result = protect_linked(data, make_table(data, g), earlier, name=g)
        earlier.append(Release.of(g, result.table))
        results.append(result)
    return results


@pytest.mark.parametrize("groupings", [("a", "b"), ("a", "b", "c"), ("b", "c", "a")])
def test_linked_tables_keep_every_primary_cell_protected(groupings: tuple[str, ...]) -> None:
    """The independent attacker narrows no primary cell of any table below its protection, except
    cells that the tables released before it had already given away on their own (found by the
    attacker from those tables alone, and reported as such by the release)."""
    data = persons()
    results = release_one_after_another(data, groupings)
    released = [r.table for r in results]
    assert all(r.passed for r in results)
    finest, covers = covers_of(data)
    truth = truth_of(data)
    found = breaches(data, released)
    for b in found:
        before = Attacker(released[: b.table], finest, covers)  # type: ignore[arg-type]
        lower, upper = before.interval(b.labels)
        value = truth(b.labels)
        need_lo, need_up = required(value)
        assert lower > value - need_lo + 1e-6 or upper < value + need_up - 1e-6, b
        reported = results[b.table].given_away()
        assert {"table": groupings[b.table], **b.labels} in reported, b
    if groupings == ("a", "b"):  # nothing of b's was given away by a: no breach at all
        assert breaches(data, released) == [] and results[1].unprotectable == ()


def test_the_second_release_alone_is_what_the_first_could_not_foresee() -> None:
    """Protected jointly, the second table suppresses more than alone (the links cost cells)."""
    data = persons()
    alone = protect(make_table(data, "b"))
    linked = release_one_after_another(data, ("a", "b"))[1]
    assert linked.table.suppressed.sum() > alone.suppressed.sum()
    assert linked.deviations > 0
    assert linked.table.counts()["primary"] == alone.counts()["primary"]
