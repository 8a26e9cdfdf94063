"""Validate a delivered extract against the catalogue, with DuckDB SQL over its files.

`Validation` reads each file as text (`_extract`), checks the columns and every value (`_rules`),
builds one typed table per register table, and checks across rows and tables: one person row per
pseudonym, a person row for every pseudonym elsewhere, and no fødselsnummer anywhere (`_fnr`). Every
problem is collected, not just the first: the listing keeps the first `cap` per rule and the totals
count them all. Values shown in problems never hold a fødselsnummer (`_show`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iplos.catalog import Variable, catalog
from iplos.engine._extract import ExtractFile, ident, read_raw, sql_string
from iplos.engine._fnr import looks_like_fnr
from iplos.engine._rules import RULES, Check, row_checks, type_valid, typed_value, value_checks
from iplos.errors import IplosError, Problem, redact

CAP = 50
MEMORY_LIMIT = "2GB"
ROW = "__row"
_FNR_LIKE = re.compile(r"\d{6}[ .-]?\d{5}")
_FNR_SQL = r"[0-9]{6}[ .-]?[0-9]{5}"
_SHOW_MAX = 24


def _show(value: object) -> str | None:
    """A value safe to put in a problem: anything holding 11 digits masked, long values shortened."""
    if value is None:
        return None
    text = str(value)
    if _FNR_LIKE.search(text):
        return redact(text)
    return text if len(text) <= _SHOW_MAX else text[:12] + "…"


class ExtractRejected(IplosError):
    """An extract that broke validation rules; `report` holds every problem and the totals."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message, report.problems)
        self.report = report


_SYSTEMS = {"ICD10": "ICD-10", "ICPC2": "ICPC-2"}
_KIND = {
    "int8": "an integer",
    "int16": "an integer",
    "float64": "a decimal number",
    "date": "a date (YYYY-MM-DD)",
}


def _raw_checks(var: Variable) -> list[Check]:
    """Type and null checks of one column, on the text as delivered."""
    v = f"NULLIF(trim({ident(var.name)}), '')"
    checks = []
    if var.dtype != "string":
        condition = f"{v} IS NOT NULL AND NOT {type_valid(var.name, var.dtype)}"
        checks.append(Check("value.type", var.name, condition, f"not {_KIND[var.dtype]} of type {var.dtype}"))
    if not var.nullable:
        checks.append(
            Check("value.null", var.name, f"{v} IS NULL", "empty, but the column must have a value")
        )
    return checks


@dataclass
class ValidationReport:
    """What validation found: rows per table, the listed problems (first `cap` per rule) and totals."""

    register: str
    aargang: int
    files: list[ExtractFile]
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.totals

    def error(self) -> ExtractRejected:
        """The error listing every rule broken with its total, then the listed problems."""
        counts = ", ".join(f"{rule}: {n}" for rule, n in sorted(self.totals.items()))
        text = (
            f"the extract for {self.register} årgang {self.aargang} was not loaded: "
            f"{sum(self.totals.values())} problem(s) ({counts}); nothing was written"
        )
        if any(n > CAP for n in self.totals.values()):
            text += f"; the first {CAP} of each rule are listed"
        for note in self.skipped:
            text += f"; {note}"
        self.problems.sort(key=lambda p: (p.file or "", p.row or 0, p.column or ""))
        return ExtractRejected(text, self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "register": self.register,
            "aargang": self.aargang,
            "files": {f.table: str(f.path) for f in self.files},
            "rows": self.rows,
            "totals": dict(self.totals),
            "problems": [{k: v for k, v in p.__dict__.items() if v is not None} for p in self.problems],
            "skipped": self.skipped,
        }


