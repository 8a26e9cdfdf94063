"""Write a protected table as CSV, Excel or HTML, and its disclosure report as JSON.

The CSV layout (also what `audit_file` reads), one row per cell:

    fylke:fylke,fylke:kommune,kjonn,value,flag
    Total,Total,Total,1234,published
    03,Total,1,17,published
    03,0301,1,,secondary

- one column per level of each dimension, coarse to fine, named `DIMENSION:LEVEL` (just
  `DIMENSION` for a dimension with one level); a margin has the total marker (default `Total`)
  in its own level and every finer one, so the levels give the tree: a node's parent is the same
  row with its finest non-total level set to the marker;
- `value`: the published number, empty where suppressed;
- `flag`: `published`, `primary`, `secondary` or `perturbed`.

With `labels` (dimension -> category code -> text), the Excel sheet gets a text column beside each
level column (`DIMENSION:LEVEL (tekst)`) and the HTML table shows each category as "code text"; the
CSV keeps codes only, since it is what `audit_file` and other programs read.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iplos.atomic import write_bytes_atomic, write_text_atomic
from iplos.errors import IplosError
from iplos.sdc.tables._dimension import Dimension
from iplos.sdc.tables._protect import FLAG_NAMES, ProtectedTable


def level_columns(dim: Dimension) -> list[str]:
    """CSV column names of a dimension's levels (coarse to fine, the total level left out)."""
    names = dim.level_names[1:]
    if len(names) == 1:
        return [dim.name]
    return [f"{dim.name}:{n}" for n in names]


Labels = Mapping[str, Mapping[str, str]]
"""Category texts per dimension: dimension name -> category code -> text (kommune names, code texts)."""

LABEL_SUFFIX = " (tekst)"


def cells_frame(pt: ProtectedTable, labels: Labels | None = None) -> pd.DataFrame:
    """The long layout: level columns per dimension, value and flag, in table order.

    With `labels`, each level column of a labelled dimension is followed by its text column.
    """
    t = pt.table
    columns: dict[str, Any] = {}
    coords = t.coordinates
    for d, dim in enumerate(t.dimensions):
        total = dim.labels[0]
        cols = level_columns(dim)
        paths = [dim.path(i)[1:] for i in range(dim.size)]
        for depth, col in enumerate(cols, start=1):
            per_node = np.array(
                [dim.labels[p[depth - 1]] if len(p) >= depth else total for p in paths], dtype=object
            )
            columns[col] = per_node[coords[:, d]]
            texts = (labels or {}).get(dim.name) or {}
            if any(v in texts for v in per_node):  # a level without any text gets no text column
                columns[col + LABEL_SUFFIX] = np.array(
                    [texts.get(v, "") if v != total else v for v in columns[col]], dtype=object
                )
    columns["value"] = pt.published
    columns["flag"] = np.array(FLAG_NAMES, dtype=object)[pt.flags]
    return pd.DataFrame(columns)


def _format_value(v: float, mean: bool) -> str:
    if not np.isfinite(v):
        return ""
    if mean or abs(v - round(v)) > 1e-9:
        return f"{v:.4f}".rstrip("0").rstrip(".")
    return str(round(v))


