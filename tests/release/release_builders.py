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


ITEM_QIS = ("spells.kode", "episodes.dato")
TABLES = ("person_year", "spells", "episodes")


def _with_blank(h: Hierarchy) -> Hierarchy:
    """A stacked column's hierarchy: a leaf for the rows of other tables ('' below the top)."""
    return Hierarchy(h.name, h.level_names, (*h.rows, ("",) * (h.height - 1) + ("*",)), h.description)


def stacked_hierarchies() -> dict[str, Hierarchy]:
    """Hierarchies of a stacked person-year + spells + episodes extract (`stacked_extract`)."""
    hs = {q: _with_blank(h) for q, h in hierarchies().items()}
    hs["spells.kode"] = _with_blank(
        Hierarchy.from_rows("spells.kode", [[c, c[0], "*"] for c in ("a1", "a2", "a3", "b1", "b2")])
    )
    hs["episodes.dato"] = _with_blank(
        Hierarchy.from_rows(
            "episodes.dato", [[f"2014-{m:02d}", f"H{(m - 1) // 6 + 1}", "*"] for m in range(1, 13)]
        )
    )
    hs["_tabell"] = Hierarchy.from_rows("_tabell", [[t, "*"] for t in TABLES])
    return hs


def stacked_extract(seed: int, persons: int, items: int = 3) -> pa.Table:
    """`extract`'s persons with 0..items service spells and 0..items NPR episodes each, stacked."""
    base = extract(seed, persons).to_pylist()
    rng = np.random.default_rng(seed + 1)
    rows: list[dict[str, object]] = [{**r, "_tabell": "person_year"} for r in base]
    for p in sorted({int(str(r["lopenr"])) for r in base}):
        for _ in range(int(rng.integers(0, items + 1))):
            code = str(rng.choice(["a1", "a2", "a3", "b1", "b2"]))
            rows.append({"lopenr": p, "spells.kode": code, "_tabell": "spells"})
        for _ in range(int(rng.integers(0, items + 1))):
            rows.append(
                {"lopenr": p, "episodes.dato": f"2014-{int(rng.integers(1, 13)):02d}", "_tabell": "episodes"}
            )
    names = ["lopenr", "aargang", "alder", "kjonn", "fylke", "score", *ITEM_QIS, "_tabell"]
    return pa.table({n: pa.array([r.get(n) for r in rows]) for n in names}).cast(
        pa.schema(
            [
                ("lopenr", pa.int32()),
                ("aargang", pa.int16()),
                ("alder", pa.int16()),
                ("kjonn", pa.int8()),
                ("fylke", pa.string()),
                ("score", pa.int8()),
                ("spells.kode", pa.string()),
                ("episodes.dato", pa.string()),
                ("_tabell", pa.string()),
            ]
        )
    )


def stacked_plan(criteria: Criteria, items_known: int | None) -> Plan:
    columns = ("aargang", "alder", "kjonn", "fylke", *ITEM_QIS, "_tabell")
    qis = tuple(QuasiIdentifier(c, c, 0, 0 if c in ("aargang", "_tabell") else None) for c in columns)
    sensitive = ("score",) if criteria.l is not None or criteria.t is not None else ()
    return Plan(criteria, qis, {c: 0 for c in columns}, sensitive=sensitive, items_known=items_known)
