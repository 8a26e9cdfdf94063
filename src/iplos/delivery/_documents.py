"""The documents beside the data: codebook (JSON, HTML), disclosure report (JSON, HTML), manifest.

The disclosure report draws the class sizes and the re-identification risk before and after
anonymisation as inline SVG. The manifest lists the SHA-256 of every file in `sha256sum` format,
so `sha256sum -c MANIFEST.sha256` checks a delivery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from iplos.delivery._release import Release
from iplos.delivery._svg import bar_chart

MANIFEST = "MANIFEST.sha256"
SIZE_BINS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))
_STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}"
)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="nb"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


# ----- codebook -----------------------------------------------------------------------------------
def _variables(release: Release) -> list[dict[str, Any]]:
    variables = []
    for info in release.columns:
        entry = info.to_dict()
        col = release.data[info.name]
        entry["missing"] = int(col.isna().sum())
        entry["distinct"] = int(col.nunique(dropna=True))
        variables.append(entry)
    return variables


#: What one row of each delivered table is, in bokmål and English.
ROWS: dict[str, tuple[str, str]] = {
    "person_year": (
        "én rad per person og årgang i populasjonen",
        "one row per person and årgang of the population",
    ),
    "service_spells": (
        "én rad per tjenesteperiode (vedtak) som overlapper årgangene",
        "one row per service period (vedtak) overlapping the årganger",
    ),
    "diagnoses": ("én rad per diagnose registrert i IPLOS", "one row per diagnosis recorded in IPLOS"),
    "npr_episodes": ("én rad per episode i NPR i årgangene", "one row per NPR episode in the årganger"),
    "cause_of_death": (
        "én rad per dødsfall (Dødsårsaksregisteret)",
        "one row per death (cause of death register)",
    ),
}


def codebook(
    release: Release,
    tables: Sequence[Release] = (),
    population: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Every delivered table and variable: labels, code list, origin, generalization; the key of each
    table, how the tables join, and the population in words (nb and en)."""
    entries = []
    for part in (release, *tables):
        key = ["lopenr", "aargang"] if part is release else ["lopenr"]
        nb, en = ROWS.get(part.table, ("", ""))
        entries.append(
            {
                "table": part.table,
                "files": [f"{part.stem}.{fmt}" for fmt in ("parquet", "csv", "dta", "sav")],
                "key": key,
                "unique_key": part is release,
                "rows_nb": nb,
                "rows_en": en,
                "records": len(part.data),
                "persons": int(part.data["lopenr"].nunique()),
                "variables": _variables(part),
            }
        )
    join_nb = (
        "Alle tabeller har samme løpenummer (lopenr) for samme person i denne leveransen: koble på lopenr "
        f"({release.table} har én rad per lopenr og aargang; de andre tabellene kan ha flere rader per lopenr)."
    )
    join_en = (
        "Every table carries the same serial number (lopenr) for the same person in this delivery: join on "
        f"lopenr ({release.table} has one row per lopenr and aargang; the other tables may have several rows "
        "per lopenr)."
    )
    return {
        "case": release.case_id,
        "delivery": release.delivery_id,
        "records": len(release.data),
        "persons": int(release.data["lopenr"].nunique()),
        "variables": entries[0]["variables"],
        "tables": entries,
        "join": {"nb": join_nb, "en": join_en},
        "population": {lang: list(lines) for lang, lines in (population or {}).items()},
        "protection": protection(release, several=bool(tables)),
    }


def protection(release: Release, several: bool) -> dict[str, Any]:
    """The criteria and the attacker model the delivery is protected under, in words (nb and en)."""
    m = release.items_known if several else None
    if m is None:
        nb = (
            f"Hver person deler alle sine rader (alle årganger og tabeller) med minst {release.criteria.k - 1} "
            "andre personer."
        )
        en = (
            f"Every person shares all their rows (every årgang and table) with at least "
            f"{release.criteria.k - 1} other persons."
        )
    else:
        nb = (
            f"(k, k^m)-anonymitet med k = {release.criteria.k}, m = {m}: for en persons hele forløp i "
            f"person-år-tabellen og hvilke som helst {m} av personens rader i de andre tabellene finnes "
            f"minst {release.criteria.k} personer med det samme."
        )
        en = (
            f"(k, k^m)-anonymity with k = {release.criteria.k}, m = {m}: a person's whole person-year "
            f"trajectory together with any {m} of their rows in the other tables is shared by at least "
            f"{release.criteria.k} persons."
        )
    return {"criteria": release.criteria.to_dict(), "items_known": m, "nb": nb, "en": en}


