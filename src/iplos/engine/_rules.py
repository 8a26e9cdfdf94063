"""The validation rules of `iplos load`: their ids, and the SQL that finds the rows breaking them.

Each rule finds bad rows with one SQL condition over a table of the extract, so that DuckDB checks
millions of rows in a few column scans. Conditions read the typed table (`__row`, then one column per
catalogue variable, NULL where the text was not a valid value); type and null rules read the text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from iplos.catalog import Variable
from iplos.engine._extract import ident, sql_string

RULES: dict[str, str] = {
    "file.unknown": "a file in the extract folder that is not a table of the register",
    "file.duplicate": "a table delivered twice (as CSV and as Parquet)",
    "file.missing_table": "a table of the register missing from the extract folder",
    "file.malformed": "a CSV line that does not parse (wrong number of fields, bad quoting)",
    "file.unreadable": "a file that cannot be read at all",
    "schema.missing_column": "a catalogue column missing from the file",
    "schema.unknown_column": "a column the catalogue does not know",
    "aargang.mismatch": "an 'aargang' column that disagrees with the årgang loaded",
    "value.type": "a value that is not of the column's type (integer, decimal, date YYYY-MM-DD)",
    "value.null": "an empty value in a column that must have one",
    "value.code": "a code not in the column's code list for the årgang",
    "value.range": "a number outside the column's range (hours per week 0-168, birth year, ...)",
    "value.format": "a value in the wrong format (organisation number: 9 digits)",
    "pseudonym.format": "a pseudonym that is not 64 lower-case hexadecimal characters",
    "kommune.unknown": "a kommune code not valid on 1 January of the årgang (SSB KLASS 131)",
    "bydel.format": "a bydel code that is not 6 digits starting with the person's kommune",
    "diagnose.code": "a diagnosis code not in its classification (ICD-10 without dot, ICPC-2)",
    "date.range": "an implausible date (before 1900, or after the årgang)",
    "date.order": "dates in the wrong order (vedtaksdato <= startdato <= sluttdato)",
    "date.outside_aargang": "a period or death that does not touch the årgang",
    "tjeneste.hours_not_hour_based": "hours per week on a service that is not hour-based",
    "person.duplicate": "a second person row for the same pseudonym in the årgang",
    "person.missing": "a pseudonym with no person row in the årgang",
    "fnr.present": "a fødselsnummer or D-number in a pseudonymous register (shown redacted)",
}

EARLIEST = dt.date(1900, 1, 1)
# End dates may be planned ahead (a time-limited stay); beyond this many years they are implausible.
END_DATE_SLACK_YEARS = 5
END_DATES = {"sluttdato", "utskrivningsdato"}
# Date pairs that must be in order within a row: (earlier, later).
DATE_ORDER: tuple[tuple[str, str], ...] = (
    ("vedtaksdato", "startdato"),
    ("startdato", "sluttdato"),
    ("innskrivningsdato", "utskrivningsdato"),
)
# Periods that must overlap the årgang: (start column, end column or None).
PERIODS: dict[str, tuple[str, str]] = {
    "tjeneste": ("startdato", "sluttdato"),
    "episode": ("innskrivningsdato", "utskrivningsdato"),
}
# Dates that must fall inside the årgang (a person's status is at the end of the årgang or at death).
IN_AARGANG = {"dodsdato"}

SQL_TYPES = {"string": "VARCHAR", "int8": "TINYINT", "int16": "SMALLINT", "float64": "DOUBLE", "date": "DATE"}
_INT = r"[+-]?[0-9]+(\.0*)?"
_FLOAT = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00(\.0+)?)?"


def text(column: str) -> str:
    """The trimmed text of a raw column, NULL when empty."""
    return f"NULLIF(trim({ident(column)}), '')"


def type_valid(column: str, dtype: str) -> str:
    """SQL that is true when the (non-empty) text of `column` is a valid value of `dtype`."""
    v = text(column)
    sql_type = SQL_TYPES[dtype]
    if dtype in ("int8", "int16"):
        return f"(regexp_full_match({v}, '{_INT}') AND TRY_CAST(TRY_CAST({v} AS DOUBLE) AS {sql_type}) IS NOT NULL)"
    if dtype == "float64":
        return f"(regexp_full_match({v}, '{_FLOAT}') AND isfinite(TRY_CAST({v} AS DOUBLE)))"
    if dtype == "date":
        return f"(regexp_full_match({v}, '{_DATE}') AND TRY_CAST(left({v}, 10) AS DATE) IS NOT NULL)"
    return "true"


def typed_value(column: str, dtype: str) -> str:
    """SQL for the typed value of a raw column: NULL when empty or invalid."""
    v = text(column)
    if dtype == "string":
        return f"CAST({v} AS VARCHAR)"
    if dtype in ("int8", "int16"):
        value = f"CAST(CAST({v} AS DOUBLE) AS {SQL_TYPES[dtype]})"
    elif dtype == "float64":
        value = f"CAST({v} AS DOUBLE)"
    else:
        value = f"CAST(left({v}, 10) AS DATE)"
    return f"CASE WHEN {v} IS NOT NULL AND {type_valid(column, dtype)} THEN {value} END"


@dataclass(frozen=True)
class Check:
    """One rule over one column of a typed table: rows where `condition` holds are bad."""

    rule: str
    column: str
    condition: str
    message: str
    shown: str | None = None  # SQL of the value to show; the column itself when None


def _date_literal(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def value_checks(var: Variable, aargang: int, present: set[str]) -> list[Check]:
    """Checks of one catalogue variable's typed values in the årgang `aargang`."""
    c = ident(var.name)
    checks: list[Check] = []
    if var.codes:
        valid = [code.code for code in var.codes if code.valid_in(aargang)]
        listed = ", ".join(sql_string(v) for v in valid)
        name = var.codelist or var.name
        checks.append(
            Check(
                "value.code",
                var.name,
                f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({listed})",
                f"not in code list {name!r} for {aargang} (valid: {', '.join(valid)})",
            )
        )
    if var.is_numeric and (var.min_value is not None or var.max_value is not None):
        lo = var.min_value if var.min_value is not None else float("-inf")
        hi = var.max_value if var.max_value is not None else float("inf")
        if var.name == "fodselsaar":
            hi = min(hi, aargang)  # nobody in the årgang is born after it
        checks.append(
            Check("value.range", var.name, f"{c} < {lo!r} OR {c} > {hi!r}", f"outside {_num(lo)}-{_num(hi)}")
        )
    if var.dtype == "date":
        checks.extend(_date_checks(var.name, aargang))
    if var.name == "pseudonym":
        checks.append(
            Check(
                "pseudonym.format",
                var.name,
                f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '[0-9a-f]{{64}}')",
                "not a pseudonym (64 lower-case hexadecimal characters)",
            )
        )
    if var.name == "leverandor_orgnr":
        checks.append(
            Check(
                "value.format",
                var.name,
                f"{c} IS NOT NULL AND NOT regexp_full_match({c}, '[0-9]{{9}}')",
                "not an organisation number (9 digits)",
            )
        )
    if var.name == "bydel" and "kommune" in present:
        checks.append(
            Check(
                "bydel.format",
                var.name,
                f"{c} IS NOT NULL AND NOT (regexp_full_match({c}, '[0-9]{{6}}') AND left({c}, 4) = kommune)",
                "not a bydel of the person's kommune (6 digits starting with the kommune code)",
            )
        )
    return checks


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _date_checks(column: str, aargang: int) -> list[Check]:
    c = ident(column)
    last = (
        dt.date(aargang + END_DATE_SLACK_YEARS, 12, 31) if column in END_DATES else dt.date(aargang, 12, 31)
    )
    checks = [
        Check(
            "date.range",
            column,
            f"{c} < {_date_literal(EARLIEST)} OR {c} > {_date_literal(last)}",
            f"implausible date (expected {EARLIEST.isoformat()} to {last.isoformat()})",
        )
    ]
    if column in IN_AARGANG:
        first = dt.date(aargang, 1, 1)
        checks.append(
            Check(
                "date.outside_aargang",
                column,
                f"{c} < {_date_literal(first)} AND {c} >= {_date_literal(EARLIEST)}",
                f"death before the årgang {aargang}: the person does not belong in it",
            )
        )
    return checks


