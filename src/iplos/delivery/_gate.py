"""The release gate: the last check before files leave, independent of the search that made them.

It reads the delivered data files back (every format), counts each equivalence class of the
quasi-identifiers by hand (a dictionary from the class's values to the set of its serial numbers,
written to be obviously right rather than fast) and compares with the agreed criteria: at least k
persons per class, at least l distinct sensitive values per class when l is agreed, and no more than
the agreed share of records suppressed. It checks that exactly the approved columns are delivered,
and scans every file of the delivery (data, codebook, reports, log, manifest) for keys, pseudonyms,
fødselsnumre and identifier columns (`_scan`). Any failure stops the release.

It uses nothing of the search: its own counting, and as a second opinion the disclosure-control
package's independent check (`iplos.sdc.check_release`, plain pandas counting that shares no code
with the search). A fault in the search cannot hide itself here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from iplos.delivery._formats import FORMATS, STEM, as_text, read_data_file
from iplos.delivery._release import SERIAL, Criteria
from iplos.delivery._scan import Finding, scan_folder
from iplos.errors import IplosError, Problem
from iplos.sdc import DistinctLDiversity, KAnonymity, check_release


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
) -> Measure:
    """Count the classes of one data file: persons (distinct serial numbers) and sensitive values per class."""
    records = len(text)
    share = 0.0 if records_before == 0 else (records_before - records) / records_before
    if records == 0:
        return Measure(name, 0, 0, 0, 0, None, share)
    classes = text.groupby(list(quasi_identifiers), sort=False) if quasi_identifiers else None
    if classes is None:
        persons = pd.Series([text[SERIAL].nunique()])
        least = min((int(text[c].nunique()) for c in sensitive), default=None)
    else:
        persons = classes[SERIAL].nunique()
        least = min((int(classes[c].nunique().min()) for c in sensitive), default=None)
    return Measure(
        file=name,
        records=records,
        persons=int(text[SERIAL].nunique()),
        classes=len(persons),
        smallest_class=int(persons.min()),
        least_diverse=least,
        suppressed_share=share,
    )


def measure_file(
    path: Path, quasi_identifiers: Sequence[str], sensitive: Sequence[str], records_before: int
) -> Measure:
    """Count the classes of one delivered data file."""
    return measure_frame(path.name, read_as_text(path), quasi_identifiers, sensitive, records_before)


def _second_opinion(
    text: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str], criteria: Criteria
) -> tuple[str, ...]:
    """`iplos.sdc.check_release` on the file's values as text."""
    checks: list[KAnonymity | DistinctLDiversity] = [KAnonymity(criteria.k)]
    if criteria.l is not None:
        checks.append(DistinctLDiversity(criteria.l))
    return check_release(text, list(quasi_identifiers), list(sensitive), checks).failures


def measure_data_files(
    folder: Path,
    *,
    columns: Sequence[str],
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    criteria: Criteria,
    records_before: int,
    stem: str = STEM,
) -> tuple[list[Measure], list[str]]:
    """Re-measure every delivered data file against the criteria; returns measures and failures."""
    failures: list[str] = []
    measures: list[Measure] = []
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
        m = measure_frame(path.name, text, quasi_identifiers, sensitive, records_before)
        measures.append(m)
        if m.records and m.smallest_class < criteria.k:
            failures.append(
                f"{path.name}: a class of the quasi-identifiers has {m.smallest_class} persons, fewer than k={criteria.k}"
            )
        if criteria.l is not None and m.least_diverse is not None and m.least_diverse < criteria.l:
            failures.append(
                f"{path.name}: a class has {m.least_diverse} distinct sensitive values, fewer than l={criteria.l}"
            )
        if m.suppressed_share > criteria.max_suppressed + 1e-12:
            failures.append(
                f"{path.name}: {m.suppressed_share:.1%} of the records are suppressed, more than "
                f"{criteria.max_suppressed:.1%}"
            )
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
