"""Carry out a plan on an extract: generalise every quasi-identifier, then suppress whole persons.

Why whole persons: a person is judged by their signature over every year and table, so a person whose
class fails is at risk through all of their rows together. Removing only the failing rows would
change their signature (fewer years present) into one the search never judged; blanking one year
would leave the other years to single them out. Suppression therefore removes every row of the
person (`mode="remove"`, the delivery's default), or keeps the rows with every quasi-identifier
blanked to '*' (`mode="blank"`, what `iplos anonymise` writes, so the file keeps its row count).
A user who would rather keep more of the data can allow coarser levels (`max_levels`), choose a
lower suppression budget so the search generalises more, or use record-level criteria (`unit
"record"`), which protect rows but not persons across years.

Everything is vectorised over Arrow columns: values are dictionary-encoded and each distinct value
is looked up once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iplos.catalog import Hierarchy
from iplos.errors import IplosError
from iplos.release._signatures import MISSING, leaf_codes
from iplos.sdc import encode_hierarchy

Mode = Literal["remove", "blank"]
STAR = "*"


def generalised_column(column: pa.ChunkedArray, hierarchy: Hierarchy, level: int, name: str) -> pa.Array:
    """The column's values at `level` of its hierarchy, as text (missing stays missing)."""
    h = encode_hierarchy(hierarchy)
    if not 0 <= level < h.height:
        raise IplosError(f"{name}: hierarchy {hierarchy.name!r} has levels 0..{h.height - 1}, not {level}")
    codes = h.leaf_codes[level][leaf_codes(column, hierarchy, name)]
    labels = list(h.labels[level])
    present = [lab if lab != MISSING else None for lab in labels]
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(present, pa.string())
    ).cast(pa.string())


def apply_plan(
    source: pa.Table,
    levels: Mapping[str, int],
    hierarchies: Mapping[str, Hierarchy],
    suppressed: npt.NDArray[Any] | Sequence[Any],
    *,
    person_key: str | None,
    mode: Mode = "remove",
    keep_level_zero: bool = True,
) -> pa.Table:
    """The extract generalised to `levels`, with the persons (keys; row numbers without a key) suppressed.

    With `keep_level_zero`, a quasi-identifier at level 0 keeps its column (and type) unchanged.
    """
    n = source.num_rows
    if person_key is None:
        rows = np.asarray(suppressed, dtype=np.int64)
        out_mask = np.zeros(n, dtype=np.bool_)
        out_mask[rows] = True
        mask = pa.array(out_mask)
    else:
        values = (
            pa.array(np.asarray(suppressed))
            if len(suppressed)
            else pa.array([], source.schema.field(person_key).type)
        )
        mask = pc.is_in(
            source.column(person_key), value_set=values.cast(source.schema.field(person_key).type)
        )
    table = source
    for name, level in levels.items():
        if keep_level_zero and level == 0 and mode == "remove":
            continue
        column = generalised_column(table.column(name), hierarchies[name], int(level), name)
        if mode == "blank":
            column = pc.if_else(mask, pa.scalar(STAR, pa.string()), column)
        table = table.set_column(table.schema.get_field_index(name), name, column)
    if mode == "remove":
        table = table.filter(pc.invert(mask))
    return table