def row_checks(table: str, aargang: int, present: set[str], hour_based: list[str]) -> list[Check]:
    """Checks across columns of one row: date order, period within the årgang, hours on the service."""
    checks = []
    for earlier, later in DATE_ORDER:
        if {earlier, later} <= present:
            checks.append(
                Check(
                    "date.order",
                    later,
                    f"{ident(later)} < {ident(earlier)}",
                    f"{later} is before {earlier}",
                    shown=f"CAST({ident(earlier)} AS VARCHAR) || ' > ' || CAST({ident(later)} AS VARCHAR)",
                )
            )
    period = PERIODS.get(table)
    if period and set(period) <= present:
        start, end = period
        first, last = _date_literal(dt.date(aargang, 1, 1)), _date_literal(dt.date(aargang, 12, 31))
        checks.append(
            Check(
                "date.outside_aargang",
                start,
                f"{ident(start)} > {last} OR {ident(end)} < {first}",
                f"the period {start}-{end} does not overlap the årgang {aargang}",
                shown=f"CAST({ident(start)} AS VARCHAR) || ' - ' || coalesce(CAST({ident(end)} AS VARCHAR), '')",
            )
        )
    if table == "tjeneste" and {"tjeneste", "timer_per_uke"} <= present:
        listed = ", ".join(sql_string(code) for code in hour_based)
        checks.append(
            Check(
                "tjeneste.hours_not_hour_based",
                "timer_per_uke",
                f"timer_per_uke IS NOT NULL AND CAST(tjeneste AS VARCHAR) NOT IN ({listed})",
                f"hours per week on a service that is not hour-based (hour-based: {', '.join(hour_based)})",
                shown="'tjeneste ' || CAST(tjeneste AS VARCHAR) || ': ' || CAST(timer_per_uke AS VARCHAR)",
            )
        )
    return checks