def _variables_html(variables: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for v in variables:
        codes = "".join(
            f"<li><code>{escape(str(code))}</code> {escape(label)}</li>"
            for code, label in v["value_labels"].items()
        )
        rows.append(
            "<tr>"
            f"<td><code>{escape(v['name'])}</code></td><td>{escape(v['label'])}</td><td>{escape(v['type'])}</td>"
            f"<td>{escape(v['role'])}</td><td>{escape(v['source'])}<br><small>{escape(v['derivation'])}</small></td>"
            f"<td>{escape(v['generalization'] or '')}</td><td class='num'>{v['missing']}</td>"
            f"<td>{'<ul>' + codes + '</ul>' if codes else ''}</td></tr>"
        )
    return (
        "<table><tr><th>variable</th><th>label</th><th>type</th><th>role</th><th>source</th>"
        "<th>generalization</th><th>missing</th><th>code list</th></tr>" + "".join(rows) + "</table>"
    )


def codebook_html(book: Mapping[str, Any]) -> str:
    tables = book.get("tables") or [
        {
            "table": "extract",
            "files": [],
            "key": ["lopenr"],
            "rows_nb": "",
            "rows_en": "",
            "records": book["records"],
            "persons": book["persons"],
            "variables": book["variables"],
        }
    ]
    population = book.get("population") or {}
    words = "".join(
        f"<p><strong>{escape(lang)}:</strong> {escape('; '.join(lines))}</p>"
        for lang, lines in population.items()
    )
    parts = [
        f"<p>Case {escape(book['case'])}, delivery {escape(book['delivery'])}: {book['records']} records, "
        f"{book['persons']} persons. <code>lopenr</code> is a serial number for this delivery only.</p>",
        f"<h2>Populasjon / population</h2>{words}" if words else "",
    ]
    if "protection" in book:
        prot = book["protection"]
        parts.append(f"<h2>Vern / protection</h2><p>{escape(prot['nb'])}</p><p>{escape(prot['en'])}</p>")
    if "join" in book:
        parts.append(f"<p>{escape(book['join']['nb'])}</p><p>{escape(book['join']['en'])}</p>")
    for t in tables:
        parts.append(
            f"<h2><code>{escape(t['table'])}</code></h2><p>{escape(', '.join(t['files']))}. "
            f"Key / nøkkel: <code>{escape(', '.join(t['key']))}</code>; {escape(t['rows_nb'])} / "
            f"{escape(t['rows_en'])}; {t['records']} records, {t['persons']} persons.</p>"
            + _variables_html(t["variables"])
        )
    return _page(f"Codebook - {book['case']} / {book['delivery']}", "".join(parts))


# ----- disclosure report --------------------------------------------------------------------------
def size_histogram(sizes: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    """Classes and records per class-size band (1, 2, 3-4, 5-9, ...)."""
    out = []
    for lo, hi in SIZE_BINS:
        mask = (sizes >= lo) & (sizes <= (hi if hi is not None else np.iinfo(np.int64).max))
        label = str(lo) if hi == lo else f"{lo}+" if hi is None else f"{lo}-{hi}"
        out.append({"size": label, "classes": int(mask.sum()), "records": int(sizes[mask].sum())})
    return out


def disclosure_html(report: Mapping[str, Any]) -> str:
    before, after = report["class_sizes_before"], report["class_sizes_after"]
    labels = [b["size"] for b in before]
    chart_sizes = bar_chart(
        "Records by size of their equivalence class",
        labels,
        [("before", [b["records"] for b in before]), ("after", [a["records"] for a in after])],
        y_label="records",
    )
    risk_rows = "".join(
        f"<tr><td>{escape(name)}</td><td class='num'>{_num(report['risk_before'].get(name))}</td>"
        f"<td class='num'>{_num(report['risk_after'].get(name))}</td></tr>"
        for name in report["risk_before"]
    )
    risk_names = [n for n in ("highest", "average", "share_at_risk") if n in report["risk_before"]]
    chart_risk = bar_chart(
        "Prosecutor re-identification risk",
        risk_names,
        [
            ("before", [float(report["risk_before"][n] or 0) for n in risk_names]),
            ("after", [float(report["risk_after"].get(n) or 0) for n in risk_names]),
        ],
        y_label="risk",
    )
    qi_rows = "".join(
        f"<tr><td><code>{escape(q['column'])}</code></td><td>{escape(q['hierarchy'])}</td>"
        f"<td>{escape(q['level_name'])} ({q['level']})</td><td>{q['min_level']}</td></tr>"
        for q in report["quasi_identifiers"]
    )
    rounds = "".join(
        f"<li>{escape(r['by'])}: {escape(json.dumps(r['levels'], ensure_ascii=False))} {escape(r.get('note', ''))}</li>"
        for r in report.get("rounds", [])
    )
    drivers = _drivers_html(report.get("assessment_before"), report.get("assessment_after"))
    views = _views_html(report.get("risk_views"), report.get("attacker"))
    views += _alternatives_html(report.get("alternatives"), str(report.get("alternatives_metric", "loss")))
    unit = report.get("unit", "record")
    c = report["criteria"]
    l_text = "" if c["l"] is None else f", l = {c['l']}"
    gate = report.get("gate", {})
    smallest = ""
    enforced = [m for m in gate.get("measures", []) if m.get("enforced", True)]
    if enforced:
        smallest = ": smallest class " + str(min(m["smallest_class"] for m in enforced))
    body = (
        f"<p>Case {escape(report['case'])}, delivery {escape(report['delivery'])}.</p>"
        f"<h2>Criteria</h2><p>k = {c['k']}{l_text}, at most "
        f"{c['max_suppressed']:.1%} of the records suppressed.</p>"
        f"<h2>Generalization</h2><table><tr><th>quasi-identifier</th><th>hierarchy</th><th>level</th>"
        f"<th>required at least</th></tr>{qi_rows}</table>"
        f"<p>Sensitive: {escape(', '.join(report['sensitive']) or 'none')}.</p>"
        f"<h2>Suppression</h2><p>{report['suppressed']} of {report['records_before']} records suppressed "
        f"({report['suppressed_share']:.2%}); {report['records_after']} delivered.</p>"
        f"<h2>Risk</h2><p>Classes counted in {escape(str(unit))}s.</p>"
        f"<table><tr><th>measure</th><th>before</th><th>after</th></tr>{risk_rows}</table>"
        f"{chart_risk}{views}<h2>Class sizes</h2>{chart_sizes}{drivers}"
        f"{_across_html(report)}<h2>Agreement</h2><ol>{rounds}</ol>"
        f"<h2>Release gate</h2><p>{'passed' if gate.get('passed') else 'not run'}{smallest}</p>"
    )
    return _page(f"Disclosure report - {report['case']} / {report['delivery']}", body)


def _across_html(report: Mapping[str, Any]) -> str:
    """The enforced model across the tables and, beside it, the full-knowledge figures."""
    measures = [
        m for m in report.get("gate", {}).get("measures", []) if str(m["file"]).startswith("all tables")
    ]
    if not measures:
        return ""
    attacker = report.get("attacker", {})
    rows = "".join(
        f"<tr><td>{escape(str(m['file']))}</td><td>{'enforced' if m.get('enforced', True) else 'shown, not enforced'}"
        f"</td><td class='num'>{m['persons']}</td><td class='num'>{m['smallest_class']}</td>"
        f"<td class='num'>{_num(m.get('uniques'))}</td><td class='num'>{_num(m.get('expected_reidentification'))}</td></tr>"
        for m in measures
        if ".parquet" in str(m["file"])  # the other formats hold the same values (the gate compares them)
    )
    return (
        f"<h2>Protection across the tables</h2><p>Enforced model: k = {report['criteria']['k']}, "
        f"m = {escape(str(attacker.get('items_known', 'all')))} ({escape(str(attacker.get('model', '')))}). "
        "Full knowledge (an attacker who knows every row of every table of a person) is shown beside "
        "it: persons unique under the whole multiset of their rows and the expected re-identification "
        "(classes / persons) of such an attacker.</p><table><tr><th>count (Parquet)</th><th>status</th>"
        "<th>persons</th><th>smallest class / key</th><th>unique (persons; keys for k^m)</th>"
        f"<th>expected re-identification</th></tr>{rows}</table>"
    )


def _alternatives_html(alternatives: Sequence[Mapping[str, Any]] | None, metric: str) -> str:
    """The other plans the search found that also meet the criteria, with risk, loss and suppression."""
    if not alternatives:
        return ""
    rows = "".join(
        f"<tr><td>{escape(', '.join(f'{q}={v}' for q, v in a['levels'].items()))}</td>"
        f"<td class='num'>{a.get('suppressed_persons', '')}</td><td class='num'>{a.get('suppressed', '')}</td>"
        f"<td class='num'>{_num(a.get('highest_risk'))}</td><td class='num'>{_num(a.get(metric))}</td></tr>"
        for a in alternatives
    )
    return (
        "<h2>Alternatives that also meet the criteria</h2><table><tr><th>levels</th><th>suppressed persons</th>"
        f"<th>suppressed records</th><th>highest risk</th><th>{escape(metric)}</th></tr>{rows}</table>"
    )


def _views_html(views: Mapping[str, Any] | None, attacker: Mapping[str, Any] | None) -> str:
    """The attacker model and the risk per view (record, person, acquaintance), before and after."""
    if not views:
        return ""
    knows = ", ".join(views.get("attacker_knows", []))
    acq = ", ".join(f"{c} ({k})" for c, k in views.get("acquaintance_knows", {}).items()) or "none delivered"
    model = escape(str((attacker or {}).get("model", "")))
    rows = ""
    labels = {
        "record": "record level (each row alone)",
        "person": "person level, full knowledge (a person's rows in every year and table together)",
        "acquaintance": "acquaintance (person level plus one year's values)",
    }
    for view, label in labels.items():
        b = views.get("before", {}).get(view)
        a = views.get("after", {}).get(view)
        if not b and not a:
            continue
        b, a = b or {}, a or {}
        rows += (
            f"<tr><td>{escape(label)}</td>"
            f"<td class='num'>{_num(b.get('highest'))}</td><td class='num'>{_num(a.get('highest'))}</td>"
            f"<td class='num'>{_num(b.get('average'))}</td><td class='num'>{_num(a.get('average'))}</td>"
            f"<td class='num'>{b.get('uniques', '')}</td><td class='num'>{a.get('uniques', '')}</td></tr>"
        )
    return (
        f"<h2>Attacker model</h2><p>The attacker knows: <code>{escape(knows)}</code> ({model}). "
        f"An acquaintance also knows, for one year: {escape(acq)}.</p>"
        "<table><tr><th>view</th><th>highest before</th><th>highest after</th><th>average before</th>"
        f"<th>average after</th><th>unique before</th><th>unique after</th></tr>{rows}</table>"
    )


def _drivers_html(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """Attacker models and what drives the risk (SUDA), before and after, when assessed."""
    if not before:
        return ""
    after = after or {}
    models = "".join(
        f"<tr><td>{name}</td><td class='num'>{_num(before.get(name, {}).get('average'))}</td>"
        f"<td class='num'>{_num(after.get(name, {}).get('average'))}</td></tr>"
        for name in ("prosecutor", "journalist")
    )
    models += (
        f"<tr><td>marketer</td><td class='num'>{_num(before.get('marketer'))}</td>"
        f"<td class='num'>{_num(after.get('marketer'))}</td></tr>"
        f"<tr><td>sample uniques</td><td class='num'>{before.get('sample_uniques')}</td>"
        f"<td class='num'>{after.get('sample_uniques', '')}</td></tr>"
    )
    out = (
        "<h2>Record-level attacker models (average record risk; the person-level figures above are higher)</h2><table><tr><th>model</th><th>before</th>"
        f"<th>after</th></tr>{models}</table>"
    )
    suda_before = before.get("suda")
    if suda_before:
        names = list(suda_before["contribution"])
        after_contrib = (after.get("suda") or {}).get("contribution", {})
        out += bar_chart(
            "What drives the risk: each variable's SUDA contribution",
            names,
            [
                ("before", [float(suda_before["contribution"][n]) for n in names]),
                ("after", [float(after_contrib.get(n, 0.0)) for n in names]),
            ],
            y_label="contribution",
        )
        rows = "".join(
            f"<tr><td>{escape(c['variables'])}</td><td class='num'>{c['msus']}</td></tr>"
            for c in suda_before["top_unique_combinations"]
        )
        out += (
            "<p>Combinations of quasi-identifiers that make records unique before anonymisation "
            "(minimal sample uniques):</p><table><tr><th>variables</th><th>unique combinations</th></tr>"
            f"{rows}</table>"
        )
    return out


def _num(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return escape(str(value))


def risk_from_sizes(sizes: Sequence[int] | npt.NDArray[np.int64], k: int) -> dict[str, float | int]:
    """Prosecutor risk from class sizes (in persons): highest, average per record, share above 1/k."""
    arr = np.asarray(sizes, dtype=np.int64)
    records = int(arr.sum())
    if records == 0:
        return {
            "classes": 0,
            "records": 0,
            "highest": 0.0,
            "average": 0.0,
            "share_at_risk": 0.0,
            "uniques": 0,
        }
    return {
        "classes": int(arr.size),
        "records": records,
        "smallest_class": int(arr.min()),
        "uniques": int((arr == 1).sum()),
        "highest": float(1.0 / arr.min()),
        "average": float(arr.size / records),
        "share_at_risk": float(arr[arr < k].sum() / records),
    }


# ----- manifest -----------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> dict[str, str]:
    """Write MANIFEST.sha256 over every other file; returns name -> hash."""
    hashes = {
        p.relative_to(folder).as_posix(): sha256_of(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    text = "".join(f"{h}  {name}\n" for name, h in hashes.items())
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    return hashes


def write_json(path: Path, data: Any) -> None:
    path.write_text(_json(data), encoding="utf-8")
