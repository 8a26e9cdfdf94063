from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from linkage_fixtures import INSTITUTION, SmallRegisters

from iplos.engine import connect
from iplos.errors import IplosError
from iplos.ident import pseudonymise
from iplos.linkage import LinkageRequest, Population, link

VARIABLES = [
    "iplos.person.fodselsaar",
    "iplos.person.kjonn",
    "iplos.person.kommune",
    "iplos.funksjon.spise",
    "iplos.tjeneste.tjeneste",
    "iplos.tjeneste.timer_per_uke",
    "dar.dodsfall.dodsdato",
    "dar.dodsfall.underliggende_dodsarsak",
]


def request(small: SmallRegisters, approvals: tuple[str, ...] = ("iplos", "dar")) -> LinkageRequest:
    return LinkageRequest.build(
        "C-1",
        small.years,
        VARIABLES,
        Population(min_age=80, home_dwelling=True, institution_services=INSTITUTION),
        approvals=approvals,
    )


def expected_rows(small: SmallRegisters) -> set[tuple[Any, ...]]:
    """(aargang, alder, kjonn, kommune, spise, dar dodsdato) per person-year, from the plain facts."""
    out = set()
    known = set(range(len(small.fnr) - 1))  # the last person is not in the identity list
    for i in known:
        if not small.in_iplos[i]:
            continue
        for year in small.years:
            if not small.alive_in(i, year) or small.age(i, year) < 80:
                continue
            death = small.death[i]
            ref = (
                death
                if death is not None and death.year == year and death < dt.date(year, 12, 31)
                else dt.date(year, 12, 31)
            )
            if small.institution_year[i] == year and ref >= dt.date(year, 2, 1):
                continue
            out.add((year, small.age(i, year), small.sex[i], small.kommune[i], i % 5 + 1, death))
    return out


def rows_of(table: pa.Table) -> set[tuple[Any, ...]]:
    cols = ["aargang", "alder", "kjonn", "kommune", "spise", "dodsdato"]
    return set(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


def test_extract_is_the_approved_population(small_session: SmallRegisters) -> None:
    small = small_session
    with connect(small.settings) as engine:
        extract = link(engine, small.keys, request(small))
    table = extract.table
    assert table.column_names == [
        "lopenr",
        "aargang",
        "alder",
        "kjonn",
        "kommune",
        "spise",
        "antall_tjenester",
        "timer_per_uke",
        "dodsdato",
        "underliggende_dodsarsak",
    ]
    assert rows_of(table) == expected_rows(small)
    assert min(table.column("alder").to_pylist()) >= 80
    # One row per person and årgang, and the report agrees with the table.
    pairs = list(zip(table.column("lopenr").to_pylist(), table.column("aargang").to_pylist(), strict=True))
    assert len(pairs) == len(set(pairs))
    assert extract.report.rows == table.num_rows
    assert extract.report.persons == len(set(table.column("lopenr").to_pylist()))
    for count in extract.report.counts:
        if count.register == "dar":
            in_year = [
                d
                for y, d in zip(
                    table.column("aargang").to_pylist(), table.column("dodsdato").to_pylist(), strict=True
                )
                if y == count.aargang
            ]
            assert count.persons == len(in_year)
            assert count.matched == sum(d is not None for d in in_year)


def test_person_unknown_to_key_holder_is_reported_unmatched(small_session: SmallRegisters) -> None:
    small = small_session
    last = len(small.fnr) - 1
    with connect(small.settings) as engine:
        extract = link(engine, small.keys, request(small))
    eligible_years = {
        y
        for y in small.years
        if small.in_iplos[last]
        and small.alive_in(last, y)
        and small.age(last, y) >= 80
        and small.institution_year[last] != y
    }
    unmatched = {c.aargang for c in extract.report.counts if c.register == "iplos" and c.unmatched}
    assert unmatched <= eligible_years
    assert sum(c.unmatched for c in extract.report.counts if c.register == "iplos") <= len(eligible_years)


def test_no_identifier_leaves_linkage(small_session: SmallRegisters) -> None:
    small = small_session
    with connect(small.settings) as engine:
        extract = link(engine, small.keys, request(small))
    text = extract.table.to_pandas().to_csv()
    for register in ("iplos", "dar"):
        for p in pseudonymise(small.fnr[:50], small.keys.key(register)):
            assert p not in text
    assert not any(f in text for f in small.fnr)
    # The key holder's temporary mapping is gone.
    assert not list((small.settings.keyholder_dir / "tmp").glob("*/*"))


def test_refuses_without_every_approval(small_session: SmallRegisters) -> None:
    small = small_session
    with connect(small.settings) as engine, pytest.raises(IplosError, match="missing: dar"):
        link(engine, small.keys, request(small, approvals=("iplos",)))


def test_two_linkages_share_no_serial_number(small_session: SmallRegisters) -> None:
    small = small_session
    with connect(small.settings) as engine:
        first = link(engine, small.keys, request(small))
        second = link(engine, small.keys, request(small), exclude_serials=first.serial_numbers)
    assert not first.serial_numbers & second.serial_numbers
    assert rows_of(first.table) == rows_of(second.table)


@pytest.mark.spark
def test_spark_gives_the_same_extract(small_session: SmallRegisters, spark_session: Any) -> None:
    small = small_session
    seed = b"same-seed-for-both-backends"
    with connect(small.settings, backend="duckdb") as engine:
        duck = link(engine, small.keys, request(small), seed=seed)
    engine = connect(small.settings, backend="spark", spark_session=spark_session)
    spark = link(engine, small.keys, request(small), seed=seed)
    assert spark.report.backend == "spark"
    assert spark.table.schema.equals(duck.table.schema), (spark.table.schema, duck.table.schema)
    assert spark.table.equals(duck.table)
    assert spark.report.counts == duck.report.counts
