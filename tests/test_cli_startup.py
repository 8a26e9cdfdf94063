"""Start-up of the `iplos` command line: each command imports its own module only.

`iplos anonymise` on a million rows takes about a second, of which start-up was near half; these
tests pin what the command does not import (a heavy import creeping back fails here, not in a
benchmark nobody runs) and that the command-to-module map `main` uses is complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from iplos.cli import COMMAND_MODULES, MODULES

# Modules the record-level anonymise command has no use for (pydantic stays: Typer imports it).
NOT_IMPORTED_BY_ANONYMISE = (
    "pandas",
    "ibis",
    "duckdb",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "jinja2",
    "fastapi",
    "starlette",
    "pyspark",
    "pyarrow.dataset",
    "iplos.cases",
    "iplos.delivery",
    "iplos.linkage",
    "iplos.release",
    "iplos.web",
    "iplos.catalog._model",
    "iplos.catalog.variables",
    "iplos.cli.case",
    "iplos.cli.catalog",
    "iplos.cli.tables",
)

_RUN_AND_LIST_MODULES = textwrap.dedent(
    """
    import atexit, json, sys
    atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules))))
    sys.argv = ["iplos", *sys.argv[1:]]
    from iplos.cli import main
    main()
    """
)


def _modules_after(args: list[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def test_anonymise_imports_no_heavy_module(tmp_path: Path) -> None:
    data = tmp_path / "uttrekk.parquet"
    pq.write_table(
        pa.table({"alder": pa.array([70 + i % 5 for i in range(60)], pa.int16()), "kjonn": ["1", "2"] * 30}),
        data,
    )
    alder = tmp_path / "alder.csv"
    alder.write_text(
        "".join(f"{a};{a // 10 * 10}-{a // 10 * 10 + 9};*\n" for a in range(100)), encoding="utf-8"
    )
    kjonn = tmp_path / "kjonn.csv"
    kjonn.write_text("1;*\n2;*\n", encoding="utf-8")
    out = tmp_path / "anon.parquet"
    modules = _modules_after(
        ["anonymise", str(data), f"--qi=alder={alder}", f"--qi=kjonn={kjonn}", "--k", "5", "--out", str(out)]
    )
    assert out.exists()
    heavy = [m for m in NOT_IMPORTED_BY_ANONYMISE if any(x == m or x.startswith(m + ".") for x in modules)]
    assert heavy == []


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    """Import the command modules one by one in a fresh interpreter: each adds exactly its commands."""
    script = textwrap.dedent(
        """
        import importlib, json, sys
        from iplos.cli._app import app
        def names():
            return {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
        seen = names()
        added = {"_app": sorted(seen)}
        for module in sys.argv[1:]:
            importlib.import_module("iplos.cli." + module)
            now = names()
            added[module] = sorted(now - seen)
            seen = now
        print(json.dumps(added))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *MODULES], capture_output=True, text=True, check=True
    )
    added: dict[str, list[str]] = json.loads(done.stdout)
    registered_by = {name: module for module, names in added.items() for name in names}
    assert registered_by == COMMAND_MODULES


def test_app_attribute_has_every_command() -> None:
    from iplos.cli import app

    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == set(COMMAND_MODULES)


def test_a_user_error_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    """The error path of `main` imports its own helpers (rich markup, the error console)."""
    script = "import sys; sys.argv = ['iplos', *sys.argv[1:]]; from iplos.cli import main; main()"
    missing = tmp_path / "finnes-ikke.parquet"
    done = subprocess.run(
        [sys.executable, "-c", script, "assess", str(missing), "--qi", "kjonn"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "error:" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
