"""The release gate: the last check before files leave, independent of the search that made them.

It reads the delivered data files back (every format) and counts with plain SQL (DuckDB) over their
values as text, written to be obviously right: each person's signature is their rows'
quasi-identifier values, sorted and joined into one string (so it says which years they are present
in), and the persons are grouped by it. Under person-level criteria every such class must hold at least k
persons; under record-level criteria every class of rows. Every other agreed criterion (distinct,
entropy or recursive l; equal or ordered t) is re-checked on the records of each (person class, row
values) group by `iplos.sdc.check_release`, and no more than the agreed share of persons (records)
may be suppressed. Across the tables of a multi-table delivery (`measure_linked_files`) it counts,
under the plan's `items_known` = m, every key of a person's person-year trajectory and at most m of
their distinct rows in the other tables ((k, k^m)-anonymity; a key held by 1 to k-1 persons refuses
the release), and beside it the full-knowledge classes (the whole multiset), reported so that no one
is surprised and enforced only when m is None. It checks that exactly the approved columns are delivered,
and scans every file of the delivery (data, codebook, reports, log, manifest) for keys, pseudonyms,
fødselsnumre and identifier columns (`_scan`). Any failure stops the release.

It uses nothing of the search: its own counting, and as a second opinion the disclosure-control
package's independent check (`iplos.sdc.check_release`, plain pandas counting that shares no code
with the search). A fault in the search cannot hide itself here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from iplos.delivery._formats import FORMATS, STEM, as_text, data_file_columns, read_data_file
from iplos.delivery._release import SERIAL, Criteria
from iplos.delivery._scan import Finding, scan_folder
from iplos.errors import IplosError, Problem
from iplos.sdc import KAnonymity, check_release

SIGNATURE = "_person_signature"


@dataclass(frozen=True)
class Measure:
    """What the gate counted in one data file."""

    file: str
    records: int
    persons: int
    classes: int
    smallest_class: int
    least_diverse: int | None
    suppressed_share: float
    enforced: bool = True  # False: shown so that no one is surprised, not a criterion of the plan
    uniques: int | None = None  # persons alone in their class
    expected_reidentification: float | None = None  # prosecutor's average success: classes / persons

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "records": self.records,
            "persons": self.persons,
            "classes": self.classes,
            "smallest_class": self.smallest_class,
            "least_diverse": self.least_diverse,
            "suppressed_share": self.suppressed_share,
            "enforced": self.enforced,
            "uniques": self.uniques,
            "expected_reidentification": self.expected_reidentification,
        }


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict: the measures per file and every failure found."""

    measures: tuple[Measure, ...]
    failures: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": list(self.failures),
            "measures": [m.to_dict() for m in self.measures],
        }


class ReleaseRefused(IplosError):
    """The release gate stopped a delivery."""


