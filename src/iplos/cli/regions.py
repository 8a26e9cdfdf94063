"""`iplos regions ...`: Norway's kommuner and fylker 2006-2024, harmonisation and code history."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer
from rich.table import Table

from iplos.cli._app import app, console, print_json

regions_app = typer.Typer(
    help="Norway's regional classification 2006-2024 (SSB KLASS 131): kommuner, fylker, harmonisation "
    "of codes across the 2018, 2020 and 2024 reforms, and each code's history.",
    no_args_is_help=True,
)
app.add_typer(regions_app, name="regions")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def _plain(obj: Any) -> Any:
    """A dataclass as a JSON-ready dict (dates become ISO strings)."""
    data = dataclasses.asdict(obj)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


@regions_app.command("list")
def list_(
    at: Annotated[str, typer.Argument(help="A year (1 January of it) or a date YYYY-MM-DD, 2006-2024.")],
    counties: Annotated[
        bool, typer.Option("--counties", help="List the fylker instead of the kommuner.")
    ] = False,
    json: JsonOption = False,
) -> None:
    """List the kommuner (or, with --counties, the fylker) valid at a date.

    A year means 1 January of that year, the classification an IPLOS årgang is coded in.
    Example: iplos regions list 2019 --counties
    """
    from iplos.catalog import regions

    if counties:
        fylker = regions.counties(at)
        if json:
            print_json([_plain(c) for c in fylker])
            return
        table = Table(title=f"Fylker {at} ({len(fylker)})")
        table.add_column("fylke")
        table.add_column("name")
        for c in fylker:
            table.add_row(c.code, c.name)
        console.print(table)
        return
    kommuner = regions.municipalities(at)
    if json:
        print_json([_plain(m) for m in kommuner])
        return
    table = Table(title=f"Kommuner {at} ({len(kommuner)})")
    for column in ("kommune", "name", "fylke", "valid from", "valid to"):
        table.add_column(column)
    for m in kommuner:
        end = m.valid_to.isoformat() if m.valid_to else ""
        table.add_row(m.code, m.name, f"{m.fylke_code} {m.fylke_name}", m.valid_from.isoformat(), end)
    console.print(table)


@regions_app.command("harmonise")
def harmonise(
    codes: Annotated[list[str], typer.Argument(help="Kommune codes valid in the --from year.")],
    from_year: Annotated[
        str, typer.Option("--from", help="Year (or date) whose classification the codes are in.")
    ],
    to_year: Annotated[
        str, typer.Option("--to", help="Year (or date) whose classification to express them in.")
    ],
    json: JsonOption = False,
) -> None:
    """Express kommune codes of one year's classification in another year's (forwards or backwards).

    Splits return every candidate with the population share that lies in it, where the data allow.
    Example: iplos regions harmonise 0101 1507 --from 2019 --to 2024
    """
    from iplos.catalog import regions

    result = regions.harmonise_many(codes, from_year, to_year)
    if json:
        print_json({code: [_plain(c) for c in cands] for code, cands in result.items()})
        return
    table = Table(title=f"Kommuner {from_year} -> {to_year}")
    for column in ("from", "to", "name", "share", "how"):
        table.add_column(column)
    for code, cands in result.items():
        for c in cands:
            share = "unknown" if c.share is None else f"{c.share:.3f}"
            table.add_row(code, c.code, c.name, share, c.how)
    console.print(table)


@regions_app.command("history")
def history(
    code: Annotated[str, typer.Argument(help="A kommune code valid at some time 2006-2024.")],
    json: JsonOption = False,
) -> None:
    """Show a kommune code's names, validity and the changes into and out of it, 2006-2024.

    Example: iplos regions history 1507
    """
    from iplos.catalog import regions

    events = regions.history(code)
    if json:
        print_json([{**_plain(e), "related": [list(r) for r in e.related]} for e in events])
        return
    table = Table(title=f"Kommune {code}")
    for column in ("date", "event", "what"):
        table.add_column(column)
    for e in events:
        table.add_row(e.date.isoformat(), e.event, e.text)
    console.print(table)
