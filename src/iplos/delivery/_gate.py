"""The release gate: the last check before files leave, independent of the search that made them.

It reads the delivered data files back (every format) and counts by hand, written to be obviously
right rather than fast: each person's signature is the sorted tuple of their rows' quasi-identifier
values (so it says which years they are present in), and a dictionary maps each signature to the set
of serial numbers that have it. Under person-level criteria every such class must hold at least k
persons; under record-level criteria every class of rows. Every other agreed criterion (distinct,
entropy or recursive l; equal or ordered t) is re-checked on the records of each (person class, row
values) group by `iplos.sdc.check_release`, and no more than the agreed share of persons (records)
may be suppressed. It checks that exactly the approved columns are delivered,
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

import pandas as pd

from iplos.delivery._formats import FORMATS, STEM, as_text, read_data_file
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "records": self.records,
            "persons": self.persons,
            "classes": self.classes,
            "smallest_class": self.smallest_class,
            "least_diverse": self.least_diverse,
            "suppressed_share": self.suppressed_share,
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


def read_as_text(path: Path) -> pd.DataFrame:
    """A delivered data file with every value as text (integers without '.0', missing as '')."""
    frame = read_data_file(path)
    return pd.DataFrame({c: as_text(frame[c]) for c in frame.columns})


def measure_frame(
    name: str,
    text: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    records_before: int,
    unit: str = "record",
    persons_before: int | None = None,
) -> Measure:
    """Count the classes of one data file: person classes (unit person) or row classes (unit record),
    and the sensitive values per class."""
    records = len(text)
    if records == 0:
        return Measure(name, 0, 0, 0, 0, None, 1.0 if records_before else 0.0)
    if unit == "person":
        counted = _signature_of_person(text, quasi_identifiers).value_counts()
        sizes = [int(v) for v in counted.to_numpy()]
        n_persons = sum(sizes)
        before = persons_before if persons_before is not None else records_before
        share = 0.0 if before == 0 else (before - n_persons) / before
        least = None
        if sensitive:
            keyed = with_signatures(text, quasi_identifiers)
            groups = keyed.groupby([SIGNATURE, *quasi_identifiers], sort=False)
            least = min(int(groups[c].nunique().min()) for c in sensitive)
        return Measure(name, records, n_persons, len(sizes), min(sizes), least, share)
    share = 0.0 if records_before == 0 else (records_before - records) / records_before
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


def _signature_of_person(text: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """Each person's signature as one string: their rows' values, sorted and joined.

    A row is its quasi-identifier values joined by a unit separator (U+001F), which no delivered
    value holds as text; a person's sorted rows are joined by a record separator (U+001E).
    """
    rows = text[quasi_identifiers[0]].astype(str)
    if len(quasi_identifiers) > 1:
        others: Any = [text[c].astype(str) for c in quasi_identifiers[1:]]
        rows = rows.str.cat(others, sep="\x1f")
    mine: dict[str, list[str]] = {}
    for person, row in zip(text[SERIAL].astype(str).tolist(), rows.tolist(), strict=True):
        mine.setdefault(person, []).append(row)
    return pd.Series({person: "\x1e".join(sorted(v)) for person, v in mine.items()}, dtype=object)


def person_classes(text: pd.DataFrame, quasi_identifiers: Sequence[str]) -> dict[str, set[str]]:
    """Signature (a person's sorted rows of quasi-identifier values) -> the persons with it."""
    out: dict[str, set[str]] = {}
    for person, signature in _signature_of_person(text, quasi_identifiers).items():
        out.setdefault(signature, set()).add(str(person))
    return out


def with_signatures(text: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.DataFrame:
    """The rows with a column naming their person's signature (a number per distinct signature)."""
    signature = _signature_of_person(text, quasi_identifiers)
    out = text.copy()
    out[SIGNATURE] = text[SERIAL].astype(str).map(signature).to_numpy()
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
    text: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str], criteria: Criteria
) -> tuple[str, ...]:
    """`iplos.sdc.check_release` of every agreed criterion on the file's values as text.

    Under person-level criteria the groups are (person signature, row values): the records an
    attacker who found a person's class cannot tell apart; k is then counted in persons above.
    """
    checks = criteria.sdc_criteria(sensitive)
    if criteria.unit != "person":
        return check_release(text, list(quasi_identifiers), list(sensitive), checks).failures
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
    counted: list[tuple[pd.DataFrame, Measure]] = []
    for fmt in FORMATS:
        path = folder / f"{stem}.{fmt}"
        if not path.is_file():
            failures.append(f"{path.name}: missing")
            continue
        text = read_as_text(path)
        if list(text.columns) != list(columns):
            failures.append(
                f"{path.name}: columns {list(text.columns)} are not the approved columns {list(columns)}"
            )
            continue
        # Formats that hold the very table already counted (compared cell for cell as text) share
        # its count; any other is counted on its own.
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


def measure_linked_files(
    folder: Path,
    *,
    tables: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    criteria: Criteria,
    persons_before: int,
) -> tuple[list[Measure], list[str]]:
    """Count person classes across every delivered table together, format by format.

    `tables` holds (file stem, its columns, its quasi-identifiers). A person's signature is the sorted
    list of their rows in every table, each row its table's stem and its quasi-identifier values, so
    two persons share a class only when they look alike in every year and every table. Every class
    must hold at least k persons, and no more than the agreed share of persons may be missing.
    """
    failures: list[str] = []
    measures: list[Measure] = []
    for fmt in FORMATS:
        parts: list[pd.DataFrame] = []
        for stem, columns, qis in tables:
            path = folder / f"{stem}.{fmt}"
            if not path.is_file():
                failures.append(f"{path.name}: missing")
                continue
            text = read_as_text(path)
            if list(text.columns) != list(columns):
                failures.append(
                    f"{path.name}: columns {list(text.columns)} are not the approved columns {list(columns)}"
                )
                continue
            rows = pd.Series(stem, index=text.index, dtype=object)
            if qis:
                others: Any = [text[c].astype(str) for c in qis]
                rows = rows.str.cat(others, sep="\x1f")
            parts.append(pd.DataFrame({SERIAL: text[SERIAL].to_numpy(), "_row": rows.to_numpy()}))
        if len(parts) != len(tables):
            continue
        every = pd.concat(parts, ignore_index=True)
        name = f"all tables .{fmt}"
        if every.empty:
            measures.append(Measure(name, 0, 0, 0, 0, None, 1.0 if persons_before else 0.0))
            continue
        sizes = [int(v) for v in _signature_of_person(every, ["_row"]).value_counts().to_numpy()]
        persons = sum(sizes)
        share = 0.0 if persons_before == 0 else (persons_before - persons) / persons_before
        m = Measure(name, len(every), persons, len(sizes), min(sizes), None, share)
        measures.append(m)
        if m.smallest_class < criteria.k:
            failures.append(
                f"{name}: {m.smallest_class} persons share a signature across the tables, fewer than k={criteria.k}"
            )
        if share > criteria.max_suppressed + 1e-12:
            failures.append(
                f"{name}: {share:.1%} of the persons are suppressed, more than {criteria.max_suppressed:.1%}"
            )
    return measures, failures