def text_column(series: pd.Series) -> pa.Array:
    """`as_text` of a column, computed once per distinct value (the file's rows only index them)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = as_text(pd.Series(uniques))
    labels = pa.array([*texts.tolist(), ""], type=pa.string())  # the last: missing
    return labels.take(pa.array(np.where(codes < 0, len(texts), codes)))


def read_as_text(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """A delivered data file (or `columns` of it) with every value as text (integers without '.0',
    missing as '')."""
    frame = read_data_file(path, columns)
    return pa.table({str(c): text_column(frame[c]) for c in frame.columns})


def measure_frame(
    name: str,
    text: pa.Table | pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    records_before: int,
    unit: str = "record",
    persons_before: int | None = None,
) -> Measure:
    """Count the classes of one data file: person classes (unit person) or row classes (unit record),
    and the sensitive values per class."""
    if isinstance(text, pd.DataFrame):
        text = pa.Table.from_pandas(text, preserve_index=False)
    records = text.num_rows
    if records == 0:
        return Measure(name, 0, 0, 0, 0, None, 1.0 if records_before else 0.0)
    if unit == "person":
        con = _person_signatures(text, quasi_identifiers, sensitive)
        try:
            sizes = [int(r[0]) for r in con.execute("SELECT count(*) FROM persons GROUP BY _sid").fetchall()]
            least = _least_diverse(con, quasi_identifiers, sensitive) if sensitive else None
        finally:
            con.close()
        n_persons = sum(sizes)
        before = persons_before if persons_before is not None else records_before
        share = 0.0 if before == 0 else (before - n_persons) / before
        return Measure(name, records, n_persons, len(sizes), min(sizes), least, share)
    share = 0.0 if records_before == 0 else (records_before - records) / records_before
    return _measure_records(name, text.to_pandas(), quasi_identifiers, sensitive, share)


def _measure_records(
    name: str, text: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str], share: float
) -> Measure:
    """Row classes (unit record) and the sensitive values per class."""
    records = len(text)
    classes = text.groupby(list(quasi_identifiers), sort=False) if quasi_identifiers else None
    if classes is None:
        counts = pd.Series([records])
        least = min((int(text[c].nunique()) for c in sensitive), default=None)
    else:
        counts = classes.size()
        least = min((int(classes[c].nunique().min()) for c in sensitive), default=None)
    return Measure(
        file=name,
        records=records,
        persons=int(text[SERIAL].nunique()),
        classes=len(counts),
        smallest_class=int(counts.min()),
        least_diverse=least,
        suppressed_share=share,
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _person_signatures(
    text: pa.Table, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = ()
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding `rows` (the file's text values, `_p` the person) and `persons`
    (each person's signature `_sig` and its number `_sid`).

    A row is its quasi-identifier values joined by a unit separator (U+001F), which no delivered
    value holds as text; a person's signature is their rows sorted and joined by a record
    separator (U+001E), so it says which years (rows) they have. Plain SQL over the file's own
    values: nothing of the search is used.
    """
    con = duckdb.connect(config={"threads": 2})
    con.register("frame", text)
    row = " || chr(31) || ".join(_quoted(q) for q in quasi_identifiers)
    kept = "".join(f", {_quoted(c)}" for c in sensitive)
    con.execute(f"CREATE TEMP TABLE rows AS SELECT {_quoted(SERIAL)} AS _p, {row} AS _row{kept} FROM frame")
    con.unregister("frame")
    con.execute(
        "CREATE TEMP TABLE persons AS SELECT _p, _sig, dense_rank() OVER (ORDER BY _sig) AS _sid "
        "FROM (SELECT _p, string_agg(_row, chr(30) ORDER BY _row) AS _sig FROM rows GROUP BY _p)"
    )
    return con


def _least_diverse(
    con: duckdb.DuckDBPyConnection, quasi_identifiers: Sequence[str], sensitive: Sequence[str]
) -> int:
    """The fewest distinct values of a sensitive column among the records of one (person class,
    row values) group: what an attacker who found a person's class learns of one of their rows."""
    counts = ", ".join(f"count(DISTINCT {_quoted(c)}) AS d{i}" for i, c in enumerate(sensitive))
    least = ", ".join(f"min(d{i})" for i in range(len(sensitive)))
    found = con.execute(
        f"SELECT least({least}) FROM (SELECT {counts} FROM rows JOIN persons USING (_p) GROUP BY _sid, _row)"
    ).fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def with_signatures(text: pa.Table, quasi_identifiers: Sequence[str]) -> pd.DataFrame:
    """The rows with a column naming their person's signature (a number per distinct signature)."""
    con = _person_signatures(text, quasi_identifiers)
    try:
        numbered = con.execute("SELECT _p, _sid FROM persons").fetchnumpy()
    finally:
        con.close()
    signature = pd.Series(numbered["_sid"], index=pd.Index(numbered["_p"]))
    out: pd.DataFrame = text.to_pandas()
    out[SIGNATURE] = out[SERIAL].map(signature).to_numpy()
    return out


