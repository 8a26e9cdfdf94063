from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iplos.catalog.hierarchy import Hierarchy
from iplos.errors import IplosError


def age_hierarchy() -> Hierarchy:
    return Hierarchy.from_functions(
        "age",
        range(100),
        [
            ("5 years", lambda a: f"{int(a) // 5 * 5}-{int(a) // 5 * 5 + 4}"),
            ("10 years", lambda a: f"{int(a) // 10 * 10}-{int(a) // 10 * 10 + 9}"),
            ("all", lambda a: "*"),
        ],
    )


def test_generalize_and_codes() -> None:
    h = age_hierarchy()
    assert h.height == 4
    assert h.generalize(37, 1) == "35-39"
    assert h.generalize("37", "10 years") == "30-39"
    codes, labels = h.codes(2)
    assert len(labels) == 10
    assert labels[codes[h.leaf_index(37)]] == "30-39"  # type: ignore[index]


def test_unknown_value_and_level_are_named() -> None:
    h = age_hierarchy()
    with pytest.raises(IplosError, match="'200'"):
        h.generalize(200, 1)
    with pytest.raises(IplosError, match="no level 'decade'"):
        h.level("decade")


def test_non_nesting_levels_are_refused_with_row() -> None:
    rows = [["1", "a", "*"], ["2", "a", "*"], ["3", "b", "*"], ["4", "b", "x"]]
    with pytest.raises(IplosError) as info:
        Hierarchy.from_rows("bad", rows)
    assert "must nest" in str(info.value)
    assert "row 4" in str(info.value)


def test_arx_csv_round_trip(tmp_path: Path) -> None:
    h = age_hierarchy()
    path = tmp_path / "age.csv"
    h.to_arx_csv(path)
    back = Hierarchy.read_arx_csv(path, name="age", level_names=h.level_names)
    assert back.rows == h.rows
    assert path.read_text().splitlines()[37] == "37;35-39;30-39;*"


def test_ragged_arx_file_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("1;a;*\n2;a\n")
    with pytest.raises(IplosError) as info:
        Hierarchy.read_arx_csv(path)
    assert "h.csv" in str(info.value) and "row 2" in str(info.value)


@given(
    st.lists(st.text(alphabet="abcxyz;0123 ", min_size=1, max_size=6), min_size=1, max_size=30, unique=True),
    st.integers(min_value=1, max_value=5),
)
def test_arx_round_trip_property(leaves: list[str], buckets: int) -> None:
    h = Hierarchy.from_functions(
        "p", leaves, [("bucket", lambda v: f"b{sum(map(ord, v)) % buckets}"), ("all", lambda v: "*")]
    )
    back = Hierarchy.parse_arx_csv(h.to_arx_csv(), name="p")
    assert back.rows == h.rows
