"""`iplos load`: import a delivered register extract, validated, as one årgang (all tables or none)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iplos.cli._app import app, console, print_json


@app.command("load")
def load(
    path: Annotated[
        Path,
        typer.Argument(
            help="A CSV or Parquet file of one table, or a folder with a file per table "
            "(person.csv, tjeneste.csv, funksjon.csv, diagnose.csv for iplos and kpr)."
        ),
    ],
    register: Annotated[
        str, typer.Option("--register", help="Register to load into: iplos, kpr, dar, npr or ssb.")
    ],
    aargang: Annotated[int, typer.Option("--aargang", help="The årgang (year) the extract holds.")],
    table: Annotated[
        str | None,
        typer.Option("--table", help="Table of a single file (default: the file name, e.g. person.csv)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the tables of an årgang that is stored already.")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help="Only validate; write nothing.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Validate a delivered extract against the catalogue and store its årgang whole, or nothing.

    Every problem is reported in one run, each with file, row (1 = first data row), column, value
    and rule id; the first 50 per rule are listed, with totals. Identity numbers are never shown.
    The store stays unchanged unless the whole årgang is valid.
    Example: iplos load extract/2015/ --register iplos --aargang 2015
    """
    from iplos.config import Settings
    from iplos.engine import ExtractRejected, load_extract, validate_extract

    settings = Settings.from_env()
    try:
        with console.status(f"Validating {path} ...") if not json else nullcontext():
            if check:
                report = validate_extract(path, register, aargang, table=table, settings=settings)
                if not report.ok:
                    raise report.error()
                rows = report.rows
            else:
                summary = load_extract(
                    path, register, aargang, table=table, replace=replace, settings=settings
                )
                rows = summary.rows
    except ExtractRejected as exc:
        if not json:
            raise
        print_json({"ok": False, **exc.report.as_dict()})
        raise typer.Exit(code=2) from None
    if json:
        print_json({"ok": True, "register": register, "aargang": aargang, "written": not check, "rows": rows})
        return
    verb = "valid (nothing written)" if check else "loaded"
    console.print(f"{register} årgang {aargang}: {verb}", highlight=False)
    out = Table()
    out.add_column("table")
    out.add_column("rows", justify="right")
    for name, n in rows.items():
        out.add_row(name, f"{n:,}".replace(",", " "))
    console.print(out)
