"""The `iplos` command line: thin commands that parse, call one package function and render.

Each command group lives in its own module and registers itself on the Typer app when imported.
`iplos.cli.app` is the app with every command registered (for tests and docs); the console script
`main` imports only the module of the command it runs, so `iplos anonymise` does not pay for the
case store, the catalogue or the web app's imports (start-up is a large share of a 1 s command).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    app: typer.Typer

__all__ = ["COMMAND_MODULES", "MODULES", "app", "main"]

# Command modules in the order their commands are listed in `iplos --help`.
MODULES = (
    "catalog",
    "regions",
    "synth",
    "load",
    "sdc",
    "tables",
    "case",
    "deliver",
    "demo",
    "notify",
    "worker",
)

# The module that registers each top-level command or command group (tests check it is complete).
COMMAND_MODULES: dict[str, str] = {
    "catalog": "catalog",
    "regions": "regions",
    "synth": "synth",
    "load": "load",
    "assess": "sdc",
    "anonymise": "sdc",
    "tables": "tables",
    "case": "case",
    "serve": "case",
    "deliver": "deliver",
    "demo": "demo",
    "notify": "notify",
    "worker": "worker",
    "jobs": "worker",
    "version": "_app",
}


def _register(modules: tuple[str, ...]) -> typer.Typer:
    for name in modules:
        importlib.import_module(f"iplos.cli.{name}")  # importing a command module registers its commands
    from iplos.cli._app import app as typer_app

    return typer_app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _register(MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """The command modules a command line needs: its command's alone, or all (help, typos)."""
    command = argv[0] if argv else None
    module = COMMAND_MODULES.get(command) if command is not None else None
    if module is None:
        return MODULES
    return (module,) if module != "_app" else ()


def main() -> None:
    """Entry point of the `iplos` console script: user errors print clearly and exit 2."""
    from iplos.errors import IplosError

    typer_app = _register(_modules_for(sys.argv[1:]))
    try:
        typer_app()
    except IplosError as exc:
        from rich.markup import escape

        from iplos.cli._app import console_err

        console_err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
