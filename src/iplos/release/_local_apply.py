"""Local recoding and local suppression in the release path: run them for a plan, write the extract.

`local_release` runs `_local.person_local_recoding` with the levels the plan allows: every level
between the bounds (method "local_recoding"), or the global levels and '*' (local suppression).
When every signature is a single row (record-level criteria), persons and records coincide and the
local recoding is `iplos.sdc.local_recoding` on the records' frequency table, the same Mondrian
partitioning written for rows (faster than the signature version); its classes are the same.
`apply_local` writes the extract: every row of a person at their class's levels (so one column holds
values of different levels, as text), the suppressed persons removed or blanked to '*' everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iplos.catalog import Hierarchy
from iplos.errors import IplosError
from iplos.release._apply import STAR, Mode
from iplos.release._local import LocalRelease, person_local_recoding
from iplos.release._person import PersonTable
from iplos.release._plan import Plan
from iplos.release._search import check_pairs
from iplos.release._signatures import MISSING, leaf_codes
from iplos.sdc import EncodedHierarchy, FrequencyTable, Loss, SearchConfig, encode_hierarchy, local_recoding


def local_release(
    table: PersonTable,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    base_levels: Sequence[int] | None = None,
) -> LocalRelease:
    """The plan's local recoding (or, with `local_suppression`, local suppression on `base_levels`,
    default the plan's levels) of the persons of `table`."""
    encoded = [encode_hierarchy(hierarchies[q]) for q in plan.columns]
    checks = check_pairs(plan.sdc_criteria(), table.sensitive)
    allowed: list[list[int]] = []
    if plan.method == "local_recoding" and table.n_signatures and bool((table.lengths == 1).all()):
        return _record_recoding(table, plan, hierarchies, encoded)
    if plan.method == "local_recoding":
        for q, h in zip(plan.quasi_identifiers, encoded, strict=True):
            top = h.height - 1 if q.max_level is None else q.max_level
            if not 0 <= q.min_level <= top <= h.height - 1:
                raise IplosError(f"plan: {q.column} has levels 0..{h.height - 1}, not {q.min_level}..{top}")
            allowed.append(list(range(q.min_level, top + 1)))
        method = "local_recoding"
    elif plan.local_suppression:
        base = plan.level_tuple() if base_levels is None else tuple(base_levels)
        for q, h, level in zip(plan.quasi_identifiers, encoded, base, strict=True):
            if not 0 <= level < h.height:
                raise IplosError(f"plan: {q.column} has levels 0..{h.height - 1}, not {level}")
            allowed.append([level, h.height - 1])
        method = "local_suppression"
    else:
        raise IplosError("the plan asks for one level per quasi-identifier, not a local method")
    return person_local_recoding(table, encoded, checks, plan.criteria.max_suppressed, allowed, method=method)


