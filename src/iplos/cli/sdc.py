"""`iplos assess` and `iplos anonymise`: disclosure control for microdata files.

Heavy modules (numpy, pyarrow, iplos.sdc) are imported inside the commands so that other
commands start fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from iplos.cli._app import app, console, print_json
from iplos.errors import IplosError

if TYPE_CHECKING:
    from iplos.catalog.hierarchy import Hierarchy

QI_HELP = "Quasi-identifier column, optionally =HIERARCHY.csv (ARX format); without a file the catalogue's hierarchy for that column is used. Repeat per column."


def _hierarchies(specs: list[str]) -> tuple[list[str], dict[str, Hierarchy]]:
    from iplos.catalog.hierarchy import Hierarchy

    names: list[str] = []
    out: dict[str, Hierarchy] = {}
    for spec in specs:
        column, _, file = spec.partition("=")
        column = column.strip()
        if not column:
            raise IplosError(f"--qi {spec!r}: no column name")
        if column in out:
            raise IplosError(f"--qi {column!r} given twice")
        if file:
            out[column] = Hierarchy.read_arx_csv(Path(file), name=column)
        else:
            try:
                from iplos.catalog.hierarchies import hierarchy_for  # type: ignore[import-not-found,unused-ignore]
            except ImportError:
                raise IplosError(
                    f"--qi {column!r}: no hierarchy file given and the catalogue has no hierarchies"
                ) from None
            out[column] = hierarchy_for(column)
        names.append(column)
    if not names:
        raise IplosError("give at least one --qi")
    return names, out


def _levels(specs: list[str], hierarchies: dict[str, Hierarchy], option: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for spec in specs:
        column, sep, level = spec.partition("=")
        if not sep or column not in hierarchies:
            raise IplosError(f"{option} {spec!r}: expected COL=LEVEL with COL one of the --qi columns")
        out[column] = hierarchies[column].level(level.strip())
    return out


def _load(
    path: Path, qis: list[str], hierarchies: dict[str, Hierarchy], sensitive: list[str], sep: str | None
) -> tuple[Any, Any]:
    """The quasi-identifier and sensitive columns of the file (all columns of a CSV file), and
    their frequency table."""
    from iplos.cli import _microdata_io as io

    overlap = set(qis) & set(sensitive)
    if overlap:
        raise IplosError(f"column(s) both --qi and --sensitive: {', '.join(sorted(overlap))}")
    # Quasi-identifiers are replaced in the output, so they may be read dictionary-encoded.
    table = io.read_table(path, sep, dictionary=qis, columns=[*qis, *sensitive])
    io.require_columns(table, [*qis, *sensitive], str(path))
    row_codes = [io.leaf_codes(table, q, hierarchies[q], str(path)) for q in qis]
    sens = [io.sensitive_codes(table, s, str(path)) for s in sensitive]
    freq = io.build_frequency_table(
        qis,
        row_codes,
        [len(hierarchies[q].rows) for q in qis],
        sensitive,
        [c for c, _ in sens],
        [lab for _, lab in sens],
    )
    return table, freq


def _risk_dict(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = report.to_dict()
    hist = data.pop("class_size_histogram")
    data["classes_by_size"] = {str(k): v for k, v in list(hist.items())[:20]}
    return data


@app.command("assess")
def assess(
    input: Path = typer.Argument(..., help="Microdata file: CSV (separator detected) or Parquet."),
    qi: list[str] = typer.Option(..., "--qi", help=QI_HELP),
    sensitive: list[str] = typer.Option([], "--sensitive", help="Sensitive column (repeat per column)."),
    population: Optional[Path] = typer.Option(  # noqa: UP045 (typer needs Optional)
        None,
        "--population",
        help="The population the data are a sample of (same columns), for journalist and marketer risk.",
    ),
    threshold: float = typer.Option(
        0.2, "--threshold", help="Record risk above which a record counts as at risk."
    ),
    person_key: Optional[str] = typer.Option(  # noqa: UP045
        None, "--person-key", help="Column tying a person's rows together: also measure person-level risk."
    ),
    acquaintance: list[str] = typer.Option(
        [],
        "--acquaintance",
        help="COL=hours or COL=score: a column an acquaintance knows in bands (hours) or groups (functional "
        "scores); with --person-key, adds the acquaintance risk.",
    ),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (default: detected)."),  # noqa: UP045
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Measure re-identification risk: class sizes, k, sample uniques, prosecutor/journalist/marketer risk,
    l-diversity and t-closeness of sensitive columns, and the QI combinations that make records unique (SUDA).

    Example: iplos assess extract.parquet --qi alder=alder.csv --qi kjonn=kjonn.csv --sensitive diagnose
    """
    from iplos.sdc import assess_risk

    qis, hierarchies = _hierarchies(qi)
    _, freq = _load(input, qis, hierarchies, list(sensitive), sep)
    pop = None
    if population is not None:
        _, pop = _load(population, qis, hierarchies, [], sep)
    report = assess_risk(freq, pop, threshold=threshold)
    data = _risk_dict(report)
    if person_key is not None:
        from iplos.cli._release import person_risk

        bands: dict[str, str] = {}
        for spec in acquaintance:
            column, _, kind = spec.partition("=")
            if kind not in ("hours", "score"):
                raise IplosError(f"--acquaintance {spec!r}: expected COL=hours or COL=score")
            bands[column] = kind
        data["person_level"] = person_risk(input, qis, person_key, sep, bands)
    elif acquaintance:
        raise IplosError("--acquaintance needs --person-key")
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{input}[/]: {report.n_records} records, {report.n_classes} classes, k = {report.k}")
    console.print(f"sample uniques: {report.sample_uniques}")
    for name in ("prosecutor", "journalist"):
        m = getattr(report, name)
        console.print(
            f"{name} risk: highest {m.highest:.4f}, average {m.average:.4f}, "
            f"{100 * m.share_above_threshold:.2f} % of records above {threshold}"
        )
    console.print(f"marketer risk: {report.marketer:.4f}")
    for s in report.sensitive:
        console.print(
            f"{s.attribute}: distinct-l {s.distinct_l}, entropy-l {s.entropy_l:.3f}, "
            f"t (equal) {s.t_equal:.4f}, t (ordered) {s.t_ordered:.4f}"
        )
    if report.suda is not None:
        console.print(f"records with a minimal sample unique: {report.suda.records_with_msu}")
        for subset, count in sorted(report.suda.msu_by_subset.items(), key=lambda kv: -kv[1])[:10]:
            console.print(f"  {subset}: {count}")
        contrib = ", ".join(f"{k} {v:.2f}" for k, v in report.suda.contribution.items())
        console.print(f"variable contributions: {contrib}")
    for view, figures in data.get("person_level", {}).items():
        console.print(
            f"{view}-level prosecutor risk: highest {figures['highest']:.4f}, average {figures['average']:.4f}, "
            f"{figures['uniques']} unique of {figures['units']}"
        )


