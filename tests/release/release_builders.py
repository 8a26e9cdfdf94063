"""Small longitudinal extracts and hierarchies for the release tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from iplos.catalog import Hierarchy
from iplos.release import Criteria, Plan, QuasiIdentifier

YEARS = (2012, 2013, 2014)


def hierarchies(years: Sequence[int] = YEARS) -> dict[str, Hierarchy]:
    return {
        "aargang": Hierarchy.from_rows("aargang", [[str(y), "*"] for y in years]),
        "alder": Hierarchy.from_rows(
            "alder", [[str(a), f"{a // 2 * 2}", f"{a // 4 * 4}", "*"] for a in range(80, 88)]
        ),
        "kjonn": Hierarchy.from_rows("kjonn", [["1", "*"], ["2", "*"]]),
        "fylke": Hierarchy.from_rows("fylke", [["03", "Øst", "*"], ["11", "Vest", "*"], ["46", "Vest", "*"]]),
    }


def extract(seed: int, persons: int, presence: float = 0.7) -> pa.Table:
    """Persons over YEARS: each present in a year with probability `presence`, ageing one year a year."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, str, int]] = []
    for p in range(persons):
        age = int(rng.integers(80, 86))
        sex = int(rng.integers(1, 3))
        fylke = str(rng.choice(["03", "11", "46"]))
        for i, year in enumerate(YEARS):
            if rng.random() < presence:
                rows.append((1000 + p, year, age + i, sex, fylke, int(rng.integers(0, 3))))
    if not rows:
        rows.append((1000, YEARS[0], 80, 1, "03", 0))
    lop, yr, age_c, sex_c, fy, score = map(list, zip(*rows, strict=True))
    return pa.table(
        {
            "lopenr": pa.array(lop, pa.int32()),
            "aargang": pa.array(yr, pa.int16()),
            "alder": pa.array(age_c, pa.int16()),
            "kjonn": pa.array(sex_c, pa.int8()),
            "fylke": pa.array(fy, pa.string()),
            "score": pa.array(score, pa.int8()),
        }
    )


def plan(
    criteria: Criteria, columns: Sequence[str] = ("aargang", "alder", "kjonn", "fylke"), **kw: object
) -> Plan:
    qis = tuple(QuasiIdentifier(c, c, 0, 0 if c == "aargang" else None) for c in columns)
    sensitive = ("score",) if criteria.l is not None or criteria.t is not None else ()
    return Plan(criteria, qis, {c: 0 for c in columns}, sensitive=sensitive, **kw)  # type: ignore[arg-type]
