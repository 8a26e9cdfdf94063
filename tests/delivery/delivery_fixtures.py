"""Hand-made releases for the file, gate and atomicity tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from iplos.delivery._release import ColumnInfo, Criteria, Release
from iplos.linkage import draw_serial_numbers

KEY_HEX = "ab" * 32


def make_release(
    n_classes: int = 6, per_class: int = 5, extra: dict[str, list[object]] | None = None
) -> Release:
    """A release whose quasi-identifiers (kjonn, alder, fylke) form classes of `per_class` persons."""
    rng = np.random.default_rng(3)
    rows = n_classes * per_class
    klass = np.repeat(np.arange(n_classes), per_class)
    data = pd.DataFrame(
        {
            "lopenr": pd.array(draw_serial_numbers(rows, seed=b"fixed-seed-16byt"), dtype="int32"),
            "aargang": pd.array(np.full(rows, 2014), dtype="int16"),
            "kjonn": pd.array(1 + klass % 2, dtype="int8"),
            "alder": ["80-84" if c < 3 else "85-89" for c in klass],
            "fylke": ["03" if c % 3 == 0 else "11" if c % 3 == 1 else "46" for c in klass],
            "spise": pd.array([int(v) for v in rng.integers(1, 6, rows)], dtype="Int8"),
            "timer_per_uke": [None if i % 7 == 0 else float(i % 5) + 0.5 for i in range(rows)],
            "dodsdato": [dt.date(2014, 1 + i % 12, 1) if i % 4 == 0 else None for i in range(rows)],
            "dodsarsak": ["I21" if i % 3 else "F03" for i in range(rows)],
        }
    )
    data.loc[1, "spise"] = pd.NA
    for name, values in (extra or {}).items():
        data[name] = values
    columns = [
        ColumnInfo("lopenr", "Løpenummer (denne leveransen)", "integer", "serial"),
        ColumnInfo("aargang", "Årgang", "integer", "quasi_identifier"),
        ColumnInfo(
            "kjonn",
            "Kjønn",
            "integer",
            "quasi_identifier",
            "iplos.person.kjonn",
            value_labels={"1": "Mann", "2": "Kvinne"},
            codelist="kjonn",
        ),
        ColumnInfo(
            "alder",
            "Alder",
            "string",
            "quasi_identifier",
            "iplos.person.fodselsaar",
            generalization="age: 5 years (level 1)",
            level=1,
        ),
        ColumnInfo(
            "fylke",
            "Bostedskommune",
            "string",
            "quasi_identifier",
            "iplos.person.kommune",
            value_labels={"03": "Oslo", "11": "Rogaland", "46": "Vestland"},
            generalization="region: fylke (level 1)",
            level=1,
        ),
        ColumnInfo(
            "spise",
            "Spise",
            "integer",
            "sensitive",
            "iplos.funksjon.spise",
            value_labels={str(i): f"skår {i}" for i in range(1, 6)},
        ),
        ColumnInfo("timer_per_uke", "Timer per uke", "float", "sensitive", unit="hours per week"),
        ColumnInfo("dodsdato", "Dødsdato", "date", "other"),
        ColumnInfo("dodsarsak", "Underliggende dødsårsak", "string", "sensitive"),
    ]
    for name in extra or {}:
        columns.append(ColumnInfo(name, name, "string", "other"))
    return Release(
        case_id="C-9",
        delivery_id="d001",
        data=data,
        columns=tuple(columns),
        quasi_identifiers=("aargang", "kjonn", "alder", "fylke"),
        sensitive=("spise",),
        criteria=Criteria(k=5, max_suppressed=0.05),
        records_before=rows,
    )


def disclosure_for(release: Release) -> dict[str, object]:
    sizes = [{"size": "5-9", "classes": 1, "records": 5}]
    return {
        "case": release.case_id,
        "delivery": release.delivery_id,
        "criteria": release.criteria.to_dict(),
        "quasi_identifiers": [
            {"column": q, "hierarchy": "h", "level": 1, "level_name": "x", "min_level": 0}
            for q in release.quasi_identifiers
        ],
        "sensitive": list(release.sensitive),
        "records_before": release.records_before,
        "records_after": len(release.data),
        "suppressed": 0,
        "suppressed_share": 0.0,
        "risk_before": {"highest": 1.0, "average": 0.5, "share_at_risk": 0.4},
        "risk_after": {"highest": 0.2, "average": 0.1, "share_at_risk": 0.0},
        "class_sizes_before": sizes,
        "class_sizes_after": sizes,
        "rounds": [{"by": "processor", "levels": {"alder": 1}, "note": ""}],
    }
