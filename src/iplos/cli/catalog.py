"""`iplos catalog ...`: what the registers hold, their code lists, and the generalization hierarchies."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from iplos.catalog import Hierarchy, Register, Variable, catalog, hierarchies_for, hierarchy_for
from iplos.cli._app import app, console, print_json
from iplos.errors import IplosError

catalog_app = typer.Typer(
    help="The register catalogue: registers, tables, variables, code lists and hierarchies.",
    no_args_is_help=True,
)
app.add_typer(catalog_app, name="catalog")

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
RegisterOption = Annotated[
    str | None, typer.Option("--register", "-r", help="Only this register (iplos, kpr, dar, npr, ssb).")
]
TableOption = Annotated[
    str | None, typer.Option("--table", "-t", help="Only this table (person, tjeneste, ...).")
]


def _variable_dict(var: Variable, with_codes: bool = True) -> dict[str, Any]:
    data = dataclasses.asdict(var)
    data["qualified_name"] = var.qualified_name
    if not with_codes:
        data.pop("codes")
        data.pop("groups")
    return data


def _register_dict(reg: Register) -> dict[str, Any]:
    return dataclasses.asdict(reg)


@catalog_app.command("registers")
def registers(as_json: JsonOption = False) -> None:
    """List the registers, their årganger and tables.

    IPLOS covers 2007-2017 and KPR 2017-2024 (the 2017 årgang is in both); dar, npr and ssb can be
    linked with them, each with its own approval.
    """
    regs = catalog().registers
    if as_json:
        print_json([_register_dict(r) for r in regs])
        return
    table = Table(title="Registers")
    for col in ("register", "name", "years", "kind", "tables"):
        table.add_column(col)
    for r in regs:
        table.add_row(r.name, r.label_nb, f"{r.first_year}-{r.last_year}", r.kind, ", ".join(r.tables))
    console.print(table)


@catalog_app.command("list")
def list_variables(
    register: RegisterOption = None, table: TableOption = None, as_json: JsonOption = False
) -> None:
    """List the catalogue's variables with type, role and årganger.

    Example: `iplos catalog list --register kpr --table funksjon`.
    """
    variables = catalog().variables(register=register, table=table)
    if as_json:
        print_json([_variable_dict(v, with_codes=False) for v in variables])
        return
    out = Table(title="Variables")
    for col in ("register.table", "name", "label", "type", "role", "årganger"):
        out.add_column(col)
    for v in variables:
        out.add_row(
            f"{v.register}.{v.table}",
            v.name,
            v.label_nb,
            v.dtype + (", null" if v.nullable else ""),
            v.role,
            f"{v.aargang_from}-{v.aargang_to}",
        )
    console.print(out)


@catalog_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words to find in names, labels and code labels (nb or en).")],
    register: RegisterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find variables by name, label or code label, in bokmål or English.

    Case and diacritics are ignored: `iplos catalog search hjemmesykepleie` and
    `iplos catalog search "home nursing"` both find `tjeneste` (code 15).
    """
    hits = catalog().search(text, register=register)
    if as_json:
        print_json(
            [
                {
                    "qualified_name": h.variable.qualified_name,
                    "name": h.variable.name,
                    "register": h.variable.register,
                    "table": h.variable.table,
                    "label_nb": h.variable.label_nb,
                    "label_en": h.variable.label_en,
                    "score": h.score,
                    "codes": [dataclasses.asdict(c) for c in h.codes],
                }
                for h in hits
            ]
        )
        return
    if not hits:
        console.print(f"No variable matches {text!r}.")
        return
    out = Table(title=f"Variables matching {text!r}")
    for col in ("register.table", "name", "label", "matching codes"):
        out.add_column(col)
    for h in hits:
        v = h.variable
        codes = "; ".join(f"{c.code} {c.label_nb}" for c in h.codes)
        out.add_row(f"{v.register}.{v.table}", v.name, f"{v.label_nb} / {v.label_en}", codes)
    console.print(out)