def table_csv(pt: ProtectedTable) -> str:
    frame = cells_frame(pt)
    mean = pt.table.statistic == "mean" or pt.table.kind == "magnitude"
    frame["value"] = [_format_value(v, mean) for v in frame["value"]]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def write_table(
    pt: ProtectedTable, path: str | Path, row_dimensions: int | None = None, labels: Labels | None = None
) -> Path:
    """Write by extension: .csv, .xlsx or .html (atomically). `row_dimensions` for HTML layout.

    `labels` go into the Excel and HTML files (the CSV keeps codes).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        write_text_atomic(p, table_csv(pt))
    elif suffix == ".xlsx":
        write_bytes_atomic(p, table_xlsx(pt, labels))
    elif suffix in (".html", ".htm"):
        write_text_atomic(p, table_html(pt, row_dimensions, labels))
    else:
        raise IplosError(f"cannot write a table as {p.name}: use .csv, .xlsx or .html")
    return p


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    p = Path(path)
    write_text_atomic(p, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return p


_COLOURS = {"published": None, "primary": "#f4c7c3", "secondary": "#fce8b2", "perturbed": "#d9ead3"}


def table_xlsx(pt: ProtectedTable, labels: Labels | None = None) -> bytes:
    """An Excel workbook: sheet 'table' (the CSV layout, with `labels` as text columns, suppressed
    cells coloured) and 'report'."""
    import xlsxwriter

    frame = cells_frame(pt, labels)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": False})
    head = book.add_format({"bold": True, "bottom": 1})
    fmt = {name: book.add_format({"bg_color": c} if c else {}) for name, c in _COLOURS.items()}
    sheet = book.add_worksheet("table")
    for j, col in enumerate(frame.columns):
        sheet.write(0, j, str(col), head)
    value_col = list(frame.columns).index("value")
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        flag = str(row[-1])
        for j, v in enumerate(row):
            if j == value_col:
                if isinstance(v, float) and not np.isfinite(v):
                    sheet.write_blank(i, j, None, fmt[flag])
                else:
                    sheet.write_number(i, j, float(v), fmt[flag])
            else:
                sheet.write_string(i, j, str(v), fmt[flag])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    rep = book.add_worksheet("report")
    report = pt.report()
    facts = [
        ("method", report["method"]),
        ("rules", ", ".join(report["rules"])),
        *((f"cells {k}", v) for k, v in report["flags"].items()),
    ]
    if "audit" in report:
        facts.append(("audit passed", str(report["audit"]["passed"])))
    if "perturbation" in report:
        facts.append(("noise D", report["perturbation"]["D"]))
        facts.append(("noise V", report["perturbation"]["V"]))
    for i, (k, v) in enumerate(facts):
        rep.write_string(i, 0, str(k), head)
        rep.write(i, 1, v if isinstance(v, int | float) else str(v))
    book.close()
    return buffer.getvalue()


def table_html(pt: ProtectedTable, row_dimensions: int | None = None, labels: Labels | None = None) -> str:
    """A cross table (row dimensions down, the others across), suppressed cells shown as ×;
    categories as "code text" where `labels` has a text."""
    t = pt.table
    k = len(t.dimensions)
    n_rows = k if row_dimensions is None else max(1, min(row_dimensions, k))
    row_dims, col_dims = t.dimensions[:n_rows], t.dimensions[n_rows:]
    row_shape = tuple(d.size for d in row_dims)
    col_shape = tuple(d.size for d in col_dims)
    n_r, n_c = int(np.prod(row_shape)), int(np.prod(col_shape)) if col_dims else 1
    published = pt.published.reshape(n_r, n_c)
    flags = pt.flags.reshape(n_r, n_c)
    mean = t.kind == "magnitude"
    esc = html.escape

    def label(dims: tuple[Dimension, ...], shape: tuple[int, ...], i: int) -> str:
        nodes = np.unravel_index(i, shape) if shape else ()
        parts = []
        for dim, node in zip(dims, nodes, strict=True):
            depth = dim.depths[int(node)]
            code = dim.labels[int(node)]
            text = (labels or {}).get(dim.name, {}).get(code) if depth else None
            shown = f"{code} {text}" if text and text != code else code
            parts.append("&nbsp;&nbsp;" * depth + esc(shown))
        return " · ".join(parts)

    out = [
        "<!doctype html>",
        '<html lang="no"><head><meta charset="utf-8"><title>iplos table</title><style>',
        "table{border-collapse:collapse;font:13px system-ui,sans-serif}td,th{border:1px solid #ccc;"
        "padding:2px 6px}td{text-align:right}th{text-align:left;background:#f3f3f3}"
        ".primary{background:#f4c7c3}.secondary{background:#fce8b2}.perturbed{background:#d9ead3}",
        "</style></head><body>",
        f"<p>Method: {esc(pt.method)}. Rules: {esc(', '.join(pt.rules) or '-')}. "
        "× = suppressed (red: sensitive, yellow: to protect a sensitive cell).</p>",
        "<table><thead><tr>",
        f"<th>{esc(' · '.join(d.name for d in row_dims))}</th>",
    ]
    out.extend(f"<th>{label(col_dims, col_shape, j)}</th>" for j in range(n_c)) if col_dims else out.append(
        f"<th>{esc(t.value_name or t.unit)}</th>"
    )
    out.append("</tr></thead><tbody>")
    for i in range(n_r):
        out.append(f"<tr><th>{label(row_dims, row_shape, i)}</th>")
        for j in range(n_c):
            flag = FLAG_NAMES[int(flags[i, j])]
            text = "×" if flag in ("primary", "secondary") else _format_value(float(published[i, j]), mean)
            cls = f' class="{flag}"' if flag != "published" else ""
            out.append(f"<td{cls}>{esc(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></body></html>")
    return "\n".join(out) + "\n"
