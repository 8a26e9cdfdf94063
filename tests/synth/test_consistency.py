"""Consistency rules hold on every written row: checked by DuckDB queries on the files."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from iplos.catalog.regions import municipalities
from iplos.config import Settings
from iplos.ident import KeyStore, is_valid_array, parse, pseudonymise
from iplos.synth import SynthSummary
from iplos.synth._codes import HOUR_BASED
from iplos.synth._tables import FUNCTION_ITEMS, SCHEMAS


def parquet(settings: Settings, register: str, table: str) -> str:
    """A DuckDB table expression over one register table (with the aargang column)."""
    glob = settings.registers_dir / register / table / "*" / "*.parquet"
    return f"read_parquet('{glob}', hive_partitioning = true)"


CARE = [("calibrated", "iplos"), ("small", "iplos"), ("small", "kpr")]


@pytest.fixture(params=CARE, ids=[f"{a}-{b}" for a, b in CARE])
def care(request: pytest.FixtureRequest) -> tuple[Settings, str]:
    settings, _ = request.getfixturevalue(request.param[0])
    return settings, request.param[1]


def _count(sql: str) -> int:
    return int(duckdb.execute(sql).fetchall()[0][0])


def test_dates_in_order(care: tuple[Settings, str]) -> None:
    s, r = care
    t = parquet(s, r, "tjeneste")
    assert _count(f"select count(*) from {t}") > 0
    assert _count(f"select count(*) from {t} where vedtaksdato is null or startdato is null") == 0
    assert _count(f"select count(*) from {t} where vedtaksdato > startdato or startdato > sluttdato") == 0
    # A period overlaps its årgang, and an end is shown only once it has happened.
    assert _count(f"select count(*) from {t} where startdato > make_date(aargang::int, 12, 31)") == 0
    assert _count(f"select count(*) from {t} where sluttdato < make_date(aargang::int, 1, 1)") == 0
    assert _count(f"select count(*) from {t} where sluttdato > make_date(aargang::int, 12, 31)") == 0


def test_no_service_after_death(care: tuple[Settings, str]) -> None:
    s, r = care
    t, p = parquet(s, r, "tjeneste"), parquet(s, r, "person")
    assert _count(f"select count(*) from {p} where dodsdato is not null") > 0
    assert (
        _count(f"""select count(*) from {t} t join {p} p using (pseudonym, aargang)
                      where p.dodsdato is not null
                      and (t.startdato > p.dodsdato or t.sluttdato is null or t.sluttdato > p.dodsdato)""")
        == 0
    )
    assert (
        _count(f"""select count(*) from {p} a join {p} b using (pseudonym)
                      where a.dodsdato is not null and b.aargang > a.aargang""")
        == 0
    )
    assert _count(f"select count(*) from {p} where year(dodsdato) <> aargang") == 0
    assert _count(f"select count(*) from {t} t anti join {p} p using (pseudonym, aargang)") == 0


def test_hours_only_on_hour_based_services(care: tuple[Settings, str]) -> None:
    s, r = care
    t = parquet(s, r, "tjeneste")
    hourly = ", ".join(str(c) for c in sorted(HOUR_BASED))
    assert (
        _count(f"select count(*) from {t} where tjeneste not in ({hourly}) and timer_per_uke is not null")
        == 0
    )
    assert _count(f"select count(*) from {t} where tjeneste in ({hourly}) and timer_per_uke is null") == 0
    assert _count(f"select count(*) from {t} where timer_per_uke < 0 or timer_per_uke > 168") == 0
    assert (
        _count(f"select count(*) from {t} where not regexp_full_match(leverandor_orgnr, '[89][0-9]{{8}}')")
        == 0
    )


def test_functional_scores_and_codes(care: tuple[Settings, str]) -> None:
    s, r = care
    f, p, d = parquet(s, r, "funksjon"), parquet(s, r, "person"), parquet(s, r, "diagnose")
    bad = " or ".join(f"{item} not in (1, 2, 3, 4, 5, 9)" for item in FUNCTION_ITEMS)
    assert _count(f"select count(*) from {f} where {bad}") == 0
    assert _count(f"select count(*) from {f} where year(vurderingsdato) <> aargang") == 0
    assert _count(f"select count(*) from {p} where kjonn not in (1, 2) or husstand not in (1, 2, 3)") == 0
    assert (
        _count(f"select count(*) from {p} where individuell_plan not in (1, 2) or koordinator not in (1, 2)")
        == 0
    )
    assert _count(f"select count(*) from {p} where bydel is not null and left(bydel, 4) <> kommune") == 0
    assert (
        _count(f"select count(*) from (select pseudonym, aargang from {p} group by all having count(*) > 1)")
        == 0
    )
    assert _count(f"select count(*) from {d} where kodeverk not in ('ICD10', 'ICPC2')") == 0
    assert _count(f"select count(*) from {d} where diagnosedato > make_date(aargang::int, 12, 31)") == 0


def test_kommune_valid_in_each_aargang(care: tuple[Settings, str]) -> None:
    s, r = care
    rows = duckdb.execute(f"select distinct aargang, kommune from {parquet(s, r, 'person')}").fetchall()
    valid = {y: {m.code for m in municipalities(int(y))} for y in {y for y, _ in rows}}
    assert [(y, k) for y, k in rows if k not in valid[y]] == []


def test_files_match_the_register_contract(small: tuple[Settings, SynthSummary]) -> None:
    s, _ = small
    for (register, table), schema in SCHEMAS.items():
        registers = ["iplos", "kpr"] if register == "care" else [register]
        for reg in registers:
            files = sorted((s.registers_dir / reg / table).glob("aargang=*/part-*.parquet"))
            assert files, (reg, table)
            for path in files:
                assert pq.read_schema(path).remove_metadata() == schema, path  # aargang is not stored
    assert not [p for p in s.registers_dir.rglob(".*") if p.name != ".lock"]  # no staging folder left


def test_pseudonyms_per_register_and_identities(small: tuple[Settings, SynthSummary]) -> None:
    s, summary = small
    fnr = pq.read_table(s.keyholder_dir / "identities.parquet").column("fnr")
    assert len(fnr) == summary.persons == len(set(fnr.to_pylist()))
    assert is_valid_array(fnr, kinds=frozenset({"fnr", "dnr"}), allow_2032=False).all()
    kinds = {parse(v).kind for v in fnr.to_pylist()[::7]}
    assert kinds == {"fnr", "dnr"}
    keys = KeyStore.load(s.key_path)
    assert set(keys.registers) == {"iplos", "kpr", "dar", "npr", "ssb"}
    key_text = s.key_path.read_text(encoding="utf-8")
    assert json.loads(key_text)["version"] == 1
    mapped = {r: dict(zip(pseudonymise(fnr.to_pylist(), keys.key(r)), fnr.to_pylist(), strict=True))
              for r in keys.registers}  # fmt: skip
    tables = {"iplos": "person", "kpr": "person", "dar": "dodsfall", "npr": "episode", "ssb": "befolkning"}
    seen: dict[str, set[str]] = {}
    for register, table in tables.items():
        values = set(
            pq.read_table(s.registers_dir / register / table, columns=["pseudonym"]).column(0).to_pylist()
        )
        assert values <= set(mapped[register]), register  # every pseudonym is a person the key holder knows
        seen[register] = values
    # The same person has a different pseudonym in every register; linkage needs the key holder.
    for a in seen:
        for b in seen:
            if a < b:
                assert not seen[a] & seen[b], (a, b)
    both = {mapped["iplos"][v] for v in seen["iplos"]} & {mapped["kpr"][v] for v in seen["kpr"]}
    assert len(both) > 100  # the 2017 årgang is in both registers, same persons
    # Deaths agree across registers: the person table's dodsdato is the cause-of-death register's.
    dar = pq.read_table(s.registers_dir / "dar" / "dodsfall").to_pylist()
    dar_by_fnr = {mapped["dar"][row["pseudonym"]]: row["dodsdato"] for row in dar}
    rows = pq.read_table(s.registers_dir / "kpr" / "person", columns=["pseudonym", "dodsdato"]).to_pylist()
    person = [row for row in rows if row["dodsdato"] is not None]
    assert len(person) > 100
    for row in person:
        assert dar_by_fnr[mapped["kpr"][row["pseudonym"]]] == row["dodsdato"]


def test_persons_persist_and_move_keeping_the_pseudonym(small: tuple[Settings, SynthSummary]) -> None:
    s, _ = small
    p = parquet(s, "kpr", "person")
    assert _count(f"select count(*) from (select pseudonym from {p} group by 1 having count(*) = 4)") > 1000
    moved = _count(
        f"select count(distinct pseudonym) from (select pseudonym from {p} group by 1 having count(distinct kommune) > 1)"
    )
    assert moved > 50  # moves and the 2018/2020 reforms change kommune, never the pseudonym


def test_heavier_care_with_age(calibrated: tuple[Settings, SynthSummary]) -> None:
    s, _ = calibrated
    p, t, f = parquet(s, "iplos", "person"), parquet(s, "iplos", "tjeneste"), parquet(s, "iplos", "funksjon")
    rows = duckdb.execute(f"""
        with g as (select pseudonym, aargang, case when aargang - fodselsaar < 67 then 0
                          when aargang - fodselsaar < 80 then 1 else 2 end as band from {p}),
        n as (select pseudonym, aargang, count(*) as k, max((tjeneste = 21)::int) as lt from {t} group by all),
        s as (select pseudonym, aargang, avg(personlig_hygiene) as hyg from {f} where personlig_hygiene < 9 group by all)
        select band, avg(k), avg(lt), avg(hyg), avg((k > 1)::int) from g join n using (pseudonym, aargang)
        left join s using (pseudonym, aargang) group by band order by band
    """).fetchall()  # fmt: skip
    services = [r[1] for r in rows]
    long_term = [r[2] for r in rows]
    scores = [r[3] for r in rows]
    assert services == sorted(services) and services[2] > services[0] + 0.5
    assert long_term == sorted(long_term) and long_term[2] > 5 * long_term[0]
    assert scores == sorted(scores)
    assert rows[2][4] > 0.5  # most old recipients have several services


def test_living_alone_about_half_of_those_at_home(calibrated: tuple[Settings, SynthSummary]) -> None:
    s, _ = calibrated
    p = parquet(s, "iplos", "person")
    share = _count(f"select 1000 * avg((husstand = 1)::int) from {p} where aargang - fodselsaar >= 18")
    assert 400 < share < 650
    young = _count(f"select 1000 * avg((husstand = 3)::int) from {p} where aargang - fodselsaar < 18")
    assert young > 900


def test_small_kommuner_stay_small(calibrated: tuple[Settings, SynthSummary]) -> None:
    s, _ = calibrated
    rows = duckdb.execute(
        f"select kommune, count(*) from {parquet(s, 'iplos', 'person')} where aargang = 2009 group by 1"
    ).fetchall()
    counts = dict(rows)
    assert counts["0301"] > 20 * np.median(list(counts.values()))  # Oslo is large, most kommuner tiny
    assert len(counts) > 300