@catalog_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Variable name, e.g. tjeneste or fodselsaar.")],
    register: RegisterOption = None,
    table: TableOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one variable with its code list, årganger, role and hierarchies.

    Without --register the first register holding the name is shown (iplos before kpr, dar, ...).
    """
    var = catalog().variable(name, register=register, table=table)
    if as_json:
        print_json(_variable_dict(var))
        return
    console.print(f"[bold]{var.qualified_name}[/]  {var.label_nb} / {var.label_en}", highlight=False)
    facts = [
        ("type", var.dtype + (", null" if var.nullable else "")),
        ("role", var.role),
        ("årganger", f"{var.aargang_from}-{var.aargang_to}"),
        ("code system", var.code_system or ""),
        ("range", "" if var.min_value is None else f"{var.min_value:g}-{var.max_value:g} {var.unit or ''}"),
        ("hierarchies", ", ".join(hierarchies_for(var.name))),
        ("reconstructed", "yes" if var.reconstructed else ""),
        ("description", var.description),
    ]
    for key, value in facts:
        if value:
            console.print(f"  {key}: {value}", highlight=False)
    if var.codes:
        groups = {g.code: g.label_nb for g in var.groups}
        out = Table(title=f"Code list ({var.codelist})")
        for col in ("code", "label (nb)", "label (en)", *(["group"] if groups else [])):
            out.add_column(col, overflow="fold")
        for c in var.codes:
            row = [c.code, c.label_nb + (" *" if c.reconstructed else ""), c.label_en]
            if groups:
                row.append(groups.get(c.group or "", ""))
            out.add_row(*row)
        console.print(out)


def _parse_params(params: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise IplosError(f"--param {item!r} is not KEY=VALUE")
        out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
    return out


@catalog_app.command("hierarchy")
def hierarchy(
    name: Annotated[
        str, typer.Argument(help="Column or variable name (alder, fodselsaar, kommune, startdato, ...).")
    ],
    hierarchy_name: Annotated[
        str | None,
        typer.Option("--hierarchy", "-H", help="Which of the column's hierarchies (default: the first)."),
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", "-l", help="Show the values of this level (number or name).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the hierarchy as ARX CSV to this file.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Builder parameter KEY=VALUE, e.g. year=2020.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a built-in generalization hierarchy, or write it as an ARX CSV file.

    Example: `iplos catalog hierarchy alder -H age_ssb --out age.csv` writes one row per age with
    ';' between levels, the format ARX reads.
    """
    h: Hierarchy = hierarchy_for(name, hierarchy_name, **_parse_params(param or []))
    if out is not None:
        h.to_arx_csv(out)
    if level is not None:
        lvl = h.level(level)
        codes, labels = h.codes(lvl)
        counts = [0] * len(labels)
        for c in codes:
            counts[c] += 1
        if as_json:
            print_json(
                {
                    "hierarchy": h.name,
                    "level": h.level_names[lvl],
                    "values": dict(zip(labels, counts, strict=True)),
                }
            )
            return
        table = Table(title=f"{h.name}: level {lvl} ({h.level_names[lvl]})")
        table.add_column("value")
        table.add_column("leaves", justify="right")
        for label, count in zip(labels, counts, strict=True):
            table.add_row(label, str(count))
        console.print(table)
        return
    levels = [(i, level_name, h.values(i)) for i, level_name in enumerate(h.level_names)]
    if as_json:
        print_json(
            {
                "hierarchy": h.name,
                "description": h.description,
                "leaves": len(h.rows),
                "levels": [
                    {"level": i, "name": n, "values": len(vals), "examples": list(vals[:4])}
                    for i, n, vals in levels
                ],
                "available": hierarchies_for(name),
                "written": str(out) if out else None,
            }
        )
        return
    table = Table(title=f"Hierarchy {h.name} ({len(h.rows)} leaves)", caption=h.description)
    for col in ("level", "name", "values", "examples"):
        table.add_column(col)
    for i, level_name, vals in levels:
        table.add_row(str(i), level_name, str(len(vals)), ", ".join(vals[:4]))
    console.print(table)
    if out is not None:
        console.print(f"Wrote {out} (ARX CSV, {len(h.rows)} rows).", highlight=False)
