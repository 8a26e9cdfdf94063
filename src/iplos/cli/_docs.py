"""Generate docs/cli.md from the command tree itself, so the reference cannot drift.

`python -m iplos.cli._docs > docs/cli.md` rewrites it; tests/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer.main

from iplos.cli import app


def _param_line(param: Any) -> str:
    opts = ", ".join(f"`{o}`" for o in [*param.opts, *getattr(param, "secondary_opts", [])])
    kind = "argument" if param.param_type_name == "argument" else "option"
    help_text = " ".join((getattr(param, "help", None) or "").split())
    parts = [f"- {opts} ({kind}"]
    if param.required:
        parts.append(", required")
    default = param.default
    if not param.required and default not in (None, (), [], False) and not callable(default):
        parts.append(f", default `{default}`")
    parts.append(")")
    if param.multiple or getattr(param, "nargs", 1) == -1:
        parts.append(" repeatable")
    if help_text:
        parts.append(f": {help_text}")
    return "".join(parts)


def _render(command: Any, path: list[str], out: list[str]) -> None:
    name = " ".join(path)
    doc = inspect.cleandoc(command.help or "")
    out.append(f"{'#' * min(len(path) + 1, 4)} `{name}`\n")
    if doc:
        out.append(doc + "\n")
    params = [p for p in command.params if p.name != "help"]
    if params:
        out.extend(_param_line(p) for p in params)
        out.append("")
    for sub_name in sorted(getattr(command, "commands", {}) or {}):
        _render(command.commands[sub_name], [*path, sub_name], out)


def render() -> str:
    """The whole CLI reference as Markdown."""
    out = [
        "# Command-line reference",
        "",
        "Generated from the commands themselves by `python -m iplos.cli._docs`; do not edit by hand.",
        "",
    ]
    _render(typer.main.get_command(app), ["iplos"], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
