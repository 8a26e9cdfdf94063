"""Write a delivery folder whole or not at all, with the release gate inside the transaction.

Everything is written into a hidden staging folder (`iplos.atomic.atomic_directory`); the gate runs
on the staged files, twice: on the data files before any document describes them, and on every file
once the documents and the log are written; then the manifest is written and scanned. Only when all
pass is the folder renamed into place. A failure, an exception or a kill leaves no delivery behind
(a killed process leaves a hidden staging folder, which the next delivery removes first).

The case records a delivery in two phases (`Processor.deliver`): `DeliveryStarted` before the folder
is written, `Delivered` with the manifest's SHA-256 after it is in place. A run that finds a started
delivery finishes it: a complete folder (`verify_manifest`) is recorded as it is; without one, what
the crash left is removed and the delivery is written again under the same id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iplos.atomic import atomic_directory, remove_stale_staging
from iplos.delivery._documents import (
    MANIFEST,
    codebook,
    codebook_html,
    disclosure_html,
    sha256_of,
    write_json,
    write_manifest,
)
from iplos.delivery._formats import write_data_files
from iplos.delivery._gate import (
    GateResult,
    Measure,
    ReleaseRefused,
    measure_data_files,
    measure_linked_files,
    refuse_unless_passed,
    release_gate,
)
from iplos.delivery._release import Release
from iplos.delivery._scan import scan_file
from iplos.errors import IplosError, Problem

CODEBOOK = "codebook"
DISCLOSURE = "disclosure-report"
LINKAGE = "linkage-report.json"
LOG = "delivery.log"


@dataclass(frozen=True)
class Delivered:
    """A delivery in place: its folder, the SHA-256 of each file and the gate's verdict."""

    path: Path
    files: Mapping[str, str]
    gate: GateResult
    disclosure: Mapping[str, Any]


@contextmanager
def case_lock(folder: Path) -> Iterator[None]:
    """Hold the case's delivery lock: one delivery of a case is written at a time, so clearing the
    staging folders a killed delivery left can never touch one still being written."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IplosError(
                f"another delivery of case {folder.name} is being written; try again when it ends"
            ) from None
        try:
            remove_stale_staging(folder)
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def verify_manifest(folder: Path) -> str | None:
    """Why `folder` is not a complete delivery (None when every file matches its manifest line).

    A delivery folder only ever appears by the rename of a staging folder whose gate passed, so a
    complete manifest here means an interrupted run wrote it and only its completion event is missing.
    """
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return f"{folder.name} has no {MANIFEST}"
    listed: dict[str, str] = {}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            return f"{MANIFEST}, line {number}: not '<sha256>  <file>'"
        listed[name] = digest
    present = {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    if present != set(listed):
        return f"{folder.name}: the files differ from {MANIFEST}"
    for name, digest in listed.items():
        if sha256_of(folder / name) != digest:
            return f"{folder.name}/{name} does not match its checksum in {MANIFEST}"
    return None


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, message: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.lines.append(f"{stamp} {message}")


def write_delivery(
    release: Release,
    target: Path,
    *,
    disclosure: Mapping[str, Any],
    keys_hex: Iterable[str],
    forbidden_columns: Iterable[str],
    linkage_report: Mapping[str, Any] | None = None,
    log_lines: Iterable[str] = (),
    on_file: Callable[[str], None] | None = None,
    tables: Sequence[Release] = (),
    population: Mapping[str, Sequence[str]] | None = None,
) -> Delivered:
    """Write data files, codebook, disclosure report, linkage report, log and manifest to `target`.

    `tables` are the delivery's other tables (service spells, NPR episodes, ...), keyed by the same
    `lopenr`: the gate then also counts each person's signature across all tables together.
    `population` is the population in words per language, for the codebook.
    `on_file` is told each file name as it is written (progress display; tests inject failures here).
    """
    keys = list(keys_hex)
    forbidden = list(forbidden_columns)
    log = _Log()
    for line in log_lines:
        log(line)
    notify = on_file or (lambda _name: None)
    columns = [c.name for c in release.columns]
    judged = release.criteria.l is not None or release.criteria.t is not None
    sensitive = release.sensitive if judged else ()

    linked = [(r.stem, [c.name for c in r.columns], list(r.quasi_identifiers)) for r in (release, *tables)]

    def across(folder: Path) -> tuple[list[Measure], list[str]]:
        if not tables:
            return [], []
        return measure_linked_files(
            folder,
            tables=linked,
            criteria=release.criteria,
            persons_before=release.persons_before or release.records_before,
            items_known=release.items_known,
        )

    def gate(folder: Path) -> GateResult:
        result = release_gate(
            folder,
            columns=columns,
            quasi_identifiers=release.quasi_identifiers,
            sensitive=sensitive,
            criteria=release.criteria,
            records_before=release.records_before,
            persons_before=release.persons_before,
            keys_hex=keys,
            forbidden_columns=forbidden,
        )
        measures, failures = across(folder)
        return dataclasses.replace(
            result,
            measures=(*result.measures, *measures),
            failures=(*result.failures, *failures),
        )

    with case_lock(target.parent), atomic_directory(target) as staging:
        for part in (release, *tables):
            for path in write_data_files(part, staging):
                notify(path.name)
                log(f"wrote {path.name}")
        measures, failures = measure_data_files(
            staging,
            columns=columns,
            quasi_identifiers=release.quasi_identifiers,
            sensitive=sensitive,
            criteria=release.criteria,
            records_before=release.records_before,
            persons_before=release.persons_before,
        )
        more, problems = across(staging)
        first = GateResult(measures=(*measures, *more), failures=(*failures, *problems))
        refuse_unless_passed(first, release.case_id)
        log(f"data files re-measured against the criteria: passed ({len(first.measures)} counts)")
        report = {**disclosure, "gate": first.to_dict()}
        book = codebook(release, tables, population)
        write_json(staging / f"{CODEBOOK}.json", book)
        (staging / f"{CODEBOOK}.html").write_text(codebook_html(book), encoding="utf-8")
        notify(f"{CODEBOOK}.html")
        write_json(staging / f"{DISCLOSURE}.json", report)
        (staging / f"{DISCLOSURE}.html").write_text(disclosure_html(report), encoding="utf-8")
        notify(f"{DISCLOSURE}.html")
        if linkage_report is not None:
            write_json(staging / LINKAGE, linkage_report)
            notify(LINKAGE)
        log("release gate on every file: running")
        (staging / LOG).write_text("\n".join(log.lines) + "\n", encoding="utf-8")
        second = gate(staging)
        refuse_unless_passed(second, release.case_id)
        hashes = write_manifest(staging)
        notify(MANIFEST)
        findings = scan_file(staging / MANIFEST, keys, forbidden, allowed_hex=frozenset(hashes.values()))
        if findings:
            raise ReleaseRefused(
                f"case {release.case_id}: the release gate stopped the delivery",
                [Problem(str(f), rule="release-gate") for f in findings],
            )
    manifest_hash = {MANIFEST: ""}
    return Delivered(path=target, files={**hashes, **manifest_hash}, gate=second, disclosure=report)