def measure_file(
    path: Path,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    records_before: int,
    unit: str = "record",
    persons_before: int | None = None,
) -> Measure:
    """Count the classes of one delivered data file."""
    return measure_frame(
        path.name, read_as_text(path), quasi_identifiers, sensitive, records_before, unit, persons_before
    )


def _second_opinion(
    text: pa.Table | pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    criteria: Criteria,
) -> tuple[str, ...]:
    """`iplos.sdc.check_release` of every agreed criterion on the file's values as text.

    Under person-level criteria the groups are (person signature, row values): the records an
    attacker who found a person's class cannot tell apart; k is then counted in persons above.
    """
    if isinstance(text, pd.DataFrame):
        text = pa.Table.from_pandas(text, preserve_index=False)
    checks = criteria.sdc_criteria(sensitive)
    if criteria.unit != "person":
        return check_release(text.to_pandas(), list(quasi_identifiers), list(sensitive), checks).failures
    others = [c for c in checks if not isinstance(c, KAnonymity)]
    if not others:
        return ()
    keyed = with_signatures(text, quasi_identifiers)
    return check_release(keyed, [SIGNATURE, *quasi_identifiers], list(sensitive), others).failures


def measure_data_files(
    folder: Path,
    *,
    columns: Sequence[str],
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    criteria: Criteria,
    records_before: int,
    stem: str = STEM,
    persons_before: int | None = None,
) -> tuple[list[Measure], list[str]]:
    """Re-measure every delivered data file against the criteria; returns measures and failures."""
    failures: list[str] = []
    measures: list[Measure] = []
    counted: list[tuple[pa.Table, Measure]] = []
    for fmt in FORMATS:
        path = folder / f"{stem}.{fmt}"
        if not path.is_file():
            failures.append(f"{path.name}: missing")
            continue
        names = data_file_columns(path)
        if names != list(columns):
            failures.append(f"{path.name}: columns {names} are not the approved columns {list(columns)}")
            continue
        # Only the serial number, the quasi-identifiers and the sensitive columns decide the counts;
        # formats that hold the same values of these (compared cell for cell as text) share one count.
        counted_columns = [c for c in dict.fromkeys([SERIAL, *quasi_identifiers, *sensitive]) if c in names]
        text = read_as_text(path, counted_columns)
        same = next((m for t, m in counted if t.equals(text)), None)
        if same is not None:
            m = dataclasses.replace(same, file=path.name)
        else:
            m = measure_frame(
                path.name, text, quasi_identifiers, sensitive, records_before, criteria.unit, persons_before
            )
            counted.append((text, m))
        measures.append(m)
        if m.records and m.smallest_class < criteria.k:
            what = "persons share a signature" if criteria.unit == "person" else "records form a class"
            failures.append(f"{path.name}: {m.smallest_class} {what}, fewer than k={criteria.k}")
        if (
            criteria.l is not None
            and criteria.l_variant == "distinct"
            and m.least_diverse is not None
            and m.least_diverse < criteria.l
        ):
            failures.append(
                f"{path.name}: a class has {m.least_diverse} distinct sensitive values, fewer than l={criteria.l}"
            )
        if m.suppressed_share > criteria.max_suppressed + 1e-12:
            failures.append(
                f"{path.name}: {m.suppressed_share:.1%} of the {criteria.unit}s are suppressed, more than "
                f"{criteria.max_suppressed:.1%}"
            )
        if same is None:
            failures += [
                f"{path.name}: independent check: {f}"
                for f in _second_opinion(text, quasi_identifiers, sensitive, criteria)
            ]
    return measures, failures


def release_gate(
    folder: Path,
    *,
    columns: Sequence[str],
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    criteria: Criteria,
    records_before: int,
    keys_hex: Iterable[str],
    forbidden_columns: Iterable[str],
    allowed_hex: frozenset[str] = frozenset(),
    stem: str = STEM,
    persons_before: int | None = None,
) -> GateResult:
    """Re-measure and scan a delivery folder; the result lists every failure (none: it may leave)."""
    measures, failures = measure_data_files(
        folder,
        columns=columns,
        quasi_identifiers=quasi_identifiers,
        sensitive=sensitive,
        criteria=criteria,
        records_before=records_before,
        stem=stem,
        persons_before=persons_before,
    )
    findings = scan_folder(folder, keys_hex, forbidden_columns, allowed_hex)
    failures += [str(f) for f in findings]
    return GateResult(measures=tuple(measures), failures=tuple(failures), findings=tuple(findings))


