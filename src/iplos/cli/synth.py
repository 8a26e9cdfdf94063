"""`iplos synth`: write a synthetic IPLOS register, or report how well it matches the published figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iplos.cli._app import app, console, print_json
from iplos.config import Settings
from iplos.errors import IplosError


def _year_range(text: str | None, option: str) -> list[int]:
    """'2007-2017' or '2009' or '2007,2009,2017' -> years."""
    if not text:
        return []
    years: list[int] = []
    for part in text.split(","):
        bounds = part.strip().split("-")
        try:
            if len(bounds) == 1:
                years.append(int(bounds[0]))
            elif len(bounds) == 2:
                years.extend(range(int(bounds[0]), int(bounds[1]) + 1))
            else:
                raise ValueError
        except ValueError:
            raise IplosError(f"{option}: expected years like 2007-2017 or 2009,2011, not {text!r}") from None
    return years


def _report(settings: Settings, as_json: bool) -> None:
    from iplos.synth import report

    rows = report(settings)
    if as_json:
        print_json([r.as_dict() for r in rows])
    else:
        table = Table(title=f"Synthetic register in {settings.home} against published figures")
        for col in ("measure", "year", "target", "synthetic", "difference", ""):
            table.add_column(col, justify="right" if col in ("target", "synthetic", "difference") else "left")
        for r in rows:
            share = r.target < 1.5
            fmt = "{:.3f}" if share else "{:,.0f}"
            mark = "[green]ok[/]" if r.ok else "[bold red]off[/]"
            label = r.label if r.published else f"{r.label} (derived)"
            table.add_row(label, str(r.year or "all"), fmt.format(r.target), fmt.format(r.synthetic),
                          f"{r.relative_difference:+.1%}", mark)  # fmt: skip
        console.print(table)
    if not all(r.ok for r in rows):
        raise typer.Exit(1)


@app.command("synth")
def synth(
    scale: Annotated[
        float, typer.Option(help="Size relative to Norway (1.0 = about 300,000-400,000 recipients a year).")
    ] = 0.05,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and keys give the same files.")] = 1,
    years: Annotated[
        str, typer.Option(help="IPLOS årganger to write (2007-2017), e.g. 2007-2017 or 2009,2012.")
    ] = "2007-2017",
    kpr: Annotated[
        str | None, typer.Option(help="KPR årganger to write as well (2017-2024), e.g. 2017-2024.")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (default: IPLOS_HOME or ./iplos-data).")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace an existing synthetic register.")
    ] = False,
    report: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Do not generate: compare the written register's marginals with the published figures (exit 1 if any is off by more than 5 %).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Write a synthetic IPLOS register (and KPR years) with linkable registers, calibrated to published figures.

    Persons, services, functional assessments and diagnoses per årgang, plus the cause of death register, NPR episodes and SSB population data, each register with its own pseudonyms. The key holder's identity list and keys go to keyholder/.

    Example: `iplos synth --scale 0.05 --kpr 2017-2024`, then `iplos synth --report`.
    """
    settings = Settings.from_env(home)
    if report:
        _report(settings, as_json)
        return
    from iplos.synth import generate

    iplos_years = _year_range(years, "--years")
    kpr_years = _year_range(kpr, "--kpr")
    if as_json:
        summary = generate(
            settings, scale=scale, seed=seed, years=iplos_years, kpr_years=kpr_years, replace=replace
        )
    else:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("synthetic register", total=None)

            def advance(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            summary = generate(
                settings, scale=scale, seed=seed, years=iplos_years, kpr_years=kpr_years, progress=advance,
                replace=replace,
            )  # fmt: skip
    data = {
        "home": str(summary.home),
        "scale": summary.scale,
        "seed": summary.seed,
        "years": list(summary.years),
        "kpr_years": list(summary.kpr_years),
        "chunks": summary.chunks,
        "persons": summary.persons,
        "rows": summary.rows,
        "seconds": summary.seconds,
    }
    if as_json:
        print_json(data)
        return
    table = Table(title=f"Synthetic register written to {summary.home} in {summary.seconds:.1f} s")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.rows.items():
        table.add_row(name, f"{count:,}")
    table.add_row("keyholder.identities", f"{summary.persons:,}")
    console.print(table)
