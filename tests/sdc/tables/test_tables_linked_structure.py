"""Deviations looked for by structure (`_neighbourhood`) keep linked tables protected.

On the benchmark's large joint models a failing cell's deviation is first looked for within its
kommune, the margins and a few sibling kommuner; here that path is forced on the small tables of
`test_tables_linked_attack`, and the independent scipy attacker judges the result.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_tables_linked_attack import breaches, make_table, persons, release_one_after_another

from iplos.sdc.tables import _linked, protect
from iplos.sdc.tables._joint import joint_model
from iplos.sdc.tables._neighbourhood import column_key
from iplos.sdc.tables._release import Release


def test_every_variable_is_keyed_by_its_kommune_or_as_a_margin() -> None:
    data = persons()
    tables = [make_table(data, g) for g in ("a", "b")]
    model = joint_model([Release.of(g, protect(t)) for g, t in zip(("a", "b"), tables, strict=True)])
    key = column_key(model)
    assert key is not None
    kommuner = model.classes["kommune"]
    for t, table in enumerate(tables):
        span = key.key[model.span(t)]
        labels = [table.labels_of(c)["kommune"] for c in range(table.n_cells)]
        for k, label in zip(span, labels, strict=True):
            if k < 0:
                assert label not in {v for members in kommuner for v in members}
            else:
                assert label in kommuner[k]
    hidden = key.key[int(model.offsets[-1]) :]
    assert (hidden >= 0).all()
    # siblings share the fylke: the masks grow, and always hold the cell
    cell = int(np.flatnonzero(key.key >= 0)[0])
    free = np.ones(model.n_vars, dtype=bool)
    masks = key.masks(cell, free)
    assert masks and all(m[cell] for m in masks)
    assert all(a.sum() < b.sum() for a, b in itertools.pairwise(masks))


def test_structural_deviations_withstand_the_independent_attacker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_linked, "STRUCTURE_FROM", 0)
    data = persons()
    results = release_one_after_another(data, ("a", "b"))
    assert all(r.passed for r in results)
    assert results[1].deviations > 0
    assert breaches(data, [r.table for r in results]) == []
