"""Population step of tools/build_regions_data.py: kommune x age x sex, 1 January, 2006-2024.

For year Y, the kommuner of Y's classification and the 2024 kommuner fall into groups that map onto
each other through the KLASS change graph (`_changes.components`). For each group:

* one kommune of Y (the area is unchanged up to 2024, or later split): its population by age and sex
  is the sum of the b2024 series (SSB 07459 re-aggregated to 2024 kommuner by csdata) over the
  group's 2024 kommuner: exact, with the real sex split.
* several kommuner of Y (merged later): both-sex counts by age come from SSB 07459 in the codes valid
  in Y (the original-codes file); codes that file lacks get the group's b2024 total minus the kommuner
  it has, divided among the missing codes in proportion to their published total population
  (data/population_gap_anchors.csv, interpolated linearly between anchor dates). Males per age are
  the group's b2024 males divided over the kommuner in proportion to their both-sex counts (largest
  remainder), so the group's totals by sex and age stay those of b2024.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from iplos.atomic import write_bytes_atomic, write_text_atomic
from iplos.catalog.regions import _changes, _classification, _data

AGES = 106  # 0..105, 105 = 105 or older


Vector = npt.NDArray[np.int64]


def _largest_remainder(weights: npt.ArrayLike, total: int) -> Vector:
    """Integers proportional to `weights` that sum to `total` (Hamilton's method)."""
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = w * (total / w.sum())
    base: Vector = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


def _anchors(data: Path) -> dict[str, list[tuple[dt.date, float]]]:
    out: dict[str, list[tuple[dt.date, float]]] = {}
    with (data / "population_gap_anchors.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["code"], []).append((dt.date.fromisoformat(r["date"]), float(r["population"])))
    return {c: sorted(v) for c, v in out.items()}


def _anchor_value(points: list[tuple[dt.date, float]], date: dt.date) -> float:
    if date <= points[0][0]:
        return points[0][1]
    if date >= points[-1][0]:
        return points[-1][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(points):
        if d0 <= date <= d1:
            t = (date - d0).days / max(1, (d1 - d0).days)
            return v0 + t * (v1 - v0)
    raise AssertionError("unreachable")


def _by_age(frame: pd.DataFrame, column: str) -> dict[str, Vector]:
    """kommune code -> counts of `column` by age 0..105 (missing ages 0)."""
    return {
        str(code): group.set_index("age")[column].reindex(range(AGES), fill_value=0).to_numpy(dtype=np.int64)
        for code, group in frame.groupby("kommune_code")
    }


def _source_label(code: str, missing: list[str], no_anchor: set[str]) -> str:
    if code not in missing:
        return "original codes"
    return "estimated, equal shares" if code in no_anchor else "estimated, anchor shares"


def build_population(source: Path, data: Path) -> None:
    pop = source / "population"
    b = pd.read_csv(pop / "kommune_population_by_sex_age_2005_2026_b2024.csv.gz", dtype={"kommune_code": str})
    o = pd.read_csv(
        pop / "kommune_population_by_age_2005_2021_original_codes.csv.gz", dtype={"kommune_code": str}
    )
    anchors = _anchors(data)
    last = len(_data.versions()) - 1
    frames = []
    sources: list[list[object]] = []
    no_anchor: set[str] = set()
    for year in range(_data.FIRST_YEAR, _data.LAST_YEAR + 1):
        by = b[b.year == year]
        male, female = _by_age(by, "male"), _by_age(by, "female")
        orig = _by_age(o[o.year == year], "population")
        index = _classification.version_index(year)
        rows: dict[str, tuple[Vector, Vector]] = {}
        for olds, news in _changes.components(index, last):
            m_tot = sum((male[n] for n in news), np.zeros(AGES, dtype=np.int64))
            f_tot = sum((female[n] for n in news), np.zeros(AGES, dtype=np.int64))
            if len(olds) == 1:
                (code,) = olds
                rows[code] = (m_tot, f_tot)
                sources.append([year, code, "b2024"])
                continue
            codes = sorted(olds)
            known = {c: orig[c] for c in codes if c in orig}
            missing = [c for c in codes if c not in orig]
            both = dict(known)
            if missing:
                residual = np.clip(
                    m_tot + f_tot - sum(known.values(), np.zeros(AGES, dtype=np.int64)), 0, None
                )
                date = dt.date(year, 1, 1)
                if all(c in anchors for c in missing):
                    weights = np.array([_anchor_value(anchors[c], date) for c in missing])
                else:
                    # No published figure found for these codes: equal shares, flagged as such.
                    weights = np.ones(len(missing))
                    no_anchor.update(missing)
                alloc = np.stack([_largest_remainder(weights, int(residual[a])) for a in range(AGES)], axis=1)
                for i, c in enumerate(missing):
                    both[c] = alloc[i]
            matrix = np.stack([both[c] for c in codes])  # codes x ages
            males = np.zeros_like(matrix)
            for a in range(AGES):
                col = matrix[:, a]
                total = int(col.sum())
                target = (
                    int(m_tot[a])
                    if total == int(m_tot[a] + f_tot[a])
                    else round(total * m_tot[a] / max(1, m_tot[a] + f_tot[a]))
                )
                males[:, a] = np.minimum(_largest_remainder(col, target), col)
            for i, c in enumerate(codes):
                rows[c] = (males[i], matrix[i] - males[i])
                sources.append([year, c, _source_label(c, missing, no_anchor)])
        expected = set(_classification.codes(year))
        if set(rows) != expected:
            raise SystemExit(
                f"{year}: population codes differ from the classification: {sorted(set(rows) ^ expected)}"
            )
        for code in sorted(rows):
            m, f = rows[code]
            frames.append(
                pd.DataFrame({"year": year, "kommune": code, "age": np.arange(AGES), "male": m, "female": f})
            )
    out = pd.concat(frames, ignore_index=True)
    out = out.astype(
        {"year": "int16", "kommune": "string", "age": "int8", "male": "int32", "female": "int32"}
    )
    buffer = io.BytesIO()
    out.to_parquet(buffer, index=False, compression="zstd")
    write_bytes_atomic(data / "population.parquet", buffer.getvalue())
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["year", "kommune", "source"], *sources])
    write_text_atomic(data / "population_sources.csv", text.getvalue())

    nat = pd.read_csv(pop / "norway_population_by_sex_age_1986_2026.csv")
    nat = (
        nat[(nat.year >= _data.FIRST_YEAR) & (nat.year <= _data.LAST_YEAR)]
        .groupby("year")[["male", "female"]]
        .sum()
    )
    write_text_atomic(
        data / "norway_population.csv", nat.reset_index().to_csv(index=False, lineterminator="\n")
    )
    _split_shares(out, data)


def _split_shares(population: pd.DataFrame, data: Path) -> None:
    """Population shares of each kommune that was split, by the residual method (see README)."""
    totals = population.assign(n=population.male + population.female).groupby(["year", "kommune"])["n"].sum()
    rows: list[list[object]] = [["date", "old_code", "new_code", "share", "method"]]
    versions = _data.versions()
    for step in _changes.steps():
        date = versions[step.index + 1].valid_from
        year = date.year
        for old, succ in step.successors.items():
            if len(succ) < 2:
                continue
            before = {c: int(totals[(year - 1, c)]) for c in {p for s in succ for p in step.predecessors[s]}}
            after = {s: int(totals[(year, s)]) for s in succ}
            growth = sum(after.values()) / max(1, sum(before.values()))
            residual = {
                s: after[s] - growth * sum(before[p] for p in step.predecessors[s] if p != old) for s in succ
            }
            exact = all(step.predecessors[s] == (old,) for s in succ)
            usable = all(r > 0 for r in residual.values())
            total = sum(residual.values())
            for s in succ:
                if usable:
                    share = f"{residual[s] / total:.4f}"
                    method = (
                        "exact: population of the new kommuner on 1 January after the split"
                        if exact
                        else (
                            "estimate: new kommune's population minus its other predecessors' (grown by the group's growth)"
                        )
                    )
                else:
                    share, method = "", "not estimable: residual not positive"
                rows.append([date.isoformat(), old, s, share, method])
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    write_text_atomic(data / "split_shares.csv", text.getvalue())
