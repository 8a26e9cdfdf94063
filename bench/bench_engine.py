"""Benchmark the data plane: load (validate + commit) a national-scale årgang, then query it.

Builds a synthetic extract in the delivered format (CSV, one file per table) for one årgang at the
given scale (1.0 ≈ 360,000 persons, as IPLOS 2017), loads it with `load_extract`, and times
`Engine.table` + `frequencies` and `write_parquet` on DuckDB. Writes timings, row counts and peak
RSS as JSON with the git revision to bench/results/engine.json.

    .venv/bin/python bench/bench_engine.py --scale 1.0
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from iplos.catalog.regions import municipalities
from iplos.config import Settings
from iplos.engine import connect, load_extract

YEAR = 2017
PERSONS_AT_SCALE_1 = 361_471
SCORES = [
    "sosial_deltakelse", "beslutninger_dagligliv", "styre_atferd", "alminnelig_husarbeid",
    "skaffe_varer_tjenester", "ivareta_egen_helse", "lage_mat", "spise", "personlig_hygiene",
    "av_pakledning", "toalett", "bevege_innendors", "bevege_utendors", "hukommelse",
    "kommunikasjon", "syn", "horsel",
]  # fmt: skip


def _dates(rng: np.random.Generator, n: int, first: dt.date, last: dt.date) -> pa.Array:
    days = rng.integers(0, (last - first).days + 1, size=n)
    return pa.array(np.datetime64(first.isoformat()) + days.astype("timedelta64[D]"))


def build_extract(folder: Path, persons: int, seed: int) -> dict[str, int]:
    """Write person/tjeneste/funksjon/diagnose CSVs with valid content; returns rows per table."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, size=(persons, 32), dtype=np.uint8)
    pseudonyms = np.array([row.tobytes().hex() for row in raw])
    kommuner = np.array([m.code for m in municipalities(YEAR)])
    person = pa.table(
        {
            "pseudonym": pseudonyms,
            "fodselsaar": rng.integers(1910, 2017, size=persons).astype(np.int16),
            "kjonn": rng.integers(1, 3, size=persons).astype(np.int8),
            "kommune": kommuner[rng.integers(0, len(kommuner), size=persons)],
            "bydel": pa.nulls(persons, pa.string()),
            "husstand": rng.integers(1, 4, size=persons).astype(np.int8),
            "dodsdato": pa.nulls(persons, pa.date32()),
            "individuell_plan": rng.integers(1, 3, size=persons).astype(np.int8),
            "koordinator": rng.integers(1, 3, size=persons).astype(np.int8),
            "lege_vurdert_dato": _dates(rng, persons, dt.date(2010, 1, 1), dt.date(YEAR, 12, 31)),
            "tannhelse_vurdert_dato": pa.nulls(persons, pa.date32()),
        }
    )
    n_services = int(persons * 2.25)
    owner = rng.integers(0, persons, size=n_services)
    codes = np.array([1, 2, 3, 4, 5, 6, 7, 9, 11, 15, 21], dtype=np.int16)
    service = codes[rng.integers(0, len(codes), size=n_services)]
    hour_based = np.isin(service, [1, 2, 3, 7, 9, 11, 15])
    start = _dates(rng, n_services, dt.date(2012, 1, 1), dt.date(YEAR, 12, 31))
    tjeneste = pa.table(
        {
            "pseudonym": pseudonyms[owner],
            "tjeneste": service,
            "vedtaksdato": start,
            "startdato": start,
            "sluttdato": pa.nulls(n_services, pa.date32()),
            "timer_per_uke": pa.array(np.round(rng.uniform(0, 40, n_services), 1), mask=~hour_based),
            "leverandor_orgnr": np.full(n_services, "974778874"),
        }
    )
    funksjon = pa.table(
        {
            "pseudonym": pseudonyms,
            "vurderingsdato": _dates(rng, persons, dt.date(2014, 1, 1), dt.date(YEAR, 12, 31)),
            **{s: rng.integers(1, 6, size=persons).astype(np.int8) for s in SCORES},
        }
    )
    icd = np.array(["F03", "I639", "E119", "G309", "M179"])
    n_diag = int(persons * 1.4)
    diagnose = pa.table(
        {
            "pseudonym": pseudonyms[rng.integers(0, persons, size=n_diag)],
            "kodeverk": np.full(n_diag, "ICD10"),
            "kode": icd[rng.integers(0, len(icd), size=n_diag)],
            "diagnosedato": _dates(rng, n_diag, dt.date(2005, 1, 1), dt.date(YEAR, 12, 31)),
        }
    )
    tables = {"person": person, "tjeneste": tjeneste, "funksjon": funksjon, "diagnose": diagnose}
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pacsv.write_csv(table, folder / f"{name}.csv", pacsv.WriteOptions(quoting_style="none"))
    return {name: t.num_rows for name, t in tables.items()}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "engine.json")
    args = parser.parse_args()
    persons = int(PERSONS_AT_SCALE_1 * args.scale)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="iplos-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        rows = build_extract(root / "extract", persons, args.seed)
        timings["build_extract_s"] = time.perf_counter() - t0
        csv_mb = sum(p.stat().st_size for p in (root / "extract").iterdir()) / 2**20
        settings = Settings(home=root / "home")
        t0 = time.perf_counter()
        summary = load_extract(root / "extract", "iplos", YEAR, settings=settings)
        timings["load_extract_s"] = time.perf_counter() - t0
        assert summary.rows == rows, (summary.rows, rows)
        with connect(settings, "duckdb") as engine:
            t0 = time.perf_counter()
            person = engine.table("iplos", "person", YEAR)
            freq = engine.frequencies(person, ["fodselsaar", "kjonn", "kommune"], sensitive=["husstand"])
            timings["frequencies_person_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            t = engine.table("iplos", "tjeneste", YEAR)
            joined = t.join(person, "pseudonym").select(
                "fodselsaar", "kjonn", "kommune", "tjeneste", "timer_per_uke"
            )
            freq2 = engine.frequencies(
                joined, ["fodselsaar", "kjonn", "kommune"], sensitive=["tjeneste"], weight="timer_per_uke"
            )
            timings["frequencies_join_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            engine.write_parquet(joined, root / "out" / "joined.parquet")
            timings["write_parquet_join_s"] = time.perf_counter() - t0
    revision = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    result = {
        "benchmark": "engine",
        "revision": revision,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "scale": args.scale,
        "rows": rows,
        "csv_mb": round(csv_mb, 1),
        "frequency_rows": {"person": freq.num_rows, "tjeneste_x_person": freq2.num_rows},
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
