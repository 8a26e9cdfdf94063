"""The `iplos` command line: thin commands that parse, call one package function and render.

Each command group lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

import sys

from rich.markup import escape

from iplos.cli._app import app, console_err
from iplos.errors import IplosError

# Importing a command module registers its commands on `app`.
from iplos.cli import catalog as _catalog  # noqa: F401  isort: skip
from iplos.cli import regions as _regions  # noqa: F401  isort: skip
from iplos.cli import synth as _synth  # noqa: F401  isort: skip
from iplos.cli import load as _load  # noqa: F401  isort: skip
from iplos.cli import sdc as _sdc  # noqa: F401  isort: skip
from iplos.cli import tables as _tables  # noqa: F401  isort: skip
from iplos.cli import case as _case  # noqa: F401  isort: skip
from iplos.cli import deliver as _deliver  # noqa: F401  isort: skip
from iplos.cli import demo as _demo  # noqa: F401  isort: skip
from iplos.cli import notify as _notify  # noqa: F401  isort: skip
from iplos.cli import worker as _worker  # noqa: F401  isort: skip

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `iplos` console script: user errors print clearly and exit 2."""
    try:
        app()
    except IplosError as exc:
        console_err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
