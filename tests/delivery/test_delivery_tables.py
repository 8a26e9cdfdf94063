"""The multi-table release: numeric groupings as labelled numbers, the gate across tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from iplos.catalog import hierarchy_for
from iplos.delivery._build import column_info
from iplos.delivery._formats import read_data_file, write_data_files
from iplos.delivery._gate import measure_linked_files
from iplos.delivery._plan import QuasiIdentifier
from iplos.delivery._release import SERIAL, ColumnInfo, Criteria, Release


def _release(data: pd.DataFrame, columns: tuple[ColumnInfo, ...], stem: str, qis: tuple[str, ...]) -> Release:
    return Release("C-1", "d001", data, columns, qis, (), Criteria(k=2), len(data), stem=stem, table=stem)


def test_age_groups_are_labelled_numbers_in_stata_and_spss(tmp_path: Path) -> None:
    h = hierarchy_for("alder", "age")
    level = h.level("5 years")
    info = column_info(
        "alder", "iplos.person.fodselsaar", "int16", level, h, QuasiIdentifier("alder", "age"), ()
    )
    assert info.group_codes["65-69"] == 65 and info.kind == "string"
    data = pd.DataFrame({SERIAL: [1, 2, 3], "alder": ["65-69", "70-74", None]})
    serial = ColumnInfo(SERIAL, "Løpenummer", "integer", "serial")
    release = _release(data, (serial, info), "extract", ("alder",))
    write_data_files(release, tmp_path)
    for suffix, reader in ((".dta", pyreadstat.read_dta), (".sav", pyreadstat.read_sav)):
        frame, meta = reader(str(tmp_path / f"extract{suffix}"))
        assert pd.api.types.is_numeric_dtype(frame["alder"])
        assert frame["alder"].tolist()[:2] == [65.0, 70.0] and pd.isna(frame["alder"].iloc[2])
        labels = meta.variable_value_labels["alder"]
        assert labels[65] == "65-69" and labels[70] == "70-74"
    # Parquet and CSV keep the group's text.
    assert read_data_file(tmp_path / "extract.parquet")["alder"].tolist()[:2] == ["65-69", "70-74"]


def test_the_gate_counts_signatures_across_tables(tmp_path: Path) -> None:
    """Persons alike in the person-year table but not in their spells are told apart."""
    serial = ColumnInfo(SERIAL, "Løpenummer", "integer", "serial")
    year = ColumnInfo("aargang", "Årgang", "integer", "quasi_identifier")
    start = ColumnInfo("startdato", "Startdato", "string", "quasi_identifier")
    years = pd.DataFrame({SERIAL: [1, 2, 3, 4], "aargang": [2015] * 4})
    spells = pd.DataFrame({SERIAL: [1, 2, 3, 4], "startdato": ["2015", "2015", "2014", "2014"]})
    main = _release(years, (serial, year), "extract", ("aargang",))
    other = _release(spells, (serial, start), "service_spells", ("startdato",))
    for r in (main, other):
        write_data_files(r, tmp_path)
    tables = [
        ("extract", [SERIAL, "aargang"], ["aargang"]),
        ("service_spells", [SERIAL, "startdato"], ["startdato"]),
    ]
    measures, failures = measure_linked_files(
        tmp_path, tables=tables, criteria=Criteria(k=2), persons_before=4
    )
    assert not failures and {m.smallest_class for m in measures} == {2}
    _, failures = measure_linked_files(tmp_path, tables=tables, criteria=Criteria(k=3), persons_before=4)
    assert len(failures) == 4 and all("across the tables" in f for f in failures)  # one per format
