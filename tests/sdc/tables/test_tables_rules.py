"""Dominance, p % and cell key on hand examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from iplos.errors import IplosError
from iplos.ident import PseudonymKey, RecordKeys
from iplos.sdc.tables import (
    Dimension,
    Dominance,
    MinCount,
    PerturbationTable,
    PPercent,
    build_table,
    perturb_table,
)


def _magnitude() -> pd.DataFrame:
    # cell x: one person gives 90 of 100 hours; cell y: five equal contributors; cell z: 50 + 45 + 5
    rows = [("x", "p1", 90.0), ("x", "p2", 5.0), ("x", "p3", 5.0)]
    rows += [("y", f"q{i}", 10.0) for i in range(5)]
    rows += [("z", "r1", 30.0), ("z", "r1", 20.0), ("z", "r2", 45.0), ("z", "r3", 5.0)]
    return pd.DataFrame(rows, columns=["c", "pseudonym", "timer"])


def test_top_contributions_are_per_person() -> None:
    t = build_table(_magnitude(), [Dimension.flat("c", "xyz")], value="timer")
    z = t.cell_at(c="z")
    assert t.values[z] == 100 and t.contributors[z] == 3
    assert t.top is not None and t.top[z].tolist() == [50.0, 45.0]  # r1's two records summed
    total = t.cell_at()
    assert t.top[total].tolist() == [90.0, 50.0] and t.contributors[total] == 11


def test_dominance_rule() -> None:
    t = build_table(_magnitude(), [Dimension.flat("c", "xyz")], value="timer")
    hit = Dominance(1, 85).sensitive(t)
    assert hit[t.cell_at(c="x")] and not hit[t.cell_at(c="y")] and not hit[t.cell_at(c="z")]
    # two largest in z: 95 of 100 > 90 %
    assert Dominance(2, 90).sensitive(t)[t.cell_at(c="z")]


def test_p_percent_rule() -> None:
    t = build_table(_magnitude(), [Dimension.flat("c", "xyz")], value="timer")
    hit = PPercent(12).sensitive(t)
    # z: 100 - 50 - 45 = 5 < 12 % of 50; x: 100 - 90 - 5 = 5 < 10.8; y: 30 >= 1.2
    assert hit[t.cell_at(c="z")] and hit[t.cell_at(c="x")] and not hit[t.cell_at(c="y")]
    assert not PPercent(5).sensitive(t)[t.cell_at(c="z")]


def test_dominance_needs_a_magnitude_table() -> None:
    t = build_table(_magnitude(), [Dimension.flat("c", "xyz")])
    with pytest.raises(IplosError, match="magnitude"):
        Dominance(1, 85).sensitive(t)
    assert MinCount(4).sensitive(t)[t.cell_at(c="x")]


def test_mean_table_publishes_means_and_protects_sums() -> None:
    t = build_table(_magnitude(), [Dimension.flat("c", "xyz")], value="timer", statistic="mean")
    assert t.published_values[t.cell_at(c="y")] == pytest.approx(10.0)
    assert t.values[t.cell_at(c="y")] == pytest.approx(50.0)


KEYS = RecordKeys(PseudonymKey("test", b"k" * 32))


def test_cell_key_noise_is_consistent() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"pseudonym": [f"p{i}" for i in range(400)], "k": rng.choice(list("abcd"), 400)})
    dim = Dimension.flat("k", "abcd")
    one = perturb_table(build_table(df, [dim], record_keys=KEYS.keys))
    # the same records in another order, and the same cell in another table: the same noise
    shuffled = df.sample(frac=1.0, random_state=3)
    two = perturb_table(build_table(shuffled, [dim], record_keys=KEYS.keys))
    assert one.published.tolist() == two.published.tolist()
    other = pd.DataFrame({"pseudonym": df["pseudonym"], "k": df["k"], "s": "1"})
    three = perturb_table(build_table(other, [dim, Dimension.flat("s", "1")], record_keys=KEYS.keys))
    assert three.published.reshape(5, 2)[:, 1].tolist() == one.published.tolist()
    t = build_table(df, [dim], record_keys=KEYS.keys)
    assert (np.abs(one.published - t.values) <= 2).all()
    assert one.report()["perturbation"]["D"] == 2


def test_perturbation_table_rows_have_mean_zero_and_variance_v() -> None:
    pt = PerturbationTable(max_noise=3, variance=1.5)
    for i, (support, probs, var) in enumerate(pt.rows):
        assert probs.sum() == pytest.approx(1.0)
        assert (probs * support).sum() == pytest.approx(0.0, abs=1e-6)
        assert support.min() >= -i  # never below zero
        if i == 3:
            assert var == pytest.approx(1.5, rel=1e-6)
    assert pt.rows[0][0].tolist() == [0]
    with pytest.raises(IplosError):
        PerturbationTable(max_noise=2, variance=5)


def test_small_counts_are_never_published_below_js_and_the_ptable_round_trips(tmp_path: Path) -> None:
    pt = PerturbationTable(max_noise=3, variance=2.0, small=2)
    for i, (support, probs, _) in enumerate(pt.rows):
        assert (probs * support).sum() == pytest.approx(0.0, abs=1e-6)
        targets = i + support[probs > 0]
        assert not ((targets >= 1) & (targets <= 2)).any()
    assert len(pt.rows) == 6 and pt.rows[-1][2] == pytest.approx(2.0, rel=1e-6)
    path = tmp_path / "ptable.csv"
    path.write_text(pt.to_csv())
    back = PerturbationTable.from_csv(path)
    assert (back.max_noise, back.small) == (3, 2) and back.variance == pytest.approx(2.0, rel=1e-6)
    keys = np.linspace(0, 0.999, 50)
    counts = np.arange(50, dtype=np.float64) % 9
    assert back.noise(counts, keys).tolist() == pt.noise(counts, keys).tolist()
    path.write_text("i,j,p,v\n0,0,1,0\n1,0,0.5,-1\n1,3,0.6,2\n")
    with pytest.raises(IplosError, match="do not sum to 1") as err:
        PerturbationTable.from_csv(path)
    assert err.value.problems[0].row == 3
