"""Diagnosis classifications as package data: ICD-10 (WHO 2019 + Helsedirektoratet's Norwegian codes)
and ICPC-2 (Norwegian version), with their hierarchies and code titles.

ICD-10: code (no dot, as registers store it: 'F03', 'I639', 'C7700') -> 3-character category ->
block (the innermost WHO block, e.g. 'F00-F09') -> chapter (roman numeral) -> all. Norwegian
grouped external-cause codes whose prefix is no WHO category ('V0n', 'X8n') go to the WHO block
covering their letter and first digit, or to a block of their own where none does (README).

ICPC-2: code ('P70', process codes '-30') -> chapter letter ('-' for process codes) -> all; the
alternative `icpc2_component` groups codes by component kind (symptom, process, diagnosis).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
from dataclasses import dataclass
from importlib import resources

from iplos.catalog._model import Language
from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError

ALL = "*"


@dataclass(frozen=True)
class DiagnosisCode:
    """One code of a diagnosis classification with its place in the classification."""

    code: str
    category: str
    block: str
    chapter: str
    title_nb: str
    title_en: str

    def title(self, language: Language = "nb") -> str:
        """Title in the language asked for, falling back to the other one."""
        first, second = (self.title_nb, self.title_en) if language == "nb" else (self.title_en, self.title_nb)
        return first or second


def _read_csv(name: str) -> list[dict[str, str]]:
    resource = resources.files("iplos.catalog").joinpath("data", name)
    raw = resource.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


@functools.cache
def icd10_codes() -> dict[str, DiagnosisCode]:
    """Every packaged ICD-10 code (no dot) with its category, block and chapter."""
    return {
        r["code"]: DiagnosisCode(
            r["code"], r["category"], r["block"], r["chapter"], r["title_nb"], r["title_en"]
        )
        for r in _read_csv("icd10_codes.csv.gz")
    }


@functools.cache
def icd10_groups() -> dict[str, str]:
    """English titles of ICD-10 blocks (e.g. 'F00-F09') and chapters (roman numerals)."""
    titles = {r["block"]: r["title_en"] for r in _read_csv("icd10_blocks.csv")}
    titles.update({r["chapter"]: r["title_en"] for r in _read_csv("icd10_chapters.csv")})
    return titles


@functools.cache
def icpc2_codes() -> dict[str, DiagnosisCode]:
    """Every packaged ICPC-2 code; `category` holds the component kind (symptom, process, diagnosis)."""
    kinds = {r["component"]: r["kind"] for r in _read_csv("icpc2_components.csv")}
    return {
        r["code"]: DiagnosisCode(
            r["code"], kinds[r["component"]], r["chapter"], r["chapter"], r["title_nb"], r["title_en"]
        )
        for r in _read_csv("icpc2_codes.csv")
    }


@functools.cache
def icpc2_chapters() -> dict[str, tuple[str, str]]:
    """ICPC-2 chapter letter -> (title_nb, title_en)."""
    return {r["chapter"]: (r["title_nb"], r["title_en"]) for r in _read_csv("icpc2_chapters.csv")}


def normalise_icd10(code: str) -> str:
    """Registry form of an ICD-10 code: no dot, no spaces, upper-case letter ('f03.0' -> 'F030').

    Only the first character is upper-cased: Norwegian extension codes carry lower-case
    characters ('V0n1m').
    """
    text = code.strip().replace(".", "")
    return text[:1].upper() + text[1:]


def diagnosis_title(code: str, system: str, language: Language = "nb") -> str | None:
    """Title of an ICD-10 or ICPC-2 code, or None when the code is not in the classification.

    `system` is 'ICD-10', 'ICPC-2' or 'ICD-10 / ICPC-2' (tries both).
    """
    if "ICD-10" in system:
        entry = icd10_codes().get(normalise_icd10(code))
        if entry is not None:
            return entry.title(language) or entry.code
    if "ICPC-2" in system:
        entry = icpc2_codes().get(code.strip().upper())
        if entry is not None:
            return entry.title(language) or entry.code
    if "ICD-10" not in system and "ICPC-2" not in system:
        raise IplosError(f"unknown diagnosis classification {system!r}; expected ICD-10 or ICPC-2")
    return None


def icd10_hierarchy() -> Hierarchy:
    """ICD-10 code, 3-character category, block, chapter, all (every packaged code is a leaf)."""
    rows = tuple((c.code, c.category, c.block, c.chapter, ALL) for c in icd10_codes().values())
    return Hierarchy(
        name="icd10",
        level_names=("code", "category", "block", "chapter", "all"),
        rows=rows,
        description="ICD-10 (WHO 2019 and Helsedirektoratet's Norwegian codes): code, category, block, chapter.",
    )


def icpc2_hierarchy() -> Hierarchy:
    """ICPC-2 code, chapter, all."""
    rows = tuple((c.code, c.chapter, ALL) for c in icpc2_codes().values())
    return Hierarchy(
        name="icpc2",
        level_names=("code", "chapter", "all"),
        rows=rows,
        description="ICPC-2 (Norwegian version): code, chapter ('-' for process codes).",
    )


def icpc2_component_hierarchy() -> Hierarchy:
    """ICPC-2 code, component kind (symptom / process / diagnosis), all: an alternative to chapters."""
    rows = tuple((c.code, c.category, ALL) for c in icpc2_codes().values())
    return Hierarchy(
        name="icpc2_component",
        level_names=("code", "component kind", "all"),
        rows=rows,
        description="ICPC-2 codes grouped by component kind: symptom (01-29), process (30-69), diagnosis (70-99).",
    )
