"""`iplos tables`: protected aggregate tables (suppression with audit, or the cell key method).

    iplos tables INPUT --rows COL[:LEVEL] ... [--cols COL[:LEVEL] ...] --out TABLE.csv
    iplos tables audit TABLE.csv [MORE.csv ...] [--source NAME] [--report REPORT.json]

`iplos tables INPUT ...` is short for `iplos tables make INPUT ...`. Every table made is kept in
the release log of the case store (IPLOS_HOME, or IPLOS_CASE_DB), and every new table of the same
source and data is protected jointly with all those released before it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from iplos.cli._app import app, console, print_json
from iplos.errors import IplosError


class _MakeByDefault(TyperGroup):
    """A group whose first argument, when it is not a subcommand, goes to `make`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["make", *args]
        return super().parse_args(ctx, args)


tables_app = typer.Typer(
    cls=_MakeByDefault,
    help="Protected aggregate tables: counts, sums and means with disclosure control and an audit.",
    no_args_is_help=True,
)
app.add_typer(tables_app, name="tables")


def _read_input(path: Path, text_columns: list[str]) -> Any:
    import pandas as pd

    if not path.exists():
        raise IplosError(f"input file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet" or path.is_dir():
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, dtype={c: str for c in text_columns}, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise IplosError(f"cannot read input {path}: {exc}") from None
    raise IplosError(f"input {path} must be .csv or .parquet")


def _dimension(
    spec: str, hierarchies: dict[str, Path], year: int | None, data: Any, observed: bool, total: str
) -> Any:
    from iplos.catalog.hierarchy import Hierarchy
    from iplos.sdc.tables import Dimension

    column, _, levels = spec.partition(":")
    if column not in data.columns:
        raise IplosError(f"--rows/--cols {spec!r}: input has no column {column!r}")
    level_list = [x.strip() for x in levels.split(",") if x.strip()] if levels else []
    values: list[str] = data[column].dropna().astype(str).unique().tolist()
    hierarchy = None
    if column in hierarchies:
        hierarchy = Hierarchy.read_arx_csv(hierarchies[column], name=column)
    else:
        from iplos.catalog import hierarchy_for

        try:
            hierarchy = hierarchy_for(column, year=year) if year is not None else hierarchy_for(column)
        except IplosError:
            try:
                hierarchy = hierarchy_for(column) if year is not None else None
            except IplosError:
                hierarchy = None
    if hierarchy is None:
        if level_list:
            raise IplosError(
                f"column {column!r} has no hierarchy: give one with --hierarchy {column}=FILE.csv"
            )
        return Dimension.flat(column, sorted(values, key=lambda v: (len(str(v)), str(v))), total_label=total)
    finest = level_list[0] if level_list else 0
    subtotals = level_list[1:] or None
    return Dimension.from_hierarchy(
        hierarchy,
        finest,
        name=column,
        total_label=total,
        values=values if observed else None,
        subtotals=subtotals,
    )


@tables_app.command("make")
def make(
    input: Annotated[Path, typer.Argument(help="Records to tabulate (.csv or .parquet).")],
    out: Annotated[Path, typer.Option("--out", help="Table file: .csv, .xlsx or .html.")],
    rows: Annotated[
        list[str], typer.Option("--rows", help="Row dimension COL[:LEVEL[,SUBTOTAL...]]; repeatable.")
    ],
    cols: Annotated[list[str] | None, typer.Option("--cols", help="Column dimension, as --rows.")] = None,
    count: Annotated[str, typer.Option(help="Count 'persons' (distinct --person) or 'records'.")] = "persons",
    person: Annotated[str, typer.Option(help="Column identifying a person.")] = "pseudonym",
    value: Annotated[str | None, typer.Option(help="Numeric column for a magnitude table.")] = None,
    stat: Annotated[str, typer.Option(help="Statistic of --value: sum or mean.")] = "sum",
    min_count: Annotated[int, typer.Option(help="Cells with fewer persons are sensitive.")] = 5,
    zero_sensitive: Annotated[bool, typer.Option(help="Treat empty cells as sensitive too.")] = False,
    group_disclosure: Annotated[bool, typer.Option(help="A cell equal to its margin is sensitive.")] = True,
    dominance: Annotated[str | None, typer.Option(help="(n,k) dominance rule as N,K (k in %).")] = None,
    p_percent: Annotated[float | None, typer.Option(help="p % rule, p in %.")] = None,
    secondary: Annotated[str, typer.Option(help="Secondary suppression: optimal, fast or none.")] = "fast",
    protection: Annotated[
        float, typer.Option(help="Protection of a primary cell, % of its value each way.")
    ] = 30.0,
    protection_min: Annotated[
        float,
        typer.Option(help="Smallest protection each way, in persons (the value's unit for sums)."),
    ] = 3.0,
    protection_upper: Annotated[
        float | None, typer.Option(help="Upper protection in %, when not --protection.")
    ] = None,
    protection_lower: Annotated[
        float | None, typer.Option(help="Lower protection in %, when not --protection.")
    ] = None,
    cost: Annotated[
        str, typer.Option(help="Cost of suppressing a cell: value, contributors or unity.")
    ] = "value",
    time_limit: Annotated[
        float, typer.Option(help="Seconds for the optimal method before it falls back to fast.")
    ] = 60.0,
    cell_key: Annotated[
        bool,
        typer.Option(
            "--cell-key",
            help="Perturb with the cell key method instead of suppressing (the key holder's record keys).",
        ),
    ] = False,
    noise_d: Annotated[int, typer.Option(help="Cell key: largest noise D.")] = 2,
    noise_v: Annotated[float, typer.Option(help="Cell key: noise variance V.")] = 1.0,
    noise_js: Annotated[
        int, typer.Option(help="Cell key: no cell is published as 1..JS (small values go to 0 or above).")
    ] = 0,
    ptable: Annotated[
        Path | None, typer.Option(help="Cell key: the perturbation table as data (CSV with i, j, p, v).")
    ] = None,
    hierarchy: Annotated[
        list[str] | None, typer.Option(help="COL=FILE.csv: an ARX hierarchy for a column; repeatable.")
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Year of the regional classification (kommune, fylke).")
    ] = None,
    observed_only: Annotated[bool, typer.Option(help="Only categories that occur in the input.")] = False,
    total_label: Annotated[str, typer.Option(help="Label of totals and subtotal markers.")] = "Total",
    report: Annotated[Path | None, typer.Option(help="Write the disclosure report as JSON here.")] = None,
    exact_intervals: Annotated[
        bool,
        typer.Option(help="Audit: the exact interval of every suppressed cell (slower; same verdict)."),
    ] = False,
    linked: Annotated[
        bool,
        typer.Option(
            "--linked/--alone",
            help="Protect jointly with every earlier release of the same data in the release log, "
            "and log this table (--alone: neither).",
        ),
    ] = True,
    source: Annotated[
        str | None,
        typer.Option(help="Name of the data source in the release log (default: the input's name)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Name of this table in the release log (default: the output's name).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report summary as JSON.")] = False,
) -> None:
    """Build a table with all margins, protect it and write it with a flag per cell.

    Earlier tables of the same source and data (same content) in the release log are taken into
    account: cells are suppressed until no primary cell of any of them can be narrowed below its
    protection by all of them together. The table is logged once written.

    Example: iplos tables make tjeneste.parquet --rows kommune:fylke --cols tjeneste:0,1 --out t.html
    """
    from iplos.sdc.tables import (
        Dominance,
        GroupDisclosure,
        MinCount,
        PerturbationTable,
        PPercent,
        ProtectionLevels,
        build_table,
        perturb_table,
        protect,
        write_report,
        write_table,
    )

    if count not in ("persons", "records"):
        raise IplosError(f"--count must be persons or records, not {count!r}")
    if stat not in ("sum", "mean"):
        raise IplosError(f"--stat must be sum or mean, not {stat!r}")
    if secondary not in ("optimal", "fast", "none"):
        raise IplosError(f"--secondary must be optimal, fast or none, not {secondary!r}")
    if cost not in ("value", "contributors", "unity"):
        raise IplosError(f"--cost must be value, contributors or unity, not {cost!r}")
    hier_files: dict[str, Path] = {}
    for item in hierarchy or []:
        col, sep, file = item.partition("=")
        if not sep:
            raise IplosError(f"--hierarchy takes COL=FILE.csv, not {item!r}")
        hier_files[col] = Path(file)
    specs = [*rows, *(cols or [])]
    data = _read_input(input, [s.partition(":")[0] for s in specs])
    dims = [_dimension(s, hier_files, year, data, observed_only, total_label) for s in specs]
    table = build_table(
        data,
        dims,
        count=count,  # type: ignore[arg-type]
        value=value,
        statistic=stat,  # type: ignore[arg-type]
        person_column=person,
        record_keys=_record_keys() if cell_key else None,
    )
    log: Any = None
    linked_result: Any = None
    version = ""
    if cell_key:
        p_table = (
            PerturbationTable.from_csv(ptable) if ptable else PerturbationTable(noise_d, noise_v, noise_js)
        )
        result = perturb_table(table, p_table)
        if linked:
            log, _, version = _open_log(input, source)
    else:
        rules: list[Any] = [MinCount(min_count, zero_sensitive=zero_sensitive)]
        if group_disclosure:
            rules.append(GroupDisclosure())
        if dominance:
            try:
                n_text, k_text = dominance.split(",")
                rules.append(Dominance(int(n_text), float(k_text)))
            except ValueError:
                raise IplosError(f"--dominance takes N,K such as 1,85, not {dominance!r}") from None
        if p_percent is not None:
            rules.append(PPercent(p_percent))
        levels = ProtectionLevels(
            protection if protection_upper is None else protection_upper,
            protection if protection_lower is None else protection_lower,
            protection_min,
            protection_min,
        )
        if linked:
            from iplos.sdc.tables import protect_linked

            log, earlier, version = _open_log(input, source)
            linked_result = protect_linked(
                data,
                table,
                earlier,
                rules,
                name=name or out.stem,
                secondary=secondary,  # type: ignore[arg-type]
                protection=levels,
                cost=cost,  # type: ignore[arg-type]
                time_limit=time_limit,
                count=count,  # type: ignore[arg-type]
                value=value,
                person_column=person,
                audit_intervals="exact" if exact_intervals else "witnessed",
            )
            result = linked_result.table
        else:
            result = protect(
                table,
                rules,
                secondary=secondary,  # type: ignore[arg-type]
                protection=levels,
                cost=cost,  # type: ignore[arg-type]
                time_limit=time_limit,
                audit_intervals="exact" if exact_intervals else "witnessed",
            )
    passed = result.audit.passed if result.audit is not None else True
    if linked_result is not None:
        passed = linked_result.passed
    write_table(result, out, row_dimensions=len(rows))
    rep = result.report()
    if linked_result is not None:
        rep.update(linked_result.report())
        rep["linked_with"] = [r.name for r in linked_result.model.releases[:-1]]
    if log is not None:
        rep["release_log"] = {"source": source or input.stem, "data_version": version[:16]}
    if report is not None:
        write_report(rep, report)
    if log is not None and passed:
        from iplos.sdc.tables import Release

        record = Release.of(name or out.stem, result).as_record()
        log.record(source=source or input.stem, data_version=version, **record)
        log.close()
    summary = {k: v for k, v in rep.items() if k not in ("audit", "perturbation")}
    if "audit" in rep:
        summary["audit"] = {k: v for k, v in rep["audit"].items() if k != "cells"}
    if json_out:
        print_json(summary)
    else:
        flags = ", ".join(f"{v} {k}" for k, v in rep["flags"].items() if v)
        console.print(f"{out}: {table.n_cells} cells ({flags}); method {result.method}")
        if linked_result is not None:
            joint = rep["joint_audit"]
            verdict = "[green]passed[/]" if passed else "[red]FAILED[/]"
            with_ = ", ".join(rep["linked_with"]) or "no earlier release"
            console.print(
                f"joint audit with {with_} {verdict}: {joint['failing']} primary cells not protected"
            )
            if joint["given_away_earlier"]:
                console.print(
                    f"[yellow]{len(joint['given_away_earlier'])} primary cells were already given away "
                    "by earlier releases[/] (see the report)"
                )
        elif result.audit is not None:
            verdict = "[green]passed[/]" if result.audit.passed else "[red]FAILED[/]"
            console.print(f"audit {verdict}: {result.audit.failing.size} sensitive cells not protected")
    if not passed:
        raise typer.Exit(1)


def _record_keys() -> Any:
    """The key holder's record keys (IPLOS_HOME's key file); they never leave memory."""
    from iplos.config import Settings
    from iplos.ident import RecordKeys

    return RecordKeys.open(Settings.from_env()).keys


def _open_log(input: Path, source: str | None) -> tuple[Any, list[Any], str]:
    """The release log of IPLOS_HOME's case store, the earlier releases of this input's data
    (linkable ones: perturbed tables are not), and the data version."""
    from iplos.cases.release_store import ReleaseLog
    from iplos.config import Settings
    from iplos.sdc.tables import Release, data_version

    settings = Settings.from_env()
    settings.home.mkdir(parents=True, exist_ok=True)
    log = ReleaseLog(settings.case_db_url)
    version = data_version(input)
    earlier = [
        Release.from_record(r.name, r.kind, r.statistic, r.dimensions, r.cells)
        for r in log.releases(source or input.stem, version)
    ]
    return log, [r for r in earlier if not (r.flags == 3).any()], version


@tables_app.command("audit")
def audit_cmd(
    tables: Annotated[
        list[Path],
        typer.Argument(help="Table CSVs (dimension level columns, value, flag), audited together."),
    ],
    source: Annotated[
        str | None,
        typer.Option(help="Also every table of this source in the release log (its newest data version)."),
    ] = None,
    hierarchy: Annotated[
        list[str] | None,
        typer.Option(
            help="COL=FILE.csv: the ARX hierarchy relating files' categories of a column not in the log; repeatable."
        ),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write the per-cell audit as JSON here.")] = None,
    min_width: Annotated[
        float, typer.Option(help="Narrowest acceptable interval of a suppressed cell.")
    ] = 0.0,
    total_marker: Annotated[str, typer.Option(help="Label marking totals in the level columns.")] = "Total",
    exact_intervals: Annotated[
        bool, typer.Option(help="The exact interval of every suppressed cell (slower; same verdict).")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
) -> None:
    """Check what an attacker can derive about every suppressed cell of published tables.

    Several files (and, with --source, the tables of the release log) are audited together: the
    attacker knows all of them at once, with the relations between their categories. Exits 1 when
    a sensitive cell (flag 'primary'; every suppressed cell of a table with none so flagged) can be
    derived exactly or within less than --min-width. The format is described in docs and in
    `iplos.sdc.tables._output`.
    """
    if len(tables) > 1 or source is not None:
        hier = {}
        for item in hierarchy or []:
            col, sep, file = item.partition("=")
            if not sep:
                raise IplosError(f"--hierarchy takes COL=FILE.csv, not {item!r}")
            from iplos.catalog.hierarchy import Hierarchy

            hier[col] = Hierarchy.read_arx_csv(Path(file), name=col)
        _audit_linked(tables, source, hier, report, min_width, total_marker, exact_intervals, json_out)
        return
    table = tables[0]
    from iplos.sdc.tables import audit_file, file_audit_report, write_report

    tf, result = audit_file(
        table,
        min_width=min_width,
        total_marker=total_marker,
        intervals="exact" if exact_intervals else "witnessed",
    )
    rep = file_audit_report(tf, result, min_width)
    if report is not None:
        write_report(rep, report)
    if json_out:
        print_json(rep)
    else:
        verdict = "[green]passed[/]" if result.passed else "[red]FAILED[/]"
        console.print(
            f"{table}: {rep['cells']} cells, {rep['suppressed']} suppressed, audit {verdict} "
            f"({rep['failing']} not protected, {rep['exactly_derivable']} exactly derivable; "
            f"{rep['linear_programs']} LPs in {rep['seconds']} s)"
        )
        for cell in rep["cells_audited"]:
            if cell["protected"] is False:
                where = ", ".join(
                    f"{k}={v}"
                    for k, v in cell.items()
                    if k not in ("sensitive", "lower", "upper", "protected", "exact")
                )
                console.print(f"  {where}: derivable within [{cell['lower']}, {cell['upper']}]")
    if not result.passed:
        raise typer.Exit(1)


def _audit_linked(
    files: list[Path],
    source: str | None,
    hierarchies: dict[str, Any],
    report: Path | None,
    min_width: float,
    total_marker: str,
    exact_intervals: bool,
    json_out: bool,
) -> None:
    from iplos.sdc.tables import (
        Release,
        audit_linked,
        linked_audit_report,
        read_table_csv,
        release_of_file,
        write_report,
    )

    logged: list[Any] = []
    if source is not None:
        from iplos.cases.release_store import ReleaseLog
        from iplos.config import Settings

        log = ReleaseLog(Settings.from_env().case_db_url)
        rows = log.releases(source)
        log.close()
        if not rows:
            raise IplosError(f"the release log has no table of source {source!r}")
        newest = rows[-1].data_version
        logged = [
            Release.from_record(r.name, r.kind, r.statistic, r.dimensions, r.cells)
            for r in rows
            if r.data_version == newest
        ]
        logged = [r for r in logged if not (r.flags == 3).any()]  # perturbed tables do not add up
    from_files = [
        release_of_file(read_table_csv(f, total_marker=total_marker), logged, hierarchies) for f in files
    ]
    releases = from_files + [r for r in logged if all(r is not f for f in from_files)]
    model, result = audit_linked(releases, min_width, "exact" if exact_intervals else "witnessed")
    rep = linked_audit_report(model, result, min_width)
    if report is not None:
        write_report(rep, report)
    if json_out:
        print_json(rep)
    else:
        verdict = "[green]passed[/]" if result.passed else "[red]FAILED[/]"
        names = ", ".join(r.name for r in releases)
        console.print(
            f"{len(releases)} tables ({names}) audited together: {verdict} ({rep['failing']} not protected, "
            f"{rep['exactly_derivable']} exactly derivable; {rep['linear_programs']} LPs in {rep['seconds']} s)"
        )
        for t in rep["tables"]:
            for cell in t["cells_audited"]:
                if cell["protected"] is False:
                    where = ", ".join(
                        f"{k}={v}"
                        for k, v in cell.items()
                        if k not in ("sensitive", "lower", "upper", "protected")
                    )
                    console.print(
                        f"  {t['name']}: {where}: derivable within [{cell['lower']}, {cell['upper']}]"
                    )
    if not result.passed:
        raise typer.Exit(1)