def _record_recoding(
    table: PersonTable,
    plan: Plan,
    hierarchies: Mapping[str, Hierarchy],
    encoded: Sequence[EncodedHierarchy],
) -> LocalRelease:
    """Local recoding of a table whose signatures are single rows, by `iplos.sdc.local_recoding`."""
    element = table.elements[table.offsets[:-1]]  # each signature's one element
    rows_el = element[table.detail_signature]
    if not np.array_equal(rows_el, table.detail_element):
        raise IplosError("the signatures' details do not match their elements")  # an internal error
    freq = FrequencyTable(
        quasi_identifiers=plan.columns,
        codes=tuple(codes[table.detail_element] for codes in table.element_codes),
        counts=table.detail_count,
        sensitive=table.sensitive,
        sensitive_codes=table.detail_sensitive,
        sensitive_labels=table.sensitive_labels,
    )
    config = SearchConfig(
        criteria=plan.sdc_criteria(),
        max_suppressed=plan.criteria.max_suppressed,
        utility=Loss(),
        min_levels={q.column: q.min_level for q in plan.quasi_identifiers},
        max_levels={q.column: q.max_level for q in plan.quasi_identifiers if q.max_level is not None},
    )
    result = local_recoding(freq, hierarchies, config)
    n_sig, q = table.n_signatures, len(plan.columns)
    sig_levels = np.zeros((n_sig, q), dtype=np.int64)
    for j, levels in enumerate(result.levels):
        sig_levels[table.detail_signature, j] = levels  # a signature's details share one partition
    suppressed = np.zeros(n_sig, dtype=np.bool_)
    suppressed[table.detail_signature[result.suppressed_rows]] = True
    d_supp = suppressed[table.detail_signature]
    blanked: dict[str, int] = {}
    for j, (name, h) in enumerate(zip(plan.columns, encoded, strict=True)):
        top = h.height - 1
        star = h.labels[top] == ("*",)
        base_blank = plan.quasi_identifiers[j].min_level == top and star
        now = d_supp | ((result.levels[j] == top) & star)
        blanked[name] = 0 if base_blank else int(table.detail_count[now].sum())
    return LocalRelease(
        method="local_recoding",
        quasi_identifiers=plan.columns,
        base_levels=tuple(q.min_level for q in plan.quasi_identifiers),
        signature_levels=sig_levels,
        suppressed_signatures=suppressed,
        n_persons=table.n_persons,
        n_records=table.n_records,
        suppressed_persons=int(table.persons[suppressed].sum()),
        suppressed_records=int(table.detail_count[d_supp].sum()),
        class_sizes=result.released_class_sizes,
        loss=result.loss,
        loss_by_attribute=result.loss_by_attribute,
        cells_blanked=sum(blanked.values()),
        cells_blanked_by_attribute=blanked,
        partitions=result.partitions,
        rounds=result.rounds,
        seconds=result.seconds,
    )


def signature_of_rows(source: pa.Table, table: PersonTable, person_key: str | None) -> np.ndarray:
    """The signature (index into `table`) of every row of `source`."""
    assert table.person_keys is not None and table.person_signature is not None
    if person_key is None:
        out = np.full(source.num_rows, -1, dtype=np.int64)
        out[np.asarray(table.person_keys, dtype=np.int64)] = table.person_signature
    else:
        keys = source.column(person_key)
        values = pa.array(table.person_keys).cast(keys.type)
        index = pc.index_in(keys, value_set=values).to_numpy(zero_copy_only=False)
        if np.isnan(index.astype(np.float64)).any():
            raise IplosError(f"the extract has persons ({person_key}) its signatures were not computed on")
        out = table.person_signature[index.astype(np.int64)]
    if (out < 0).any():
        raise IplosError("the extract has rows its signatures were not computed on")
    return np.asarray(out, dtype=np.int64)


def mixed_level_column(
    column: pa.ChunkedArray, hierarchy: Hierarchy, levels: np.ndarray, name: str
) -> pa.Array:
    """Each value at its own row's level, as text (labels equal as text are one value)."""
    h = encode_hierarchy(hierarchy)
    leaf = leaf_codes(column, hierarchy, name)
    ids: dict[str, int] = {}
    lut = np.array([ids.setdefault(v, len(ids)) for names in h.labels for v in names], dtype=np.int64)
    offsets = np.cumsum([0] + [h.cardinality(lv) for lv in range(h.height)]).astype(np.int64)
    table = np.stack([h.leaf_codes[lv] for lv in range(h.height)])
    codes = table[levels, leaf]
    label = lut[offsets[levels] + codes]
    texts = [v if v != MISSING else None for v in ids]
    return pa.DictionaryArray.from_arrays(
        pa.array(label.astype(np.int32)), pa.array(texts, pa.string())
    ).cast(pa.string())


def apply_local(
    source: pa.Table,
    local: LocalRelease,
    table: PersonTable,
    hierarchies: Mapping[str, Hierarchy],
    *,
    person_key: str | None,
    mode: Mode = "remove",
) -> pa.Table:
    """The extract as the local release has it (see module doc)."""
    sig = signature_of_rows(source, table, person_key)
    suppressed = local.suppressed_signatures[sig]
    mask = pa.array(suppressed)
    out = source
    for j, name in enumerate(local.quasi_identifiers):
        column = mixed_level_column(out.column(name), hierarchies[name], local.signature_levels[sig, j], name)
        if mode == "blank":
            column = pc.if_else(mask, pa.scalar(STAR, pa.string()), column)
        out = out.set_column(out.schema.get_field_index(name), name, column)
    if mode == "remove":
        out = out.filter(pc.invert(mask))
    return out
