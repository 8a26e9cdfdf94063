"""Finding hierarchies by column name: catalogue variables, aliases, dates; parameters; caching."""

from __future__ import annotations

import pytest

from iplos.catalog import catalog, hierarchies_for, hierarchy_for
from iplos.catalog.hierarchies import BUILDERS, diagnosis_title, normalise_icd10
from iplos.errors import IplosError

FUNCTIONAL_ITEMS = [v.name for v in catalog().variables("iplos", "funksjon")][2:]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("alder", ["age", "age_ssb"]),
        ("age", ["age", "age_ssb"]),
        ("fodselsaar", ["birth_year", "birth_year_ssb"]),
        ("kommune", ["region", "region_centrality"]),
        ("startdato", ["date"]),
        ("sluttdato", ["date"]),
        ("vedtaksdato", ["date"]),
        ("dodsdato", ["date"]),
        ("innskrivningsdato", ["date"]),
        ("utflyttingsdato", ["date"]),  # not in the catalogue: by its name
        ("tjeneste", ["service", "codes"]),
        ("kode", ["icd10", "icpc2"]),
        ("hoveddiagnose", ["icd10"]),
        ("underliggende_dodsarsak", ["icd10"]),
        ("kjonn", ["codes"]),
        ("iplos.person.kjonn", ["codes"]),
        ("KJONN", ["codes"]),
        ("pseudonym", []),
        ("lopenr", []),
    ],
)
def test_hierarchies_for_columns(column: str, expected: list[str]) -> None:
    assert hierarchies_for(column) == expected


@pytest.mark.parametrize("item", FUNCTIONAL_ITEMS)
def test_every_functional_item_has_the_score_hierarchy(item: str) -> None:
    assert hierarchies_for(item) == ["functional_score"]
    assert hierarchy_for(item).name == "functional_score"


def test_every_hierarchy_named_in_the_catalogue_exists() -> None:
    known = {*BUILDERS, "codes"}
    for var in catalog().variables():
        assert set(var.hierarchies) <= known, var.qualified_name
        if "codes" in var.hierarchies:
            assert var.codes, var.qualified_name


def test_every_quasi_identifier_but_free_codes_has_a_hierarchy() -> None:
    without = {
        v.name for v in catalog().variables() if v.role == "quasi_identifier" and not hierarchies_for(v.name)
    }
    assert without == {"bydel", "leverandor_orgnr"}


def test_default_and_named_hierarchies() -> None:
    assert hierarchy_for("alder").name == "age"
    assert hierarchy_for("alder", "age_ssb").name == "age_ssb"
    assert hierarchy_for("tjeneste").generalize(21, 1) == "institusjon"
    assert hierarchy_for("kjonn").rows == (("1", "*"), ("2", "*"))
    assert hierarchy_for("helseforetak").generalize("302", 1) == "midt"
    assert hierarchy_for("kode", "icpc2").generalize("P70", 1) == "P"


def test_hierarchies_are_cached() -> None:
    assert hierarchy_for("startdato") is hierarchy_for("sluttdato")
    assert hierarchy_for("alder", max_age=100) is hierarchy_for("age", max_age=100)
    assert hierarchy_for("alder", max_age=100) is not hierarchy_for("alder")


def test_parameters_reach_the_builder() -> None:
    assert hierarchy_for("alder", max_age=100).leaves[-1] == "100"
    h = hierarchy_for("fodselsaar", "birth_year_ssb", reference_year=2010)
    assert h.generalize(1943, 1) == "67-79"
    assert hierarchy_for("startdato", first="2017-01-01", last="2017-12-31").leaves[0] == "2017-01-01"


def test_errors_name_what_is_wrong() -> None:
    with pytest.raises(IplosError, match=r"no built-in hierarchy for column 'pseudonym'.*ARX CSV"):
        hierarchy_for("pseudonym")
    with pytest.raises(IplosError, match=r"unknown hierarchy 'decades'"):
        hierarchy_for("alder", "decades")
    with pytest.raises(IplosError, match=r"takes no parameter 'year'.*max_age"):
        hierarchy_for("alder", year=2020)
    with pytest.raises(IplosError, match="plain values"):
        hierarchy_for("alder", max_age=[1])
    with pytest.raises(IplosError, match=r"'timer_per_uke' has no code list"):
        hierarchy_for("timer_per_uke", "codes")


def test_region_hierarchies_come_from_the_regions_package() -> None:
    regions = pytest.importorskip("iplos.catalog.regions")
    if not hasattr(regions, "kommune_hierarchy"):
        pytest.skip("iplos.catalog.regions has no kommune_hierarchy yet")
    h = hierarchy_for("kommune", year=2020)
    assert "0301" in h
    assert h.generalize("0301", h.height - 1) == "*"
    assert len(h.leaves) == 356
    assert hierarchy_for("kommune", year=2024).generalize("0301", 1) == "03"
    centrality = hierarchy_for("kommune", "region_centrality", year=2024)
    assert "0301" in centrality


def test_diagnosis_titles() -> None:
    assert diagnosis_title("F03", "ICD-10") == "Uspesifisert demens"
    assert diagnosis_title("f03", "ICD-10", "en") == "Unspecified dementia"
    assert diagnosis_title("P70", "ICPC-2") is not None
    assert diagnosis_title("Q999X", "ICD-10") is None
    with pytest.raises(IplosError, match="unknown diagnosis classification"):
        diagnosis_title("F03", "SNOMED")
    assert normalise_icd10(" i63.9 ") == "I639"
    assert normalise_icd10("V0n1m") == "V0n1m"
