"""The Typer application object and shared console helpers for all command modules."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

app = typer.Typer(
    name="iplos",
    help="The IPLOS register's data-access process: catalogue, synthetic register, disclosure control, "
    "applications, linkage and delivery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
console_err = Console(stderr=True)


def print_json(data: Any) -> None:
    """Print machine-readable output for `--json` (plain, no colour, UTF-8 kept)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("version")
def version() -> None:
    """Print the iplos version."""
    from iplos import __version__

    typer.echo(__version__)


@app.callback()
def _root() -> None:
    """The IPLOS register's data-access process, on the command line."""