class Validation:
    """One validation run over an extract, holding the DuckDB connection with the typed tables."""

    def __init__(
        self, register: str, aargang: int, *, cap: int = CAP, stored_person: Sequence[Path] = ()
    ) -> None:
        import duckdb

        self.register = register
        self.aargang = aargang
        self.cap = cap
        self.stored_person = list(stored_person)
        self._tmp = Path(tempfile.mkdtemp(prefix="iplos-load-"))
        # Bounded memory whatever the extract's size: DuckDB spills to the scratch folder beyond it.
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": str(self._tmp),
            "memory_limit": MEMORY_LIMIT,
            "preserve_insertion_order": True,
        }
        self.con = duckdb.connect(":memory:", config=config)
        self.typed: dict[str, str] = {}
        self.variables: dict[str, list[Variable]] = {}
        self.report: ValidationReport | None = None

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Validation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- collecting problems ------------------------------------------------------------
    def _add(self, report: ValidationReport, problem: Problem, count: int = 1) -> None:
        assert problem.rule in RULES, problem.rule
        if report.totals[problem.rule] < self.cap:
            report.problems.append(problem)
        report.totals[problem.rule] += count

    def _run_all(self, report: ValidationReport, table: str, file: Path, checks: list[Check]) -> None:
        """Run many checks on one table: one scan counts the bad rows of each, then only the checks
        that found some list their first rows."""
        if not checks:
            return
        counts = ", ".join(f"count_if({c.condition})" for c in checks)
        row = self.con.execute(f"SELECT {counts} FROM {ident(table)}").fetchone()
        for check, total in zip(checks, row or (), strict=True):
            if total:
                self._run(report, table, file, check)

    def _run(self, report: ValidationReport, table: str, file: Path, check: Check) -> None:
        shown = check.shown or f"CAST({ident(check.column)} AS VARCHAR)"
        limit = max(0, self.cap - report.totals[check.rule])
        # The window count runs after the inner filter (a QUALIFY in the condition included).
        sql = (
            f"SELECT r, v, count(*) OVER () FROM (SELECT {ROW} AS r, {shown} AS v FROM {ident(table)} "
            f"WHERE {check.condition}) ORDER BY r LIMIT {max(limit, 1)}"
        )
        rows = self.con.execute(sql).fetchall()
        if not rows:
            return
        total = int(rows[0][2])
        for row, value, _ in rows[:limit]:
            report.problems.append(
                Problem(
                    check.message,
                    file=str(file),
                    row=int(row),
                    column=check.column,
                    value=_show(value),
                    rule=check.rule,
                )
            )
        report.totals[check.rule] += total

    # ----- the run ------------------------------------------------------------------------
    def run(self, files: list[ExtractFile], file_problems: Iterable[Problem] = ()) -> ValidationReport:
        """Validate every file; returns the report (also kept as `self.report`)."""
        report = ValidationReport(self.register, self.aargang, files)
        for problem in file_problems:
            self._add(report, problem)
        cat = catalog()
        for source in files:
            variables = list(cat.variables(register=self.register, table=source.table))
            self.variables[source.table] = variables
            self._table(report, source, variables)
        self._relations(report, files)
        self.report = report
        return report

    def _table(self, report: ValidationReport, source: ExtractFile, variables: list[Variable]) -> None:
        raw, typed, file = f"raw_{source.table}", f"t_{source.table}", source.path
        columns, types, problems = read_raw(self.con, source, raw)
        for problem in problems:
            self._add(report, problem)
        if not columns:
            return
        report.rows[source.table] = self._count(raw)
        self._fnr(report, raw, file, columns, types)
        if any(p.rule == "file.malformed" for p in problems):
            report.skipped.append(f"value checks of {file.name} skipped until its malformed lines are fixed")
            return
        known = {v.name for v in variables}
        present = [v for v in variables if v.name in columns]
        for var in variables:
            if var.name not in columns:
                self._add(
                    report,
                    Problem(
                        "the column is missing", file=str(file), column=var.name, rule="schema.missing_column"
                    ),
                )
        for column in columns:
            if column not in known and column != "aargang":
                expected = ", ".join(v.name for v in variables)
                self._add(
                    report,
                    Problem(
                        f"unknown column (expected: {expected})",
                        file=str(file),
                        column=_show(column),
                        rule="schema.unknown_column",
                    ),
                )
        view = self._raw_view(raw)
        raw_checks = [check for var in present for check in _raw_checks(var)]
        if "aargang" in columns:
            mismatch = f"NULLIF(trim(aargang), '') IS DISTINCT FROM '{self.aargang}'"
            message = f"not the årgang loaded ({self.aargang})"
            raw_checks.append(Check("aargang.mismatch", "aargang", mismatch, message))
        self._run_all(report, view, file, raw_checks)
        self.con.execute(f"DROP VIEW {ident(view)}")
        select = ", ".join(f"{typed_value(v.name, v.dtype)} AS {ident(v.name)}" for v in present)
        self.con.execute(
            f"CREATE TABLE {ident(typed)} AS SELECT rowid + 1 AS {ROW}{', ' if select else ''}{select} FROM {ident(raw)}"
        )
        self.con.execute(f"DROP TABLE {ident(raw)}")
        self.typed[source.table] = typed
        names = {v.name for v in present}
        checks = [check for var in present for check in value_checks(var, self.aargang, names)]
        if "kommune" in names:
            checks.append(self._kommune())
        checks.extend(self._diagnoses(typed, present))
        checks.extend(row_checks(source.table, self.aargang, names, self._hour_based()))
        self._run_all(report, typed, file, checks)

    def _raw_view(self, raw: str) -> str:
        view = f"{raw}_rows"
        self.con.execute(f"CREATE VIEW {ident(view)} AS SELECT rowid + 1 AS {ROW}, * FROM {ident(raw)}")
        return view

    def _count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {ident(table)}").fetchone()
        return int(row[0]) if row else 0

    def _hour_based(self) -> list[str]:
        var = (
            catalog().variable("tjeneste", register=self.register, table="tjeneste")
            if "tjeneste" in catalog().tables(self.register)
            else None
        )
        return [c.code for c in var.codes if c.hour_based] if var else []

    def _kommune(self) -> Check:
        from iplos.catalog.regions import municipalities

        listed = ", ".join(sql_string(m.code) for m in municipalities(self.aargang))
        return Check(
            "kommune.unknown",
            "kommune",
            f"kommune IS NOT NULL AND kommune NOT IN ({listed})",
            f"not a kommune valid on 1 January {self.aargang}",
        )

    def _diagnoses(self, typed: str, present: list[Variable]) -> list[Check]:
        """Diagnosis codes against ICD-10 / ICPC-2, looked up once per distinct (classification, code)."""
        from iplos.catalog.hierarchies import diagnosis_title

        checks = []
        names = {v.name for v in present}
        for var in present:
            system = var.code_system or ""
            if var.codes or not ("ICD-10" in system or "ICPC-2" in system):
                continue
            c = ident(var.name)
            # `kode` holds ICD-10 or ICPC-2 as the row's `kodeverk` says; other columns one system.
            by_row = "kodeverk" in names and "/" in system
            system_sql = "CAST(kodeverk AS VARCHAR)" if by_row else sql_string(system)
            pairs = self.con.execute(
                f"SELECT DISTINCT {system_sql}, {c} FROM {ident(typed)} WHERE {c} IS NOT NULL"
            ).fetchall()
            bad = []
            for row_system, code in pairs:
                name = _SYSTEMS.get(str(row_system), str(row_system))
                if name not in ("ICD-10", "ICPC-2") or diagnosis_title(str(code), name) is None:
                    bad.append(f"{row_system}|{code}")
            if bad:
                listed = ", ".join(sql_string(b) for b in bad)
                checks.append(
                    Check(
                        "diagnose.code",
                        var.name,
                        f"({system_sql} || '|' || {c}) IN ({listed})",
                        f"not a code of its classification ({'kodeverk' if by_row else system})",
                    )
                )
        return checks

    def _fnr(
        self, report: ValidationReport, raw: str, file: Path, columns: list[str], types: dict[str, str]
    ) -> None:
        """Flag fødselsnumre in any column: candidates found in SQL, control digits checked in numpy."""
        # A file without a header row makes its first data row the column names.
        names = [c for c in columns if _FNR_LIKE.fullmatch(c.strip())]
        flagged = looks_like_fnr([re.sub(r"[ .-]", "", c.strip()) for c in names])
        for name, flag in zip(names, flagged.tolist(), strict=True):
            if flag:
                message = "a fødselsnummer or D-number as a column name (is the header row missing?)"
                problem = Problem(message, file=str(file), column=_show(name), rule="fnr.present")
                self._add(report, problem)
        candidates: list[tuple[str, str, str]] = []  # (column, candidate SQL, filter SQL)
        for column in columns:
            v = f"trim({ident(column)})"
            numeric = any(t in types.get(column, "") for t in ("INT", "DECIMAL", "DOUBLE", "FLOAT"))
            digits = f"regexp_replace({v}, '[ .-]', '', 'g')"
            # A number column loses the leading zero of a date in January-September: pad 10 digits.
            candidate = f"lpad({digits}, 11, '0')" if numeric else digits
            pattern = r"[0-9]{10,11}" if numeric else _FNR_SQL
            # The length test is cheap and rules out almost every value before the regex runs.
            candidates.append(
                (column, candidate, f"length({v}) BETWEEN 10 AND 12 AND regexp_full_match({v}, '{pattern}')")
            )
        counts = self.con.execute(
            "SELECT " + ", ".join(f"count_if({f})" for _, _, f in candidates) + f" FROM {ident(raw)}"
        ).fetchone()
        for (column, candidate, where), found in zip(candidates, counts or (), strict=True):
            if not found:
                continue
            rows = self.con.execute(
                f"SELECT {candidate} AS v, min(rowid) + 1 AS r, count(*) AS n FROM {ident(raw)} "
                f"WHERE {where} GROUP BY v"
            ).fetchall()
            flags = looks_like_fnr([str(r[0]) for r in rows])
            hits = sorted((int(r[1]), int(r[2])) for r, flag in zip(rows, flags, strict=True) if flag)
            total = sum(n for _, n in hits)
            if not total:
                continue
            limit = max(0, self.cap - report.totals["fnr.present"])
            for row, n in hits[:limit]:
                more = f" ({n} rows hold this number)" if n > 1 else ""
                report.problems.append(
                    Problem(
                        f"a fødselsnummer or D-number in a pseudonymous register{more}",
                        file=str(file),
                        row=row,
                        column=_show(column),
                        value=redact("0" * 11),
                        rule="fnr.present",
                    )
                )
            report.totals["fnr.present"] += total

    def _relations(self, report: ValidationReport, files: list[ExtractFile]) -> None:
        """One person row per pseudonym; every other table's pseudonym has a person row."""
        if "person" not in catalog().tables(self.register):
            return
        paths = {f.table: f.path for f in files}
        person = self.typed.get("person")
        if person is not None and "pseudonym" in self._columns(person):
            self._run(
                report,
                person,
                paths["person"],
                Check(
                    "person.duplicate",
                    "pseudonym",
                    f"pseudonym IS NOT NULL QUALIFY row_number() OVER (PARTITION BY pseudonym ORDER BY {ROW}) > 1",
                    "a second person row for this pseudonym in the årgang",
                ),
            )
        if person is None:
            if self.stored_person:
                listed = ", ".join(sql_string(str(p)) for p in self.stored_person)
                self.con.execute(
                    f"CREATE VIEW stored_person AS SELECT pseudonym FROM read_parquet([{listed}])"
                )
                person = "stored_person"
            elif any(t != "person" for t in self.typed):
                first = next(f for f in files if f.table != "person")
                self._add(
                    report,
                    Problem(
                        f"no person table for årgang {self.aargang} in the extract or the store to check pseudonyms against",
                        file=str(first.path),
                        rule="person.missing",
                    ),
                )
                return
        if person is None or "pseudonym" not in self._columns(person):
            return
        for table, typed in self.typed.items():
            if table == "person" or "pseudonym" not in self._columns(typed):
                continue
            self._run(
                report,
                typed,
                paths[table],
                Check(
                    "person.missing",
                    "pseudonym",
                    f"pseudonym IS NOT NULL AND pseudonym NOT IN (SELECT pseudonym FROM {ident(person)} WHERE pseudonym IS NOT NULL)",
                    f"no person row for this pseudonym in årgang {self.aargang}",
                ),
            )

    def _columns(self, table: str) -> list[str]:
        return [str(r[0]) for r in self.con.execute(f"DESCRIBE {ident(table)}").fetchall()]

    # ----- writing ------------------------------------------------------------------------
    def write(self, table: str, folder: Path) -> None:
        """Write the typed table (catalogue columns, in file order) as Parquet into `folder`."""
        if self.report is None or not self.report.ok:
            raise IplosError("only a validated extract without problems can be written")
        columns = ", ".join(ident(v.name) for v in self.variables[table])
        target = sql_string(str(folder / "part-00000.parquet"))
        self.con.execute(
            f"COPY (SELECT {columns} FROM {ident(self.typed[table])} ORDER BY {ROW}) TO {target} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
