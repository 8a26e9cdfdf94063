"""KPR's contacts (`kpr.kontakt`): everyone with a municipal health contact, many more than care recipients."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.parquet as pq

from iplos.catalog import catalog
from iplos.catalog.regions import municipalities
from iplos.config import Settings
from iplos.ident import KeyStore, pseudonymise
from iplos.synth import SynthSummary
from iplos.synth._contacts import CONTACT_SCHEMA, contact_share


def parquet(s: Settings, table: str) -> str:
    return f"read_parquet('{s.registers_dir}/kpr/{table}/*/*.parquet', hive_partitioning=true)"


def test_schema_is_the_catalogues(small: tuple[Settings, SynthSummary]) -> None:
    s, _ = small
    assert tuple(CONTACT_SCHEMA.names) == catalog().columns("kpr", "kontakt")
    files = sorted((s.registers_dir / "kpr" / "kontakt").glob("aargang=*/part-*.parquet"))
    assert {f.parent.name for f in files} == {f"aargang={y}" for y in range(2017, 2021)}
    for path in files:
        assert pq.read_schema(path).remove_metadata() == CONTACT_SCHEMA, path
    assert not [p for p in (s.registers_dir / "kpr").rglob(".*") if p.name != ".lock"]  # locks stay


def test_kpr_volumes_are_residents_with_any_contact(small: tuple[Settings, SynthSummary]) -> None:
    s, summary = small
    per_year = dict(
        duckdb.sql(
            f"select aargang, count(distinct pseudonym) from {parquet(s, 'kontakt')} group by 1"
        ).fetchall()
    )
    care = dict(duckdb.sql(f"select aargang, count(*) from {parquet(s, 'person')} group by 1").fetchall())
    for year, persons in per_year.items():
        # About four in five of Norway's ~5.3 million residents at scale 0.01: ten times the care recipients.
        assert 38_000 < persons < 48_000, (year, persons)
        assert persons > 8 * care[year]
    assert summary.rows["kpr.kontakt"] == sum(
        n for (n,) in duckdb.sql(f"select count(*) from {parquet(s, 'kontakt')}").fetchall()
    )


def test_every_care_recipient_has_contacts(small: tuple[Settings, SynthSummary]) -> None:
    s, _ = small
    missing = duckdb.sql(
        f"select count(*) from {parquet(s, 'person')} p anti join {parquet(s, 'kontakt')} k "
        "using (pseudonym, aargang)"
    ).fetchall()[0][0]
    assert missing == 0


def test_rows_are_consistent(small: tuple[Settings, SynthSummary]) -> None:
    s, _ = small
    bad = duckdb.sql(
        f"""select count(*) filter (where siste_kontakt < forste_kontakt),
                   count(*) filter (where year(forste_kontakt) <> aargang or year(siste_kontakt) <> aargang),
                   count(*) filter (where antall_kontakter < 1 or kontakttype not between 1 and 5),
                   count(*) filter (where antall_kontakter = 1 and siste_kontakt <> forste_kontakt),
                   count(*) - count(distinct (pseudonym, aargang, kontakttype))
            from {parquet(s, "kontakt")}"""
    ).fetchall()[0]
    assert bad == (0, 0, 0, 0, 0)
    rows = duckdb.sql(f"select distinct aargang, kommune from {parquet(s, 'kontakt')}").fetchall()
    valid = {y: {m.code for m in municipalities(int(y))} for y in {y for y, _ in rows}}
    assert [(y, k) for y, k in rows if k not in valid[y]] == []
    codes = {c.code for c in catalog().codelist("kontakttype").codes}
    found = {
        str(k) for (k,) in duckdb.sql(f"select distinct kontakttype from {parquet(s, 'kontakt')}").fetchall()
    }
    assert found == codes


def test_contacts_link_through_the_key_holder(small: tuple[Settings, SynthSummary]) -> None:
    s, summary = small
    fnr = pq.read_table(s.keyholder_dir / "identities.parquet").column("fnr").to_pylist()
    assert len(fnr) == summary.persons == len(set(fnr))
    known = set(pseudonymise(fnr, KeyStore.load(s.key_path).key("kpr")))
    seen = set(
        pq.read_table(s.registers_dir / "kpr" / "kontakt", columns=["pseudonym"]).column(0).to_pylist()
    )
    assert seen <= known


def test_contact_share_by_age() -> None:
    share = contact_share(np.array([0, 5, 6, 17, 30, 70, 95]))
    assert share.tolist() == [0.97, 0.97, 0.70, 0.70, 0.75, 0.93, 0.97]
