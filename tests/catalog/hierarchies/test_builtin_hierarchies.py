"""The built-in hierarchies nest strictly, cover their domain and survive an ARX CSV round trip."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iplos.catalog import Hierarchy, catalog
from iplos.catalog.hierarchies import (
    AGE_MAX,
    BIRTH_YEAR_FIRST,
    BIRTH_YEAR_LAST,
    DATE_FIRST,
    DATE_LAST,
    age_hierarchy,
    age_ssb_hierarchy,
    birth_year_hierarchy,
    birth_year_ssb_hierarchy,
    codelist_hierarchy,
    date_hierarchy,
    functional_score_hierarchy,
    icd10_hierarchy,
    icpc2_component_hierarchy,
    icpc2_hierarchy,
    service_hierarchy,
    ssb_age_group,
)
from iplos.errors import IplosError

BUILT_IN: dict[str, Callable[[], Hierarchy]] = {
    "age": age_hierarchy,
    "age_ssb": age_ssb_hierarchy,
    "birth_year": birth_year_hierarchy,
    "birth_year_ssb": birth_year_ssb_hierarchy,
    "date": date_hierarchy,
    "service": service_hierarchy,
    "functional_score": functional_score_hierarchy,
    "icd10": icd10_hierarchy,
    "icpc2": icpc2_hierarchy,
    "icpc2_component": icpc2_component_hierarchy,
}


def _package_csv(name: str) -> list[dict[str, str]]:
    raw = resources.files("iplos.catalog").joinpath("data", name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def assert_nests_strictly(h: Hierarchy) -> None:
    """Independent of Hierarchy's own check: each level maps functionally onto the next, top is one value."""
    leaves = [row[0] for row in h.rows]
    assert len(set(leaves)) == len(leaves)
    for level in range(h.height - 1):
        parent: dict[str, str] = {}
        for row in h.rows:
            assert parent.setdefault(row[level], row[level + 1]) == row[level + 1], (h.name, level, row)
    assert h.values(h.height - 1) == ("*",)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_nests_strictly(name: str) -> None:
    assert_nests_strictly(BUILT_IN[name]())


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_arx_csv_round_trip(name: str, tmp_path: Path) -> None:
    h = BUILT_IN[name]()
    path = tmp_path / f"{name}.csv"
    h.to_arx_csv(path)
    back = Hierarchy.read_arx_csv(path, name=name, level_names=h.level_names)
    assert back.rows == h.rows
    assert back.level_names == h.level_names


def test_age_covers_every_age_and_bands_nest() -> None:
    h = age_hierarchy()
    assert h.leaves == tuple(str(a) for a in range(AGE_MAX + 1))
    assert [h.generalize(37, i) for i in range(5)] == ["37", "35-39", "30-39", "20-39", "*"]
    assert h.generalize(120, "20 years") == "120-139"
    with pytest.raises(IplosError, match="'121'"):
        h.generalize(121, 1)


@pytest.mark.parametrize(
    ("age", "group", "split"),
    [
        (0, "0-17", "0-66"),
        (17, "0-17", "0-66"),
        (18, "18-49", "0-66"),
        (66, "50-66", "0-66"),
        (67, "67-79", "67+"),
        (80, "80-89", "67+"),
        (89, "80-89", "67+"),
        (90, "90+", "67+"),
        (120, "90+", "67+"),
    ],
)
def test_ssb_age_groups(age: int, group: str, split: str) -> None:
    h = age_ssb_hierarchy()
    assert h.generalize(age, 1) == group
    assert h.generalize(age, 2) == split
    assert h.values(1) == ("0-17", "18-49", "50-66", "67-79", "80-89", "90+")


def test_negative_age_is_refused() -> None:
    with pytest.raises(IplosError, match="negative"):
        ssb_age_group(-1)


def test_birth_year_covers_its_range() -> None:
    h = birth_year_hierarchy()
    assert h.leaves == tuple(str(y) for y in range(BIRTH_YEAR_FIRST, BIRTH_YEAR_LAST + 1))
    assert [h.generalize(1947, i) for i in range(5)] == ["1947", "1945-1949", "1940-1949", "1940-1959", "*"]


def test_birth_year_by_age_group_in_a_reference_year() -> None:
    h = birth_year_ssb_hierarchy(reference_year=2020)
    assert h.leaves[-1] == "2020"
    assert h.generalize(1953, 1) == "67-79"  # 67 in 2020
    assert h.generalize(1954, 1) == "50-66"
    assert h.generalize(1930, 2) == "67+"
    assert_nests_strictly(h)
    with pytest.raises(IplosError, match="empty"):
        birth_year_ssb_hierarchy(reference_year=1800)


def test_date_covers_every_day() -> None:
    h = date_hierarchy()
    assert h.leaves[0] == DATE_FIRST.isoformat() and h.leaves[-1] == DATE_LAST.isoformat()
    assert len(h.rows) == (DATE_LAST - DATE_FIRST).days + 1
    assert [h.generalize("2012-03-14", i) for i in range(6)] == [
        "2012-03-14",
        "2012-03",
        "2012-Q1",
        "2012-H1",
        "2012",
        "*",
    ]
    assert h.generalize("2020-02-29", "half-year") == "2020-H1"
    assert h.generalize("2019-10-01", "quarter") == "2019-Q4"
    assert h.generalize("2019-07-01", "half-year") == "2019-H2"


