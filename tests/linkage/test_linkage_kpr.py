"""A request across the IPLOS-KPR boundary: IPLOS årganger to 2017, KPR's after, and KPR's contacts.

Checked against plain DuckDB SQL over the synthetic register's files, with the pseudonyms computed
from the key holder's identity list independently of the linkage code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_linkage_cluster import parquet_bytes

from iplos.config import Settings
from iplos.engine import connect
from iplos.errors import IplosError
from iplos.ident import KeyStore, pseudonymise
from iplos.linkage import LinkageRequest, Population, ServiceFilter, VariableRef, link, link_tables
from iplos.synth import generate

YEARS = tuple(range(2015, 2020))
VARIABLES = ("iplos.person.fodselsaar", "iplos.person.kjonn", "kpr.kontakt.antall_kontakter")


@pytest.fixture(scope="module")
def across(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("kpr")) / "home")
    generate(settings, scale=0.003, seed=16, years=range(2015, 2018), kpr_years=range(2017, 2020))
    yield settings


def kpr_request(approvals: tuple[str, ...] = ("iplos", "kpr")) -> LinkageRequest:
    return LinkageRequest.build(
        "C-16",
        YEARS,
        VARIABLES,
        Population(min_age=67, services=(ServiceFilter(frozenset({15})),)),
        approvals=approvals,
    )


def _files(settings: Settings, register: str, table: str) -> str:
    return str(settings.registers_dir / register / table / "**" / "*.parquet")


def expected(settings: Settings) -> list[tuple[int, int, int, int | None]]:
    """(aargang, alder, kjonn, antall_kontakter) of every person-year, sorted, by plain SQL."""
    con = duckdb.connect()
    ids = pq.read_table(settings.keyholder_dir / "identities.parquet").column("fnr")
    keys = KeyStore.open(settings)
    con.register("persons", pa.table({r: pseudonymise(ids, keys.key(r)) for r in ("iplos", "kpr")}))
    for reg in ("iplos", "kpr"):
        for t in ("person", "tjeneste"):
            con.execute(
                f"CREATE VIEW {reg}_{t} AS SELECT * FROM read_parquet('{_files(settings, reg, t)}', "
                "hive_partitioning=true)"
            )
    con.execute(
        f"CREATE VIEW kontakt AS SELECT * FROM read_parquet('{_files(settings, 'kpr', 'kontakt')}', "
        "hive_partitioning=true)"
    )
    sql = """
    WITH pop AS (
        SELECT k.iplos AS ps_iplos, k.kpr AS ps_kpr, p.aargang, p.fodselsaar, p.kjonn FROM iplos_person p
        JOIN persons k ON k.iplos = p.pseudonym WHERE p.aargang BETWEEN 2015 AND 2017
          AND EXISTS (SELECT 1 FROM iplos_tjeneste t WHERE t.pseudonym = p.pseudonym
                      AND t.aargang = p.aargang AND t.tjeneste = 15)
        UNION ALL
        SELECT k.iplos, k.kpr, p.aargang, p.fodselsaar, p.kjonn FROM kpr_person p
        JOIN persons k ON k.kpr = p.pseudonym WHERE p.aargang BETWEEN 2018 AND 2019
          AND EXISTS (SELECT 1 FROM kpr_tjeneste t WHERE t.pseudonym = p.pseudonym
                      AND t.aargang = p.aargang AND t.tjeneste = 15)
    )
    SELECT pop.aargang, pop.aargang - pop.fodselsaar AS alder, pop.kjonn,
           CASE WHEN pop.aargang >= 2017 THEN coalesce(
               (SELECT sum(c.antall_kontakter) FROM kontakt c
                WHERE c.pseudonym = pop.ps_kpr AND c.aargang = pop.aargang), 0) END
    FROM pop WHERE pop.aargang - pop.fodselsaar >= 67 ORDER BY ALL
    """
    return [tuple(r) for r in con.execute(sql).fetchall()]  # type: ignore[misc]


def test_request_across_2017_reads_iplos_then_kpr_and_kprs_contacts(across: Settings) -> None:
    with connect(across) as engine:
        extract = link(engine, KeyStore.open(across), kpr_request(), seed=b"k" * 32)
    table = extract.table
    assert table.column_names == ["lopenr", "aargang", "alder", "kjonn", "antall_kontakter"]
    got = sorted(
        zip(
            *(table.column(c).to_pylist() for c in ("aargang", "alder", "kjonn", "antall_kontakter")),
            strict=True,
        )
    )
    want = expected(across)
    assert got == want
    assert {r[0] for r in got} == set(YEARS)  # every årgang, the KPR ones included
    assert all(r[3] is None for r in got if r[0] < 2017)  # no KPR before 2017
    assert sum(r[3] > 0 for r in got if r[0] >= 2017) > 0.5 * sum(r[0] >= 2017 for r in got)
    registers = {(c.register, c.aargang) for c in extract.report.counts}
    assert ("iplos", 2017) in registers and ("kpr", 2018) in registers and ("kpr", 2017) not in registers


def test_the_person_year_table_of_several_tables_carries_kprs_contacts(across: Settings) -> None:
    request = kpr_request()
    with connect(across) as engine:
        single = link(engine, KeyStore.open(across), request, seed=b"k" * 32)
        tables = link_tables(engine, KeyStore.open(across), request, seed=b"k" * 32)
    person_year = tables.tables["person_year"]
    assert "antall_kontakter" in person_year.column_names
    order = [("lopenr", "ascending"), ("aargang", "ascending")]
    assert person_year.sort_by(order).equals(single.table.sort_by(order))


def test_kprs_contacts_need_kprs_approval_even_for_iplos_years() -> None:
    request = LinkageRequest.build("C-16", (2016, 2017), VARIABLES, approvals=("iplos",))
    assert request.registers == ("iplos", "kpr")
    assert request.kontakt_years == (2017,)
    with pytest.raises(IplosError, match="missing: kpr"):
        link(None, KeyStore(), request)  # type: ignore[arg-type]


def test_only_the_number_of_contacts_is_read_from_kpr_kontakt() -> None:
    ref = VariableRef.parse("kpr.kontakt.hyppigste_diagnose")
    assert (ref.register, ref.table) == ("kpr", "kontakt")
    assert VariableRef.parse("kpr.person.kjonn").register == "iplos"  # KPR's IPLOS part
    request = LinkageRequest.build("C-16", (2018,), ["iplos.person.kjonn", ref], approvals=("kpr",))
    with pytest.raises(IplosError, match=r"antall_kontakter of kpr\.kontakt only"):
        link(None, KeyStore(), request)  # type: ignore[arg-type]


@pytest.mark.spark
@pytest.mark.spark_cluster
def test_cluster_links_the_same_extract_across_2017(across: Settings, spark_cluster: Any) -> None:
    seed = b"same-seed-for-duckdb-and-cluster"
    keys = KeyStore.open(across)
    with connect(across, backend="duckdb") as engine:
        duck = link(engine, keys, kpr_request(), seed=seed)
    with connect(across, backend="spark", spark_session=spark_cluster) as engine:
        cluster = link(engine, keys, kpr_request(), seed=seed)
    assert cluster.report.backend == "spark" and duck.report.rows > 100
    assert cluster.table.schema.equals(duck.table.schema), (cluster.table.schema, duck.table.schema)
    assert parquet_bytes(cluster.table) == parquet_bytes(duck.table)
    assert cluster.report.counts == duck.report.counts