def refuse_unless_passed(result: GateResult, case_id: str) -> None:
    """Raise `ReleaseRefused` listing every failure, when there is one."""
    if not result.passed:
        raise ReleaseRefused(
            f"case {case_id}: the release gate stopped the delivery",
            [Problem(f, rule="release-gate") for f in result.failures],
        )


def _items_keys(con: duckdb.DuckDBPyConnection, relational: str, m: int) -> list[tuple[int, int]]:
    """(persons, keys) for every distinct (trajectory, item set of size <= m) key, by plain SQL.

    `every` holds (_p, _tab, _row). A person's trajectory is their rows of the `relational` table,
    sorted and joined (as in `_person_signatures`), with the names of the other tables they have
    rows in; their items are the DISTINCT rows of the other
    tables, each prefixed with its table. A key of size r is a trajectory and r items of one
    person in increasing order (an r-fold self-join); its count is the persons who have it.
    """
    con.execute(
        "CREATE TEMP TABLE traj AS SELECT p._p, dense_rank() OVER (ORDER BY coalesce(t._sig, ''), "
        "coalesce(o._tabs, '')) AS _tid FROM (SELECT DISTINCT _p FROM every) p "
        "LEFT JOIN (SELECT _p, string_agg(_row, chr(30) ORDER BY _row) AS _sig FROM every WHERE _tab = ? "
        "GROUP BY _p) t USING (_p) "
        "LEFT JOIN (SELECT _p, string_agg(DISTINCT _tab, chr(30) ORDER BY _tab) AS _tabs FROM every "
        "WHERE _tab <> ? GROUP BY _p) o USING (_p)",
        [relational, relational],
    )
    con.execute(
        "CREATE TEMP TABLE items AS SELECT _p, dense_rank() OVER (ORDER BY _item) AS _iid FROM "
        "(SELECT DISTINCT _p, _tab || chr(31) || _row AS _item FROM every WHERE _tab <> ?)",
        [relational],
    )
    found = [
        (int(n), int(c))
        for n, c in con.execute(
            "SELECT n, count(*) FROM (SELECT _tid, count(*) AS n FROM traj GROUP BY _tid) GROUP BY n"
        ).fetchall()
    ]
    for r in range(1, m + 1):
        joins = " ".join(
            f"JOIN items i{j} ON i{j}._p = i1._p AND i{j}._iid > i{j - 1}._iid" for j in range(2, r + 1)
        )
        columns = ", ".join(f"i{j}._iid" for j in range(1, r + 1))
        found += [
            (int(n), int(c))
            for n, c in con.execute(
                f"SELECT n, count(*) FROM (SELECT t._tid, {columns}, count(*) AS n FROM items i1 {joins} "
                f"JOIN traj t ON t._p = i1._p GROUP BY t._tid, {columns}) GROUP BY n"
            ).fetchall()
        ]
    return found


