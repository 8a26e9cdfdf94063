"""The delivered data files: Parquet, CSV, Stata (.dta) and SPSS (.sav), with labels where they fit.

- Parquet keeps Arrow types; each field's metadata holds its label and value labels (JSON).
- CSV is UTF-8 with a header row, ',' between fields, empty for missing.
- Stata 15 (.dta, UTF-8) and SPSS (.sav) carry variable labels and value labels (pyreadstat);
  Stata allows value labels on numeric columns only, so coded strings keep theirs in SPSS, Parquet
  and the codebook. A numeric grouping (age groups '65-69', '70-74', ...) is written there as
  labelled numbers (each group's lower bound, labelled with the group), not as strings. Missing
  numbers are system missing; missing strings are empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from iplos.delivery._release import ColumnInfo, Release
from iplos.errors import IplosError

STEM = "extract"
FORMATS = ("parquet", "csv", "dta", "sav")
_LABEL_MAX = 80  # Stata's limit for variable and value labels


def file_name(fmt: str, stem: str = STEM) -> str:
    return f"{stem}.{fmt}"


def _numeric_labels(info: ColumnInfo) -> dict[float, str]:
    if info.group_codes:
        return {float(code): text[:_LABEL_MAX] for text, code in info.group_codes.items()}
    out: dict[float, str] = {}
    for code, label in info.value_labels.items():
        try:
            out[float(code)] = label[:_LABEL_MAX]
        except ValueError:
            return {}
    return out


def _stat_frame(release: Release) -> pd.DataFrame:
    """A frame pyreadstat can write: integers with gaps as floats, strings without missing values."""
    frame = pd.DataFrame(index=release.data.index)
    for info in release.columns:
        col = release.data[info.name]
        if info.group_codes:  # a numeric grouping: its lower bound, labelled with the group
            frame[info.name] = col.map(dict(info.group_codes)).astype("float64")
        elif info.kind in ("integer", "float"):
            frame[info.name] = (
                col.astype("float64") if col.isna().any() or info.kind == "float" else col.astype("int64")
            )
        elif info.kind == "string":
            frame[info.name] = col.astype("object").where(col.notna(), "").astype(str)
        else:
            frame[info.name] = col.astype("object").where(col.notna(), None)
    return frame.reset_index(drop=True)


def write_parquet(release: Release, path: Path) -> None:
    table = pa.Table.from_pandas(release.data, preserve_index=False)
    fields = []
    for f in table.schema:
        info = release.column(f.name)
        meta = {"label": info.label, "value_labels": json.dumps(dict(info.value_labels), ensure_ascii=False)}
        fields.append(f.with_metadata({k: v.encode("utf-8") for k, v in meta.items()}))
    table = table.cast(pa.schema(fields, metadata={"case": release.case_id, "delivery": release.delivery_id}))
    pq.write_table(table, path, compression="zstd")


def write_csv(release: Release, path: Path) -> None:
    release.data.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_dta(release: Release, path: Path) -> None:
    frame = _stat_frame(release)
    labels = {
        i.name: _numeric_labels(i)
        for i in release.columns
        if (i.kind == "integer" or i.group_codes) and _numeric_labels(i)
    }
    pyreadstat.write_dta(
        frame,
        str(path),
        column_labels=[i.label[:_LABEL_MAX] for i in release.columns],
        variable_value_labels=labels,
        version=15,
    )


def write_sav(release: Release, path: Path) -> None:
    frame = _stat_frame(release)
    # SPSS takes value labels on strings too; pyreadstat's annotation only names numbers.
    labels: dict[str, Any] = {}
    for info in release.columns:
        if info.group_codes:
            labels[info.name] = _numeric_labels(info)
            continue
        if not info.value_labels:
            continue
        if info.kind == "integer":
            numeric = _numeric_labels(info)
            if numeric:
                labels[info.name] = numeric
        elif info.kind == "string":
            labels[info.name] = {code: label for code, label in info.value_labels.items()}
    pyreadstat.write_sav(
        frame, str(path), column_labels=[i.label for i in release.columns], variable_value_labels=labels
    )


WRITERS: dict[str, Callable[[Release, Path], None]] = {
    "parquet": write_parquet,
    "csv": write_csv,
    "dta": write_dta,
    "sav": write_sav,
}


def write_data_files(release: Release, folder: Path, stem: str | None = None) -> list[Path]:
    """Write every format into `folder` (file names: the release's stem); paths in FORMATS order."""
    stem = stem or release.stem
    paths = []
    for fmt in FORMATS:
        path = folder / file_name(fmt, stem)
        WRITERS[fmt](release, path)
        paths.append(path)
    return paths


def read_data_file(path: Path) -> pd.DataFrame:
    """Read a delivered data file back (used by the release gate and the tests)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
        return frame
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    if suffix in (".dta", ".sav"):
        reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
        stat_frame: pd.DataFrame = reader(str(path))[0]
        return stat_frame
    raise IplosError(f"{path.name}: not a delivered data file (.parquet, .csv, .dta or .sav)")


def as_text(series: pd.Series) -> npt.NDArray[np.object_]:
    """Values as comparable text: integers without '.0', dates ISO, missing as ''.

    The same value reads the same from every format (Stata and SPSS hand back integers as floats).
    """
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(values)
        whole = finite & (values == np.round(values))
        out = np.full(values.shape, "", dtype=object)
        out[whole] = values[whole].astype(np.int64).astype(str)
        rest = finite & ~whole
        out[rest] = [str(float(v)) for v in values[rest]]
        return out
    missing = series.isna().to_numpy()
    text = series.astype("string").to_numpy(dtype=object, na_value="")
    text[missing] = ""
    return np.asarray(text, dtype=object)
