"""Harmonisation of kommune codes across merges, renumbering and splits, forwards and backwards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iplos.catalog import regions
from iplos.catalog.regions import Candidate
from iplos.errors import IplosError


def _codes(cands: list[Candidate]) -> list[str]:
    return [c.code for c in cands]


def test_renumbering_2020_halden() -> None:
    assert regions.harmonise("0101", 2019, 2020) == [Candidate("3001", "Halden", 1.0, "renumbered")]
    assert regions.harmonise("0101", 2019, 2024) == [Candidate("3101", "Halden", 1.0, "renumbered")]


def test_renumbering_2018_trondelag() -> None:
    assert regions.harmonise("1601", 2017, 2018) == [Candidate("5001", "Trondheim", 1.0, "renumbered")]
    assert regions.harmonise("1756", 2017, 2018) == [Candidate("5053", "Inderøy", 1.0, "renumbered")]


def test_merger_2020_moss_and_rygge() -> None:
    for code in ("0104", "0136"):
        assert regions.harmonise(code, 2019, 2020) == [Candidate("3002", "Moss", 1.0, "merged")]
    # Trondheim later absorbed Klæbu: 1601 of 2017 is part of the merged 5001 of 2024.
    assert regions.harmonise("1601", 2017, 2024)[0].how == "merged"


def test_split_2024_alesund_with_population_shares() -> None:
    cands = regions.harmonise("1507", 2023, 2024)
    assert _codes(cands) == ["1508", "1580"]
    assert all(c.how == "split" for c in cands)
    shares = [c.share for c in cands]
    assert None not in shares
    assert sum(s for s in shares if s is not None) == pytest.approx(1.0, abs=1e-4)
    # 1 January 2024: 58,509 in Ålesund and 9,357 in Haram (SSB 07459).
    assert cands[0].share == pytest.approx(58509 / (58509 + 9357), abs=1e-4)


@pytest.mark.parametrize(("code", "year"), [("5012", 2019), ("1613", 2017)])
def test_split_2020_snillfjord_into_three(code: str, year: int) -> None:
    cands = regions.harmonise(code, year, 2020)
    assert sorted(_codes(cands)) == ["5055", "5056", "5059"]
    assert {c.how for c in cands} == {"split"}
    assert sum(c.share or 0.0 for c in cands) == pytest.approx(1.0, abs=1e-4)


def test_split_2017_stokke_and_2020_tysfjord() -> None:
    assert sorted(_codes(regions.harmonise("0720", 2016, 2017))) == ["0704", "0710"]
    assert sorted(_codes(regions.harmonise("1850", 2019, 2020))) == ["1806", "1875"]


def test_backwards_merged_kommune_maps_to_all_predecessors_with_shares() -> None:
    cands = regions.harmonise("3103", 2024, 2019)
    assert sorted(_codes(cands)) == ["0104", "0136"]
    assert all(c.how == "merged" for c in cands)
    assert sum(c.share or 0.0 for c in cands) == pytest.approx(1.0, abs=1e-4)
    moss = next(c for c in cands if c.code == "0104")
    assert moss.share is not None and moss.share > 0.5
    assert sorted(_codes(regions.harmonise("5001", 2024, 2017))) == ["1601", "1662"]


def test_backwards_from_split_part() -> None:
    assert regions.harmonise("1580", 2024, 2023) == [Candidate("1507", "Ålesund", 1.0, "split")]


def test_merger_then_split_traces_territory() -> None:
    # 1534 Haram merged into 1507 Ålesund in 2020; 1580 Haram was re-established with its old borders
    # in 2024 (data/restorations.csv). Old Ålesund held no part of Haram.
    assert regions.harmonise("1504", 2017, 2024) == [Candidate("1508", "Ålesund", 1.0, "split")]
    assert regions.harmonise("1534", 2019, 2024) == [Candidate("1580", "Haram", 1.0, "split")]
    assert [(c.code, c.share) for c in regions.harmonise("1523", 2019, 2024)] == [("1508", 1.0)]
    assert [(c.code, c.share) for c in regions.harmonise("1580", 2024, 2019)] == [("1534", 1.0)]
    back = regions.harmonise("1508", 2024, 2019)
    assert sorted(_codes(back)) == ["1504", "1523", "1529", "1546"]
    assert sum(c.share or 0.0 for c in back) == pytest.approx(1.0, abs=1e-4)
    # The whole merged kommune, or the whole split one, keeps its population shares.
    whole = regions.harmonise("1507", 2020, 2024)
    assert [c.code for c in whole] == ["1508", "1580"] and all(c.share is not None for c in whole)
    assert "1534" in _codes(regions.harmonise("1507", 2023, 2019))


def test_split_then_merger_keeps_shares() -> None:
    # 0720 Stokke was split in 2017; its parts merged on with others, and kept their shares.
    cands = regions.harmonise("0720", 2016, 2024)
    assert sorted(_codes(cands)) == ["3905", "3907"]
    assert sum(c.share or 0.0 for c in cands) == pytest.approx(1.0, abs=1e-4)
    back = regions.harmonise("3907", 2024, 2016)
    assert sorted(_codes(back)) == ["0706", "0719", "0720"]
    assert all(c.share is not None for c in back)


def test_same_year_is_identity() -> None:
    assert regions.harmonise("0301", 2015, 2015) == [Candidate("0301", "Oslo", 1.0, "same")]


def test_unknown_code_in_from_year() -> None:
    with pytest.raises(IplosError, match=r"kommune 3001 did not exist on 2019-01-01"):
        regions.harmonise("3001", 2019, 2024)
    with pytest.raises(IplosError, match="2030"):
        regions.harmonise("0301", 2019, 2030)


def test_harmonise_many() -> None:
    result = regions.harmonise_many(["3001", "1507"], 2023, 2024)
    assert list(result) == ["3001", "1507"]
    assert _codes(result["3001"]) == ["3101"]
    assert len(result["1507"]) == 2


YEARS = st.integers(min_value=2006, max_value=2024)


@settings(max_examples=60, deadline=None)
@given(YEARS, YEARS, st.data())
def test_candidates_exist_in_target_year_and_shares_sum_to_one(
    src: int, dst: int, data: st.DataObject
) -> None:
    code = data.draw(st.sampled_from([m.code for m in regions.municipalities(src)]))
    cands = regions.harmonise(code, src, dst)
    valid = {m.code for m in regions.municipalities(dst)}
    assert cands and all(c.code in valid for c in cands)
    shares = [c.share for c in cands]
    if None not in shares:
        assert sum(s for s in shares if s is not None) == pytest.approx(1.0, abs=1e-3)
    if len(cands) > 1:
        assert {c.how for c in cands} <= {"merged", "split"}
    # Going there and back always leads home (among others).
    back = {c.code for cand in cands for c in regions.harmonise(cand.code, dst, src)}
    assert code in back