def measure_linked_files(
    folder: Path,
    *,
    tables: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    criteria: Criteria,
    persons_before: int,
    items_known: int | None = None,
) -> tuple[list[Measure], list[str]]:
    """Count person classes across every delivered table together, format by format.

    `tables` holds (file stem, its columns, its quasi-identifiers); the first is the person-year
    table. Two counts, each plain SQL over the files' values as text:

    - full knowledge: a person's signature is the sorted list of their rows in every table, each
      row its table's stem and its quasi-identifier values, so two persons share a class only when
      they look alike in every year and every table. Enforced (every class at least k persons) when
      `items_known` is None; otherwise measured and reported (`enforced` False: persons unique and
      the expected re-identification under full knowledge), so that no one is surprised.
    - `items_known` = m: (k, k^m)-anonymity (`_items_keys`): every key of a person's person-year
      trajectory and at most m of their distinct other-table rows is held by at least k persons;
      a key held by 1 to k-1 persons refuses the release.

    No more than the agreed share of persons may be missing.
    """
    failures: list[str] = []
    measures: list[Measure] = []
    counted: list[tuple[pa.Table, list[Measure]]] = []
    for fmt in FORMATS:
        parts: list[pa.Table] = []
        for stem, columns, qis in tables:
            path = folder / f"{stem}.{fmt}"
            if not path.is_file():
                failures.append(f"{path.name}: missing")
                continue
            text = read_as_text(path)
            if text.column_names != list(columns):
                failures.append(
                    f"{path.name}: columns {text.column_names} are not the approved columns {list(columns)}"
                )
                continue
            table_name = pa.array([stem] * text.num_rows, type=pa.string())
            rows = (
                pc.binary_join_element_wise(table_name, *(text.column(c) for c in qis), "\x1f")
                if qis
                else table_name
            )
            parts.append(pa.table({SERIAL: text.column(SERIAL), "_tab": table_name, "_row": rows}))
        if len(parts) != len(tables):
            continue
        every = pa.concat_tables(parts)
        same = next((ms for t, ms in counted if t.equals(every)), None)
        found = (
            [dataclasses.replace(x, file=x.file.replace("parquet", fmt)) for x in same]
            if same is not None
            else _measure_linked(every, f"all tables .{fmt}", tables[0][0], persons_before, items_known)
        )
        if same is None:
            counted.append((every, found))
        for m in found:
            measures.append(m)
            if not m.enforced:
                continue
            if m.records and m.smallest_class < criteria.k:
                what = (
                    "persons share a signature across the tables"
                    if items_known is None
                    else f"persons share a key of the person-year trajectory and at most {items_known} "
                    "rows of the other tables"
                )
                failures.append(f"{m.file}: {m.smallest_class} {what}, fewer than k={criteria.k}")
            if m.suppressed_share > criteria.max_suppressed + 1e-12:
                failures.append(
                    f"{m.file}: {m.suppressed_share:.1%} of the persons are suppressed, more than "
                    f"{criteria.max_suppressed:.1%}"
                )
    return measures, failures


def _measure_linked(
    every: pa.Table, name: str, relational: str, persons_before: int, items_known: int | None
) -> list[Measure]:
    """The full-knowledge measure and, with `items_known`, the (k, k^m) measure of one format."""
    if every.num_rows == 0:
        return [Measure(name, 0, 0, 0, 0, None, 1.0 if persons_before else 0.0)]
    con = _person_signatures(every.select([SERIAL, "_row"]), ["_row"])
    try:
        sizes = [int(r[0]) for r in con.execute("SELECT count(*) FROM persons GROUP BY _sid").fetchall()]
        if items_known is not None:
            con.register("frame", every)
            con.execute(f"CREATE TEMP TABLE every AS SELECT {_quoted(SERIAL)} AS _p, _tab, _row FROM frame")
            con.unregister("frame")
            keys = _items_keys(con, relational, items_known)
    finally:
        con.close()
    persons = sum(sizes)
    share = 0.0 if persons_before == 0 else (persons_before - persons) / persons_before
    full = Measure(
        name if items_known is None else f"{name} (full knowledge, not enforced)",
        every.num_rows,
        persons,
        len(sizes),
        min(sizes),
        None,
        share,
        enforced=items_known is None,
        uniques=sum(1 for n in sizes if n == 1),
        expected_reidentification=len(sizes) / persons if persons else 0.0,
    )
    if items_known is None:
        return [full]
    model = Measure(
        f"{name} (k^m, m={items_known})",
        every.num_rows,
        persons,
        sum(c for _, c in keys),
        min(n for n, _ in keys),
        None,
        share,
        uniques=sum(c for n, c in keys if n == 1),
    )
    return [model, full]