@app.command("anonymise")
def anonymise(
    input: Path = typer.Argument(..., help="Microdata file: CSV (separator detected) or Parquet."),
    qi: list[str] = typer.Option(..., "--qi", help=QI_HELP),
    out: Path = typer.Option(
        ..., "--out", help="Output file (.parquet or CSV); written only when all succeeds."
    ),
    sensitive: list[str] = typer.Option([], "--sensitive", help="Sensitive column (repeat per column)."),
    k: int = typer.Option(5, "--k", help="Minimum records per equivalence class."),
    l: Optional[float] = typer.Option(None, "--l", help="l-diversity of every sensitive column."),  # noqa: E741, UP045
    l_variant: str = typer.Option("distinct", "--l-variant", help="distinct, entropy or recursive:C."),
    t: Optional[float] = typer.Option(None, "--t", help="t-closeness of every sensitive column (0..1)."),  # noqa: UP045
    t_variant: str = typer.Option("equal", "--t-variant", help="equal or ordered ground distance."),
    max_suppression: float = typer.Option(
        0.05, "--max-suppression", help="Largest share of records that may be suppressed (0..1)."
    ),
    metric: str = typer.Option("loss", "--metric", help="loss, entropy, discernibility, aecs or precision."),
    min_level: list[str] = typer.Option(
        [], "--min-level", help="COL=N: generalise COL at least to level N (number or name)."
    ),
    max_level: list[str] = typer.Option(
        [], "--max-level", help="COL=N: generalise COL at most to level N (number or name)."
    ),
    local_suppression: bool = typer.Option(
        False,
        "--local-suppression",
        help="Blank single values instead of suppressing records (k only), or with --person-key a "
        "person's cells in all their rows instead of whole persons.",
    ),
    local_recoding: bool = typer.Option(
        False,
        "--local-recoding",
        help="Generalise each class to levels of its own (Mondrian along the hierarchies; loss metric) "
        "through the release path, for records or, with --person-key, persons.",
    ),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the JSON report here."),  # noqa: UP045
    all_nodes: bool = typer.Option(
        False, "--all-nodes", help="Evaluate and report every satisfying transformation."
    ),
    person_key: Optional[str] = typer.Option(  # noqa: UP045
        None,
        "--person-key",
        help="Column that ties a person's rows together (e.g. lopenr): protect persons, not rows, "
        "through the release path a delivery uses.",
    ),
    plan_file: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--plan", help="A release plan (JSON, iplos.release.Plan) instead of the criteria options."
    ),
    attacker: list[str] = typer.Option(
        [], "--attacker", help="Column the attacker knows (repeat; default: the --qi columns)."
    ),
    suppress: str = typer.Option(
        "blank", "--suppress", help="With --person-key: blank ('*') or remove the suppressed persons' rows."
    ),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (default: detected; output ';')."),  # noqa: UP045
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Find the least-generalised release that meets the criteria, and write it.

    Searches all combinations of hierarchy levels for the one with the least information loss that
    meets k (and l, t) with at most --max-suppression of records suppressed, then writes every row
    generalised (suppressed records get '*' in every quasi-identifier).

    Example: iplos anonymise extract.parquet --qi alder=alder.csv --qi kommune --k 5 --max-suppression 0.05 --out anon.parquet
    """
    started = time.perf_counter()
    qis, hierarchies = _hierarchies(qi)
    if person_key is not None or plan_file is not None or local_recoding:
        data = _release(
            input=input,
            qis=qis,
            hierarchies=hierarchies,
            sensitive=list(sensitive),
            options={
                "k": k,
                "l": l,
                "l_variant": l_variant,
                "t": t,
                "t_variant": t_variant,
                "max_suppression": max_suppression,
                "metric": metric,
                "local": local_suppression,
                "local_recoding": local_recoding,
            },
            min_levels=_levels(min_level, hierarchies, "--min-level"),
            max_levels=_levels(max_level, hierarchies, "--max-level"),
            person_key=person_key,
            plan_file=plan_file,
            attacker=list(attacker),
            out=out,
            suppress=suppress,
            all_nodes=all_nodes,
            sep=sep,
            started=started,
        )
        _report(data, report, as_json, out)
        return
    from iplos.cli._anonymise import run_anonymise

    data = run_anonymise(
        input=input,
        qis=qis,
        hierarchies=hierarchies,
        sensitive=list(sensitive),
        k=k,
        l=l,
        l_variant=l_variant,
        t=t,
        t_variant=t_variant,
        max_suppression=max_suppression,
        metric=metric,
        min_levels=_levels(min_level, hierarchies, "--min-level"),
        max_levels=_levels(max_level, hierarchies, "--max-level"),
        local=local_suppression,
        out=out,
        all_nodes=all_nodes,
        sep=sep,
        started=started,
        load=_load,
    )
    _report(data, report, as_json, out)


def _report(data: dict[str, Any], report: Path | None, as_json: bool, out: Path) -> None:
    if report is not None:
        from iplos.atomic import write_text_atomic

        write_text_atomic(report, json.dumps(data, ensure_ascii=False, indent=2, default=str))
    if as_json:
        print_json(data)
        return
    levels = ", ".join(f"{q} {v['level']} ({v['level_name']})" for q, v in data["quasi_identifiers"].items())
    console.print(f"levels: {levels}")
    persons = (
        f"; suppressed persons: {data['suppressed_persons']} of {data['persons']}"
        if "persons" in data
        else ""
    )
    console.print(
        f"suppressed records: {data['suppressed_records']} of {data['records']}{persons}; "
        f"achieved k = {data['achieved']['k']}"
    )
    if data.get("local_suppression"):
        info = data["local_suppression"]
        console.print(
            f"local suppression: {info['cells_suppressed']} cells blanked, "
            f"{info.get('records_fully_blanked', 0)} records with every quasi-identifier blanked"
        )
    console.print(f"information loss: {data['metrics_after']}")
    for view in ("record", "person", "acquaintance"):
        figures = (data.get("risk_after") or {}).get(view)
        if isinstance(figures, dict) and "highest" in figures:
            console.print(
                f"{view}-level risk after: highest {figures['highest']:.4f}, average {figures['average']:.4f}, "
                f"uniques {figures['uniques']}"
            )
    alternatives = (data.get("search") or {}).get("satisfying") or []
    if len(alternatives) > 1:
        console.print("alternatives (levels, suppressed records, loss):")
        ranked = sorted(alternatives, key=lambda n: n["metrics"].get(data["metric"], float("inf")))
        for node in ranked[:5]:
            console.print(
                f"  {node['levels']}  {node['suppressed']}  {node['metrics'].get(data['metric'], 0):.4f}"
            )
    console.print(f"wrote {out} in {data['elapsed_seconds']:.2f} s")


def _release(
    *,
    input: Path,
    qis: list[str],
    hierarchies: dict[str, Hierarchy],
    sensitive: list[str],
    options: dict[str, Any],
    min_levels: dict[str, int],
    max_levels: dict[str, int],
    person_key: str | None,
    plan_file: Path | None,
    attacker: list[str],
    out: Path,
    suppress: str,
    all_nodes: bool,
    sep: str | None,
    started: float,
) -> dict[str, Any]:
    """`iplos anonymise` through the release path (`--person-key`, `--plan` or `--local-recoding`)."""
    from iplos.cli._release import person_plan, run_release
    from iplos.release import Criteria, Plan

    if plan_file is not None:
        try:
            plan = Plan.from_json(plan_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise IplosError(f"cannot read the plan {plan_file}: {exc.strerror}") from None
        unknown = [q for q in plan.columns if q not in hierarchies]
        if unknown:
            raise IplosError(f"--plan {plan_file}: give a --qi for {', '.join(unknown)}")
    else:
        variant = str(options["l_variant"]).strip().lower()
        c = None
        if variant.startswith("recursive:"):
            variant, _, c_text = variant.partition(":")
            try:
                c = float(c_text)
            except ValueError:
                raise IplosError(f"--l-variant {options['l_variant']!r}: expected recursive:C") from None
        criteria = Criteria.from_dict(
            {
                "k": options["k"],
                "l": options["l"],
                "l_variant": variant,
                "c": c,
                "t": options["t"],
                "t_variant": options["t_variant"],
                "unit": "person" if person_key else "record",
                "max_suppressed": options["max_suppression"],
            }
        )
        plan = person_plan(
            qis,
            hierarchies,
            sensitive,
            criteria,
            options["metric"],
            min_levels,
            max_levels,
            person_key,
            attacker,
            method="local_recoding" if options.get("local_recoding") else "global",
            local_suppression=bool(options["local"]),
        )
    return run_release(
        input=input,
        plan=plan,
        hierarchies=hierarchies,
        out=out,
        suppress=suppress,
        all_nodes=all_nodes,
        sep=sep,
        started=started,
    )
