"""The structured population applied in the engine: every criterion filters, none is dropped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from linkage_fixtures import SmallRegisters

from iplos.engine import connect
from iplos.errors import IplosError
from iplos.linkage import LinkageRequest, Population, RecordFilter, ServiceFilter, link

VARIABLES = ["iplos.person.fodselsaar", "iplos.person.kjonn", "iplos.person.kommune"]


def _persons(
    small: SmallRegisters, pop: Population, approvals: tuple[str, ...] = ("iplos",)
) -> set[tuple[int, int, str, int]]:
    request = LinkageRequest.build("C-pop", small.years, VARIABLES, pop, approvals=approvals)
    with connect(small.settings) as engine:
        table = link(engine, small.keys, request, seed=b"x" * 32).table
    cols = ["aargang", "alder", "kommune", "kjonn"]
    return set(zip(*(table.column(c).to_pylist() for c in cols), strict=True))


def _expected(small: SmallRegisters, keep: object) -> set[tuple[int, int, str, int]]:
    out = set()
    for i in range(len(small.fnr) - 1):  # the last person is unknown to the key holder
        if not small.in_iplos[i]:
            continue
        for year in small.years:
            if small.alive_in(i, year) and keep(i, year):  # type: ignore[operator]
                out.add((year, small.age(i, year), small.kommune[i], small.sex[i]))
    return out


def test_service_with_min_hours_sex_and_region(small_session: SmallRegisters) -> None:
    """Home nursing (15) with at least 3 hours a week, women, in Bergen or Oslo."""
    small = small_session
    pop = Population(
        min_age=75,
        sex=frozenset({2}),
        services=(ServiceFilter(frozenset({15}), min_hours=3),),
        kommuner={y: frozenset({"0301", "1201"}) for y in small.years},
    )
    got = _persons(small, pop)
    want = _expected(
        small,
        lambda i, y: (
            small.age(i, y) >= 75
            and small.sex[i] == 2
            and 1 + i % 5 >= 3
            and small.kommune[i] in ("0301", "1201")
        ),
    )
    assert got == want and got


def test_service_the_registers_never_hold_gives_nobody(small_session: SmallRegisters) -> None:
    assert _persons(small_session, Population(services=(ServiceFilter(frozenset({4})),))) == set()


def test_condition_on_a_linked_register(small_session: SmallRegisters) -> None:
    """Died of ischaemic heart disease (I20-I25) in the period: a condition on dar, via the key holder."""
    small = small_session
    pop = Population(records=(RecordFilter("dar", "underliggende_dodsarsak", (("I20", "I25"),)),))
    got = _persons(small, pop, ("iplos", "dar"))
    want = _expected(small, lambda i, y: (small.cause[i] or "").startswith("I2"))
    assert got == want and got


def test_condition_in_the_same_aargang(small_session: SmallRegisters) -> None:
    small = small_session
    pop = Population(
        records=(RecordFilter("dar", "underliggende_dodsarsak", (("C34", "C34"),), within="aargang"),)
    )
    got = _persons(small, pop, ("iplos", "dar"))
    death = small.death
    want = _expected(
        small,
        lambda i, y: small.cause[i] == "C349" and isinstance(death[i], dt.date) and death[i].year == y,  # type: ignore[union-attr]
    )
    assert got == want and got


def test_condition_register_needs_its_approval(small_session: SmallRegisters) -> None:
    pop = Population(records=(RecordFilter("dar", "underliggende_dodsarsak", (("I20", "I25"),)),))
    with pytest.raises(IplosError, match="missing: dar"):
        _persons(small_session, pop)


def test_unknown_condition_is_refused() -> None:
    with pytest.raises(IplosError, match=r"no record condition on npr\.helseforetak"):
        RecordFilter("npr", "helseforetak", (("1", "2"),))


@pytest.mark.spark
def test_spark_applies_the_same_population(small_session: SmallRegisters, spark_session: Any) -> None:
    small = small_session
    pop = Population(
        min_age=75,
        sex=frozenset({2}),
        services=(ServiceFilter(frozenset({15}), min_hours=3),),
        kommuner={y: frozenset({"0301", "1201"}) for y in small.years},
        functional_assessment=True,
        records=(RecordFilter("dar", "underliggende_dodsarsak", (("I20", "I25"), ("C34", "C34"))),),
    )
    request = LinkageRequest.build("C-spark", small.years, VARIABLES, pop, approvals=("iplos", "dar"))
    seed = b"s" * 32
    with connect(small.settings, backend="duckdb") as engine:
        duck = link(engine, small.keys, request, seed=seed)
    spark = link(
        connect(small.settings, backend="spark", spark_session=spark_session), small.keys, request, seed=seed
    )
    assert duck.table.num_rows > 0 and spark.table.equals(duck.table)
