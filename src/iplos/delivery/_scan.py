"""Scan delivered files for what must never leave: keys, pseudonyms, fødselsnumre, identifier columns.

Every file of a delivery is read the way its reader would see it (Parquet and Stata/SPSS files are
decoded, since compression hides strings from a byte scan; the raw bytes of the latter are scanned too)
and searched for:

- a pseudonym key, as hex in either case;
- a pseudonym, or anything shaped like one: a run of 32 or more hexadecimal characters (a keyed hash
  has 64). The only such runs allowed are the manifest's checksums of the delivery's own files;
- a fødselsnummer or D-, H- or FH-number: 11 digits (or 6 + space + 5) standing as a whole token (no
  letter or digit on either side) that pass the control digits (`iplos.ident.is_valid_array`, the 2032
  rule included). Hexadecimal runs are read as hashes, not as numbers: a checksum such as
  `ab01015012397ccc…` holds digit runs that pass the control digits by chance (about one manifest in 185
  of 11 sums), and those are no fødselsnumre;
- a column named as a direct identifier or linkage key.

A finding names the file, the kind and where (column or line), never the value itself.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pyreadstat

from iplos.delivery._formats import as_text
from iplos.ident import is_valid_array

HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")
# A number is a whole token: the characters around it are neither digits nor letters.
NUMBER = re.compile(r"(?<![0-9A-Za-z])([0-9]{6}) ?([0-9]{5})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    """Something in a file that stops a release; `where` locates it without showing it."""

    file: str
    kind: str
    where: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind} ({self.where})"


def _parquet_texts(path: Path) -> Iterator[tuple[str, str]]:
    table = pq.read_table(path)
    yield "column names", "\n".join(table.column_names)
    if table.schema.metadata:
        yield "file metadata", "\n".join(v.decode("utf-8", "replace") for v in table.schema.metadata.values())
    for field in table.schema:
        if field.metadata:
            yield (
                f"metadata of column {field.name!r}",
                "\n".join(v.decode("utf-8", "replace") for v in field.metadata.values()),
            )
    for name in table.column_names:
        values = table.column(name).to_pandas()
        yield f"column {name!r}", "\n".join(as_text(values).tolist())


def _stat_texts(path: Path) -> Iterator[tuple[str, str]]:
    reader = pyreadstat.read_dta if path.suffix.lower() == ".dta" else pyreadstat.read_sav
    frame, meta = reader(str(path))
    yield "column names", "\n".join(map(str, frame.columns))
    yield "variable labels", "\n".join(str(v) for v in meta.column_labels if v)
    yield (
        "value labels",
        "\n".join(
            f"{code}\n{label}"
            for labels in meta.variable_value_labels.values()
            for code, label in labels.items()
        ),
    )
    for name in frame.columns:
        yield f"column {name!r}", "\n".join(as_text(frame[name]).tolist())
    yield "raw bytes", path.read_bytes().decode("latin-1")


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_texts(path)
    elif suffix in (".dta", ".sav"):
        yield from _stat_texts(path)
    elif suffix in (".xlsx", ".zip"):
        # Office files are zip archives: scan each member as the program that opens it reads it.
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"part {member}", archive.read(member).decode("utf-8", "replace")
    else:
        yield "text", path.read_bytes().decode("utf-8", "replace")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def scan_text(
    text: str, keys_hex: Iterable[str], allowed_hex: frozenset[str] = frozenset(), shapes: bool = True
) -> list[tuple[str, int]]:
    """Kinds of forbidden content in `text`, each with the line it starts on.

    Without `shapes` only the keys are looked for (the raw bytes of a binary file hold fixed-width
    fields side by side, whose digits would look like numbers they are not).
    """
    found: list[tuple[str, int]] = []
    lowered = text.lower()
    for key in keys_hex:
        pos = lowered.find(key.lower())
        if pos >= 0:
            found.append(("pseudonym key", _line(text, pos)))
    if not shapes:
        return found
    for match in HEX_RUN.finditer(text):
        if match.group(0).lower() not in allowed_hex:
            found.append(("pseudonym-shaped hexadecimal string", _line(text, match.start())))
            break
    # Every hex run is a hash (allowed, or reported above); blank it so its digits are not read as numbers.
    text_without_hashes = HEX_RUN.sub(lambda m: " " * len(m.group(0)), text)
    matches = list(NUMBER.finditer(text_without_hashes))
    if matches:
        candidates = np.array([m.group(1) + m.group(2) for m in matches], dtype="<U11")
        valid = is_valid_array(candidates)
        for m, ok in zip(matches, valid, strict=True):
            if ok:
                found.append(("fødselsnummer-shaped number", _line(text, m.start())))
                break
    return found


def scan_file(
    path: Path,
    keys_hex: Iterable[str],
    forbidden_columns: Iterable[str] = (),
    allowed_hex: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Every kind of forbidden content in one file (at most one finding per kind and part)."""
    keys = list(keys_hex)
    forbidden = {c.lower() for c in forbidden_columns}
    findings: list[Finding] = []
    for part, text in _texts(path):
        if part == "column names":
            for name in text.split("\n"):
                if name.lower() in forbidden:
                    findings.append(Finding(path.name, "identifier column", f"column {name!r}"))
        for kind, line in scan_text(text, keys, allowed_hex, shapes=part != "raw bytes"):
            where = (
                part
                if part.startswith(("column", "metadata", "value", "variable"))
                else f"{part}, line {line}"
            )
            findings.append(Finding(path.name, kind, where))
    return findings


def scan_folder(
    folder: Path,
    keys_hex: Iterable[str],
    forbidden_columns: Iterable[str] = (),
    allowed_hex: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Scan every file under `folder` (recursively)."""
    keys = list(keys_hex)
    findings: list[Finding] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        findings += scan_file(path, keys, forbidden_columns, allowed_hex)
    return findings
