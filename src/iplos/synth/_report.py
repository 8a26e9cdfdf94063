"""Measure the written synthetic register against the published figures it is calibrated to.

Every number comes from the Parquet files on disk (DuckDB queries), never from the generator's own
bookkeeping; the definitions are those of `_targets.MEASURES`. Targets are multiplied by the scale
recorded in ``$IPLOS_HOME/synth.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from iplos.config import Settings
from iplos.errors import IplosError
from iplos.synth import _targets as T
from iplos.synth._generate import METADATA_FILE

__all__ = ["TOLERANCE", "CalibrationRow", "report"]

TOLERANCE = 0.05


@dataclass(frozen=True)
class CalibrationRow:
    """One synthetic marginal beside the figure it targets (already multiplied by the scale)."""

    measure: str
    label: str
    year: int | None
    target: float
    synthetic: float
    published: bool  # False where the target is interpolated or carried from another year

    @property
    def relative_difference(self) -> float:
        return (self.synthetic - self.target) / self.target if self.target else float("inf")

    @property
    def ok(self) -> bool:
        return abs(self.relative_difference) <= TOLERANCE

    def as_dict(self) -> dict[str, object]:
        return {
            "measure": self.measure,
            "label": self.label,
            "year": self.year,
            "target": round(self.target, 4),
            "synthetic": round(self.synthetic, 4),
            "relative_difference": round(self.relative_difference, 4),
            "published": self.published,
            "ok": self.ok,
        }


def _glob(settings: Settings, register: str, table: str) -> str:
    # only årgang folders: a hidden `.aargang=YYYY.staging-*` folder left by a kill is not data
    return str(settings.registers_dir / register / table / "aargang=*" / "*.parquet")


def _metadata(settings: Settings) -> dict[str, object]:
    path = settings.home / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IplosError(f"{path}: no synthetic register here; run `iplos synth` first") from None
    except json.JSONDecodeError:
        raise IplosError(f"{path}: not JSON") from None
    if not isinstance(data, dict) or data.get("generator") != "iplos.synth":
        raise IplosError(f"{path}: not written by iplos synth")
    return data


def report(settings: Settings) -> list[CalibrationRow]:
    """The calibration rows of the synthetic register under ``settings.home``."""
    meta = _metadata(settings)
    scale = float(meta["scale"])  # type: ignore[arg-type]
    iplos_years = [int(y) for y in meta.get("years", [])]  # type: ignore[attr-defined]
    kpr_years = [int(y) for y in meta.get("kpr_years", [])]  # type: ignore[attr-defined]
    per_year = [(y, "iplos") for y in iplos_years] + [(y, "kpr") for y in kpr_years if y not in iplos_years]
    con = duckdb.connect()
    try:
        return _rows(con, settings, scale, per_year)
    finally:
        con.close()


def _view(con: duckdb.DuckDBPyConnection, settings: Settings, register: str) -> None:
    for table in ("person", "tjeneste"):
        root = settings.registers_dir / register / table
        if not root.is_dir():
            raise IplosError(f"{root}: missing; the synthetic register is incomplete")
        glob = _glob(settings, register, table).replace("'", "''")
        con.execute(
            f"create or replace view {register}_{table} as "
            f"select * from read_parquet('{glob}', hive_partitioning = true)"
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> tuple[float, ...]:
    row = con.execute(sql, params).fetchone()
    return tuple(float(v or 0) for v in (row or ()))


def _rows(
    con: duckdb.DuckDBPyConnection, settings: Settings, scale: float, per_year: list[tuple[int, str]]
) -> list[CalibrationRow]:
    out: list[CalibrationRow] = []
    for register in sorted({r for _, r in per_year}):
        _view(con, settings, register)

    def add(
        measure: str, year: int | None, target: float, value: float, published: bool, suffix: str = ""
    ) -> None:
        label = T.MEASURES[measure][0] + suffix
        out.append(CalibrationRow(measure, label, year, target, value, published))

    for year, r in per_year:
        n, women = _one(
            con, f"select count(*), avg((kjonn = 2)::int) from {r}_person where aargang = ?", [year]
        )
        t = T.year_targets(year)
        add("persons", year, t.persons * scale, n, year in T.PERSONS_PUBLISHED)
        add("women_share", year, T.WOMEN_SHARE, women, True)
        persons_with = (
            f"select count(distinct pseudonym) from {r}_tjeneste where aargang = ? and tjeneste in "
        )
        if year == 2009:
            both, hn, ph = _one(con, f"""
                with t as (select pseudonym, max(tjeneste in (1, 2)) as ph, max(tjeneste = 15) as hn
                           from {r}_tjeneste where aargang = ? group by pseudonym)
                select sum((ph and hn)::int), sum((hn and not ph)::int), sum((ph and not hn)::int) from t
            """, [year])  # fmt: skip
            add("home_both", year, T.HOME_2009["both"] * scale, both, True)
            add("home_hjemmesykepleie_only", year, T.HOME_2009["hjemmesykepleie_only"] * scale, hn, True)
            add("home_praktisk_bistand_only", year, T.HOME_2009["praktisk_bistand_only"] * scale, ph, True)
        if year in T.INSTITUTION_YEARS:
            open_end = "and (sluttdato is null or sluttdato > make_date(?, 12, 31))"
            (inst,) = _one(con, persons_with + f"(18, 19, 20, 21, 22) {open_end}", [year, year])
            (lt,) = _one(con, persons_with + f"(21) {open_end}", [year, year])
            add("institution_residents", year, T.INSTITUTION_RESIDENTS * scale, inst, True)
            add("long_term_residents", year, T.LONG_TERM_RESIDENTS * scale, lt, True)
        if year == 2007:
            for measure, codes in (("bpa", "(3)"), ("avlastning", "(7, 8)"), ("stottekontakt", "(9)"),
                                   ("omsorgsstonad", "(11)")):  # fmt: skip
                (value,) = _one(con, persons_with + codes, [year])
                add(measure, year, T.SERVICES_2007[measure] * scale, value, True)
        if year == 2017:
            (rows,) = _one(con, f"select count(*) from {r}_tjeneste where aargang = ?", [year])
            add("decisions", year, T.DECISIONS_2017 * scale, rows, True)
    if per_year:
        age_year, r = next(((y, r) for y, r in per_year if y == 2022), per_year[-1])
        shares = con.execute(f"""
            select g, count(*) / sum(count(*)) over () from (
              select case when aargang - fodselsaar < 18 then 0 when aargang - fodselsaar < 50 then 1
                          when aargang - fodselsaar < 67 then 2 when aargang - fodselsaar < 80 then 3
                          when aargang - fodselsaar < 90 then 4 else 5 end as g
              from {r}_person where aargang = ?) group by g order by g
        """, [age_year]).fetchall()  # fmt: skip
        got = {int(g): float(s) for g, s in shares}
        mix = [m / sum(T.AGE_MIX_2022) for m in T.AGE_MIX_2022]
        for g, (name, _, _) in enumerate(T.AGE_GROUPS):
            add("age_share", age_year, mix[g], got.get(g, 0.0), age_year == 2022, f" {name}")
        home_sql = " union all ".join(
            f"""select (husstand = 1)::int as alone from {r}_person p where aargang = {int(y)} and not exists (
                  select 1 from {r}_tjeneste t where t.aargang = p.aargang and t.pseudonym = p.pseudonym
                  and t.tjeneste between 18 and 22
                  and (t.sluttdato is null or t.sluttdato > make_date(p.aargang::int, 12, 31)))"""
            for y, r in per_year
        )
        (alone,) = _one(con, f"select avg(alone) from ({home_sql})", [])
        add("living_alone", None, T.LIVING_ALONE_SHARE, alone, True)
    return out
