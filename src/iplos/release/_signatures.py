"""The table of distinct person signatures, computed in the engine (DuckDB, or Spark when configured).

Three GROUP BYs, all in the engine, none row by row in Python:
1. elements: each distinct row of quasi-identifier values gets an id (a dense rank over them);
2. persons: each person's sorted list of element ids (their signature), and a dense rank over the
   lists, so equal signatures share an id; grouped again, persons per signature;
3. detail: records per (signature, element, sensitive values).
Only these grouped tables leave the engine, as Arrow; values become hierarchy leaves per distinct
value (`leaf_text`), and codes by Arrow dictionary encoding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iplos.catalog import Hierarchy
from iplos.engine import Engine
from iplos.errors import IplosError, Problem
from iplos.release._person import PersonTable

IntArray = npt.NDArray[np.int64]
MISSING = ""
_ROW = "_iplos_row"


def leaf_text(value: object) -> str:
    """A value as its hierarchy leaf: integers without '.0', dates ISO, missing as ''."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        if value != value:  # NaN
            return MISSING
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()[:10]
    text = str(value)
    return MISSING if text in ("<NA>", "NaT", "nan") else text


def sort_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Numbers in numeric order when all are numbers, else text order (as `iplos.sdc` orders them)."""
    items = list(dict.fromkeys(labels))
    try:
        return tuple(sorted(items, key=float))
    except ValueError:
        return tuple(sorted(items))


def dictionary(column: pa.ChunkedArray | pa.Array) -> tuple[IntArray, list[str]]:
    """Codes into the distinct values (as leaf text) of an Arrow column; equal texts share a code."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks() if encoded.num_chunks != 1 else encoded.chunk(0)
    texts = [leaf_text(v) for v in encoded.dictionary.to_pylist()]
    indices = encoded.indices.fill_null(len(texts)).to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = sorted(set(texts) | ({MISSING} if encoded.indices.null_count else set()))
    position = {t: i for i, t in enumerate(distinct)}
    lut = np.array([position[t] for t in texts] + [position.get(MISSING, 0)], dtype=np.int64)
    return lut[indices], distinct


def leaf_codes(column: pa.ChunkedArray | pa.Array, hierarchy: Hierarchy, name: str) -> IntArray:
    """Leaf index of each value; values outside the hierarchy are an error naming column and values."""
    codes, texts = dictionary(column)
    lut = np.empty(len(texts), dtype=np.int64)
    unknown = []
    for i, text in enumerate(texts):
        index = hierarchy.leaf_index(text)
        if index is None:
            unknown.append(text)
            lut[i] = -1
        else:
            lut[i] = index
    if unknown:
        raise IplosError(
            f"column {name!r}: {len(unknown)} value(s) not in hierarchy {hierarchy.name!r}",
            [Problem("value not in the hierarchy", column=name, value=v[:12]) for v in unknown[:10]],
        )
    return lut[codes]


def _as_ibis(source: ir.Table | pa.Table) -> ir.Table:
    return ibis.memtable(source) if isinstance(source, pa.Table) else source


def person_table(
    engine: Engine,
    source: ir.Table | pa.Table,
    quasi_identifiers: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    sensitive: Sequence[str] = (),
    person_key: str | None = "lopenr",
) -> PersonTable:
    """The distinct person signatures of `source` (see module doc); without a key, a row is a person."""
    qis = list(quasi_identifiers)
    sens = list(sensitive)
    key = person_key
    if key is None:
        if not isinstance(source, pa.Table):
            raise IplosError("an extract without a person key must be given as an Arrow table")
        key = _ROW
        source = source.append_column(_ROW, pa.array(np.arange(source.num_rows, dtype=np.int64)))
    t = _as_ibis(source)
    missing = [c for c in [*qis, *sens, *([person_key] if person_key else [])] if c not in t.columns]
    if missing:
        raise IplosError(f"column(s) not in the extract: {', '.join(map(repr, missing))}")
    if not qis:
        raise IplosError("a person signature needs at least one quasi-identifier")
    t = t.select(key, *qis, *sens)
    t = t.mutate(_el=ibis.dense_rank().over(order_by=[t[q] for q in qis]))
    elements = engine.to_arrow(t.select("_el", *qis).distinct().order_by("_el"))
    persons = t.group_by(key).aggregate(_sig=t["_el"].collect().sort())
    persons = persons.mutate(_sid=ibis.dense_rank().over(order_by=persons["_sig"]))
    sigs = persons.group_by("_sid").aggregate(_n=persons.count(), _sig=persons["_sig"].arbitrary())
    signatures = engine.to_arrow(sigs.order_by("_sid"))
    keyed = engine.to_arrow(persons.select(key, "_sid"))
    joined = t.join(persons.select(key, "_sid"), key)
    detail = engine.to_arrow(
        joined.group_by(["_sid", "_el", *sens]).aggregate(_n=joined.count()).order_by(["_sid", "_el"])
    )

    el_ids = elements.column("_el").to_numpy().astype(np.int64)
    if el_ids.size and not np.array_equal(el_ids, np.arange(el_ids.size)):
        raise IplosError("the engine's element ranks are not dense")  # a backend difference, not bad data
    element_codes = tuple(leaf_codes(elements.column(q), hierarchies[q], q) for q in qis)
    sig_ids = signatures.column("_sid").to_numpy().astype(np.int64)
    if sig_ids.size and not np.array_equal(sig_ids, np.arange(sig_ids.size)):
        raise IplosError("the engine's signature ranks are not dense")
    lists = signatures.column("_sig").combine_chunks()
    offsets = lists.offsets.to_numpy().astype(np.int64)
    offsets = offsets - offsets[0]
    values = lists.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
    s_codes: list[IntArray] = []
    s_labels: list[tuple[str, ...]] = []
    for s in sens:
        codes, texts = dictionary(detail.column(s))
        labels = sort_labels(texts)
        position = {lab: i for i, lab in enumerate(labels)}
        s_codes.append(np.array([position[x] for x in texts], dtype=np.int64)[codes] if texts else codes)
        s_labels.append(labels)
    return PersonTable(
        quasi_identifiers=tuple(qis),
        element_codes=element_codes,
        offsets=offsets,
        elements=values,  # Ibis ranks start at 0
        persons=signatures.column("_n").to_numpy().astype(np.int64),
        detail_signature=detail.column("_sid").to_numpy().astype(np.int64),
        detail_element=detail.column("_el").to_numpy().astype(np.int64),
        detail_count=detail.column("_n").to_numpy().astype(np.int64),
        sensitive=tuple(sens),
        detail_sensitive=tuple(s_codes),
        sensitive_labels=tuple(s_labels),
        person_keys=keyed.column(key).to_numpy(zero_copy_only=False),
        person_signature=keyed.column("_sid").to_numpy().astype(np.int64),
    )
