"""Imports point only down the package table of DESIGN.md, and pure logic imports no driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "iplos"

# Base modules every package may use.
BASE = {"errors", "atomic", "config"}

# package -> packages it may import (DESIGN.md, "Packages").
ALLOWED: dict[str, set[str]] = {
    "catalog": set(),
    "ident": set(),
    "engine": {"catalog"},
    "synth": {"catalog", "ident", "engine"},
    "sdc": {"catalog"},
    "cases": {"catalog"},
    "linkage": {"engine", "ident", "catalog"},
    "release": {"sdc", "engine", "catalog"},
    "delivery": {"linkage", "release", "sdc", "cases", "engine", "catalog", "ident"},
    "jobs": {"delivery", "linkage", "release", "sdc", "cases", "engine", "catalog", "ident"},
    "preview": {"synth", "delivery", "linkage", "release", "sdc", "cases", "engine", "catalog", "ident"},
    "web": {"cases", "catalog", "release", "sdc", "jobs", "preview"},
}

# Pure-logic packages never import a database driver, a dataframe engine or the web framework.
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "sdc": {"duckdb", "ibis", "pyspark", "sqlalchemy", "fastapi", "psycopg"},
    "catalog": {"duckdb", "ibis", "pyspark", "sqlalchemy", "fastapi", "psycopg"},
    "ident": {"duckdb", "ibis", "pyspark", "sqlalchemy", "fastapi", "psycopg"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _package_files(package: str) -> list[Path]:
    root = SRC / package
    return sorted(root.rglob("*.py")) if root.is_dir() else []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down(package: str) -> None:
    allowed = ALLOWED[package] | BASE | {package}
    offenders = []
    for path in _package_files(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "iplos" and len(parts) > 1 and parts[1] not in allowed:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(FORBIDDEN_THIRD_PARTY))
def test_pure_packages_import_no_driver(package: str) -> None:
    offenders = []
    for path in _package_files(package):
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN_THIRD_PARTY[package]:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_cases_core_is_free_of_storage_and_web() -> None:
    """Only the storage and service modules of `cases` may touch SQLAlchemy (REMS: core needs no db)."""
    core_forbidden = {"sqlalchemy", "fastapi", "alembic", "psycopg"}
    offenders = []
    for path in _package_files("cases"):
        rel = path.relative_to(SRC / "cases")
        if rel.parts[0] in {"migrations"} or any(
            w in path.stem for w in ("store", "service", "storage", "db", "_orm")
        ):
            continue
        for name in _imports(path):
            if name.split(".")[0] in core_forbidden:
                offenders.append(f"cases/{rel} imports {name}")
    assert not offenders, "\n".join(offenders)
