"""The register catalogue: loading and validation, look-ups, search, codes, årganger."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import iplos.catalog
from iplos.catalog import Catalog, catalog
from iplos.catalog._load import load_document, parse_catalog
from iplos.errors import IplosError

# Volven 9151 codes issue 2 lists, by the group we expect them in.
VOLVEN_9151 = [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    11,
    12,
    13,
    14,
    15,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
]
INSTITUTION_STAYS = {8, 18, 19, 20, 21, 22, 25}
FUNCTIONAL_ITEMS = [
    "sosial_deltakelse",
    "beslutninger_dagligliv",
    "styre_atferd",
    "alminnelig_husarbeid",
    "skaffe_varer_tjenester",
    "ivareta_egen_helse",
    "lage_mat",
    "spise",
    "personlig_hygiene",
    "av_pakledning",
    "toalett",
    "bevege_innendors",
    "bevege_utendors",
    "hukommelse",
    "kommunikasjon",
    "syn",
    "horsel",
]


def test_public_api_is_pinned() -> None:
    assert set(iplos.catalog.__all__) == {
        "Catalog",
        "Code",
        "CodeGroup",
        "CodeList",
        "DType",
        "Deliverable",
        "Hierarchy",
        "Language",
        "Register",
        "Role",
        "SearchHit",
        "Variable",
        "catalog",
        "deliverable",
        "deliverables",
        "hierarchies_for",
        "hierarchy_for",
        "normalise",
        "not_deliverable",
    }


def test_packaged_catalogue_loads_and_is_cached() -> None:
    cat = catalog()
    assert isinstance(cat, Catalog)
    assert cat is catalog()
    assert [r.name for r in cat.registers] == ["iplos", "kpr", "dar", "npr", "ssb"]
    assert cat.register("keyholder").kind == "keyholder"


def _document() -> dict[str, Any]:
    doc = load_document()
    assert isinstance(doc, dict)
    return copy.deepcopy(doc)


def test_invalid_catalogue_reports_every_problem_with_its_path() -> None:
    doc = _document()
    person = doc["tables"][0]["columns"]
    person[1]["role"] = "secret"
    person[2]["codelist"] = "nope"
    doc["codelists"]["kjonn"]["codes"].append({"code": "1", "label_nb": "x", "label_en": "x"})
    with pytest.raises(IplosError) as info:
        parse_catalog(doc)
    text = str(info.value)
    assert "tables[0].columns[1].role" in text and "'secret'" in text
    assert "tables[0].columns[2].codelist" in text and "'nope'" in text
    assert "codelists.kjonn.codes[2].code" in text
    assert len(info.value.problems) == 3


def test_duplicate_column_and_unknown_register_are_refused() -> None:
    doc = _document()
    doc["tables"][0]["columns"].append(doc["tables"][0]["columns"][1])
    doc["tables"][1]["registers"].append("nowhere")
    with pytest.raises(IplosError) as info:
        parse_catalog(doc)
    assert "column appears twice" in str(info.value)
    assert "'nowhere'" in str(info.value)


def test_group_must_exist_and_range_be_numeric() -> None:
    doc = _document()
    doc["codelists"]["tjenestetype"]["codes"][0]["group"] = "ukjent"
    doc["tables"][0]["columns"][3]["max_value"] = 5  # kommune is a string
    with pytest.raises(IplosError) as info:
        parse_catalog(doc)
    assert "'ukjent'" in str(info.value)
    assert "numeric variables only" in str(info.value)


def test_roles() -> None:
    cat = catalog()
    assert cat.variable("fnr").role == "direct_identifier"
    assert cat.variable("fnr").register == "keyholder"
    assert {v.role for v in cat.variables() if v.name == "pseudonym"} == {"linkage_key"}
    for name in ("kommune", "bydel", "fodselsaar", "kjonn", "dodsdato", "startdato", "vurderingsdato"):
        assert cat.variable(name).role == "quasi_identifier", name
    for name in ("kode", "underliggende_dodsarsak", "hoveddiagnose", "tjeneste", *FUNCTIONAL_ITEMS):
        assert cat.variable(name).role == "sensitive", name
    assert [v.qualified_name for v in cat.variables() if v.role == "direct_identifier"] == [
        "keyholder.identities.fnr"
    ]
    # every date variable is a quasi-identifier
    assert {v.role for v in cat.variables() if v.dtype == "date"} == {"quasi_identifier"}


def test_every_volven_code_is_present_with_a_group() -> None:
    tjeneste = catalog().variable("tjeneste")
    assert tjeneste.code_system == "Volven 9151"
    assert sorted(int(c.code) for c in tjeneste.codes) == VOLVEN_9151
    groups = {g.code for g in tjeneste.groups}
    assert groups == {"hjemmetjenester", "institusjon", "andre"}
    for code in tjeneste.codes:
        assert code.group in groups, code
    assert {int(c.code) for c in tjeneste.codes if c.institution_stay} == INSTITUTION_STAYS
    assert {int(c.code) for c in tjeneste.codes if c.hour_based} == {1, 2, 3, 7, 9, 11, 15}
    assert tjeneste.code(15).group == "hjemmetjenester"  # type: ignore[union-attr]
    assert tjeneste.code(21).group == "institusjon"  # type: ignore[union-attr]


def test_functional_items_share_the_official_scale() -> None:
    cat = catalog()
    assert cat.columns("iplos", "funksjon") == ("pseudonym", "vurderingsdato", *FUNCTIONAL_ITEMS)
    for item in FUNCTIONAL_ITEMS:
        var = cat.variable(item)
        assert [c.code for c in var.codes] == ["1", "2", "3", "4", "5", "9"]
        assert var.reconstructed  # the wording is our reconstruction
        assert var.hierarchies == ("functional_score",)
    assert cat.code_label("syn", 9) == "Ikke relevant"
    assert cat.code_label("syn", 1).startswith("Ingen problemer")
    assert cat.code_label("syn", 5, "en").startswith("Full need")


def test_person_code_lists() -> None:
    cat = catalog()
    assert cat.code_label("husstand", 3) == "Bor sammen med foreldre"
    assert cat.code_label("kjonn", "2", "en") == "Female"
    assert cat.code_label("sivilstand", 2) == "Gift"
    assert cat.code_label("utdanningsniva", 8, "en") == "Doctoral education"
    assert [c.code for c in cat.variable("inntektsdesil").codes] == [str(i) for i in range(1, 11)]
    assert cat.variable("landbakgrunn").codes


def test_hours_range_and_timer_is_numeric() -> None:
    var = catalog().variable("timer_per_uke")
    assert (var.min_value, var.max_value, var.dtype, var.nullable) == (0, 168, "float64", True)
    assert catalog().is_valid_code(var, 37.5)
    assert not catalog().is_valid_code(var, 169)
    assert not catalog().is_valid_code(var, "many")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hjemmesykepleie", "tjeneste"),
        ("home nursing", "tjeneste"),
        ("Hørsel", "horsel"),
        ("horsel", "horsel"),
        ("HEARING", "horsel"),
        ("langtidsopphold", "tjeneste"),
        ("bor alene", "husstand"),
        ("cause of death", "underliggende_dodsarsak"),
        ("fodselsnummer", "fnr"),
        ("income", "inntektsdesil"),
        ("kommune", "kommune"),
    ],
)
def test_search_in_bokmal_and_english(text: str, expected: str) -> None:
    hits = catalog().search(text)
    assert hits, text
    assert hits[0].variable.name == expected


def test_search_reports_the_matching_codes_and_no_false_hits() -> None:
    hits = catalog().search("home nursing")
    assert {h.variable.qualified_name for h in hits} == {"iplos.tjeneste.tjeneste", "kpr.tjeneste.tjeneste"}
    assert [c.code for c in hits[0].codes] == ["15", "21"]  # home nursing, then nursing home
    assert catalog().search("zebra crossing") == ()
    assert {h.variable.register for h in catalog().search("hjemmesykepleie", register="kpr")} == {"kpr"}
    with pytest.raises(IplosError, match="empty"):
        catalog().search("  ")


def test_unknown_names_are_errors_with_suggestions() -> None:
    cat = catalog()
    with pytest.raises(IplosError, match=r"unknown variable 'fodselsar'.*did you mean 'fodselsaar'"):
        cat.variable("fodselsar")
    with pytest.raises(IplosError, match=r"unknown register 'iplo'.*'iplos'"):
        cat.variable("kjonn", register="iplo")
    with pytest.raises(IplosError, match=r"unknown variable 'kjonn' in dar"):
        cat.variable("kjonn", register="dar")
    with pytest.raises(IplosError, match=r"no table 'persons'.*'person'"):
        cat.columns("iplos", "persons")
    with pytest.raises(IplosError, match=r"code '99' is not in the code list of iplos.tjeneste.tjeneste"):
        cat.code_label("tjeneste", 99)


def test_variable_resolution_prefers_catalogue_order() -> None:
    cat = catalog()
    assert cat.variable("dar.dodsfall.dodsdato").register == "dar"
    assert [v.name for v in cat.variables(role="direct_identifier")] == ["fnr"]
    assert {v.name for v in cat.variables("iplos", "person", role="quasi_identifier")} >= {"kommune", "kjonn"}
    with pytest.raises(IplosError, match="unknown role 'secret'"):
        cat.variables(role="secret")  # type: ignore[arg-type]
    assert cat.variable("dodsdato").qualified_name == "iplos.person.dodsdato"
    assert cat.variable("dodsdato", register="dar").qualified_name == "dar.dodsfall.dodsdato"
    assert cat.variable("pseudonym", register="kpr", table="funksjon").table == "funksjon"
    assert cat.variable("kode").code_system == "ICD-10 / ICPC-2"


def test_aargang_follow_the_register() -> None:
    cat = catalog()
    assert (cat.variable("kjonn").aargang_from, cat.variable("kjonn").aargang_to) == (2007, 2017)
    kpr = cat.variable("kjonn", register="kpr")
    assert (kpr.aargang_from, kpr.aargang_to) == (2017, 2024)
    assert kpr.exists_in(2017) and not kpr.exists_in(2016)


def test_registers_for_years() -> None:
    cat = catalog()
    assert [r.name for r in cat.registers_for_years(2010, 2020)] == ["iplos", "kpr"]
    assert [r.name for r in cat.registers_for_years(2010, 2020, linkable=True)] == [
        "iplos",
        "kpr",
        "dar",
        "npr",
        "ssb",
    ]
    assert [r.name for r in cat.registers_for_years(2007, 2016)] == ["iplos"]
    assert [r.name for r in cat.registers_for_years(2017, 2017)] == ["iplos", "kpr"]
    assert [r.name for r in cat.registers_for_years(2018, 2030)] == ["kpr"]
    assert [r.name for r in cat.linkable_registers] == ["dar", "npr", "ssb"]
    assert cat.registers_for_years(1990, 2000) == ()
    with pytest.raises(IplosError, match="empty"):
        cat.registers_for_years(2020, 2010)


@given(st.integers(1990, 2030), st.integers(0, 20))
def test_registers_for_years_matches_their_years(first: int, span: int) -> None:
    last = first + span
    found = {r.name for r in catalog().registers_for_years(first, last, linkable=True)}
    expected = {r.name for r in catalog().registers if set(range(first, last + 1)) & set(r.years)}
    assert found == expected


def test_codes_valid_by_year_and_classification() -> None:
    cat = catalog()
    assert cat.is_valid_code("tjeneste", 26, year=2020, register="kpr")
    assert not cat.is_valid_code("tjeneste", 26, year=2019, register="iplos")  # not an iplos årgang
    assert not cat.is_valid_code("tjeneste", 26, year=2017, register="kpr")  # welfare tech from 2018
    assert not cat.is_valid_code("tjeneste", 16)
    assert cat.is_valid_code("kode", "I639") and cat.is_valid_code("kode", "P70")
    assert cat.is_valid_code("hoveddiagnose", "F03")
    assert not cat.is_valid_code("hoveddiagnose", "-30")  # ICPC-2 process code, not ICD-10
    assert cat.is_valid_code("kode", "-30")
    assert cat.code_label("kode", "P70") != "P70"
    assert cat.code_label("underliggende_dodsarsak", "I63.9", "en").startswith("Cerebral infarction")
    with pytest.raises(IplosError, match="no code list or range"):
        cat.is_valid_code("kommune", "0301")