def test_date_range_parameters() -> None:
    h = date_hierarchy("2017-01-01", "2017-12-31")
    assert len(h.rows) == 365
    with pytest.raises(IplosError, match="'2017-13-01'"):
        date_hierarchy("2017-13-01", "2018-01-01")
    with pytest.raises(IplosError, match="empty"):
        date_hierarchy("2018-01-01", "2017-01-01")


_DATES = date_hierarchy()


@given(st.dates(min_value=DATE_FIRST, max_value=DATE_LAST))
def test_date_levels_agree_with_the_calendar(day: date) -> None:
    h = _DATES
    quarter = (day.month - 1) // 3 + 1
    assert h.generalize(day.isoformat(), 1) == day.strftime("%Y-%m")
    assert h.generalize(day.isoformat(), 2) == f"{day.year}-Q{quarter}"
    assert h.generalize(day.isoformat(), 3) == f"{day.year}-H{1 if quarter <= 2 else 2}"
    assert h.generalize(day.isoformat(), 4) == str(day.year)
    assert (day + timedelta(days=1)).isoformat() in h or day == DATE_LAST


def test_service_covers_every_code_with_its_group() -> None:
    h = service_hierarchy()
    tjeneste = catalog().variable("tjeneste")
    assert set(h.leaves) == {c.code for c in tjeneste.codes}
    for code in tjeneste.codes:
        assert h.generalize(code.code, "SSB group") == code.group
    assert h.generalize(15, 1) == "hjemmetjenester"
    assert h.generalize(21, 1) == "institusjon"


def test_functional_score() -> None:
    h = functional_score_hierarchy()
    assert h.leaves == ("1", "2", "3", "4", "5", "9")
    assert [h.generalize(s, 1) for s in h.leaves] == ["ikke_behov"] * 2 + ["behov"] * 3 + ["ikke_relevant"]


def test_codelist_hierarchies_with_and_without_groups() -> None:
    sex = codelist_hierarchy("kjonn")
    assert sex.rows == (("1", "*"), ("2", "*"))
    education = codelist_hierarchy("nus_niva")
    assert education.generalize(7, 1) == "uh_lang"
    assert_nests_strictly(education)


def test_icd10_covers_every_packaged_code() -> None:
    h = icd10_hierarchy()
    packaged = [r["code"] for r in _package_csv("icd10_codes.csv.gz")]
    assert set(h.leaves) == set(packaged)
    assert len(packaged) > 20_000
    categories = {r["category"] for r in _package_csv("icd10_codes.csv.gz")}
    assert categories <= set(h.leaves)  # a record coded at three characters has a leaf
    assert [h.generalize("I639", i) for i in range(5)] == ["I639", "I63", "I60-I69", "IX", "*"]
    assert [h.generalize("F03", i) for i in range(5)] == ["F03", "F03", "F00-F09", "V", "*"]
    assert h.generalize("C7700", "category") == "C77"  # Norwegian 5-character code
    assert h.generalize("V0n1m", "chapter") == "XX"  # Norwegian grouped external-cause code
    assert h.generalize("U071", "chapter") == "XXII"
    assert len(h.values("chapter")) == 22


def test_icd10_blocks_and_chapters_are_documented() -> None:
    h = icd10_hierarchy()
    blocks = {r["block"] for r in _package_csv("icd10_blocks.csv")}
    chapters = {r["chapter"] for r in _package_csv("icd10_chapters.csv")}
    assert set(h.values("block")) <= blocks
    assert set(h.values("chapter")) == chapters


def test_icpc2_covers_every_packaged_code() -> None:
    h = icpc2_hierarchy()
    assert set(h.leaves) == {r["code"] for r in _package_csv("icpc2_codes.csv")}
    assert h.generalize("P70", "chapter") == "P"
    assert h.generalize("-30", "chapter") == "-"
    assert set(h.values("chapter")) == {r["chapter"] for r in _package_csv("icpc2_chapters.csv")}
    kinds = icpc2_component_hierarchy()
    assert kinds.generalize("P70", 1) == "diagnosis"
    assert kinds.generalize("A04", 1) == "symptom"
    assert kinds.generalize("-30", 1) == "process"


_AGES = age_hierarchy()
_BIRTH_YEARS = birth_year_hierarchy()


@given(st.integers(0, AGE_MAX))
def test_age_bands_agree_with_arithmetic(age: int) -> None:
    for level, width in ((1, 5), (2, 10), (3, 20)):
        low = age - age % width
        assert _AGES.generalize(age, level) == f"{low}-{low + width - 1}"


@given(st.integers(BIRTH_YEAR_FIRST, BIRTH_YEAR_LAST))
def test_birth_year_bands_contain_the_year(year: int) -> None:
    for level in (1, 2, 3):
        low, high = map(int, _BIRTH_YEARS.generalize(year, level).split("-"))
        assert low <= year <= high
