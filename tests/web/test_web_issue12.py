"""Issue 12's cases filed through the JSON API as a new user would, reviewed, and linked.

Each application is written by hand as JSON (not from the examples module); the linkage then runs
on a small synthetic register and the extract is checked against a plain DuckDB count over the
register files. The delivery of multi-table extracts (service spells, NPR episodes) comes with the
person-level release path; NPR variables are refused at submission until then, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from web_helpers import Api  # type: ignore[import-not-found]

from iplos.config import Settings
from iplos.delivery._case import linkage_request
from iplos.engine import connect
from iplos.ident import KeyStore, pseudonymise
from iplos.linkage import LinkedExtract, link
from iplos.synth import generate
from iplos.web._pages_public import projects_for

WHY = "needed to describe {} of home nursing recipients for the research question"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("issue12")) / "home")
    generate(
        settings,
        scale=0.003,
        seed=12,
        years=range(2010, 2018),
        kpr_years=range(2017, 2019),
        chunk_persons=5000,
    )
    yield settings


def _content(api: Api, **fields: Any) -> dict[str, Any]:
    today = api.clock().date()
    content: dict[str, Any] = {
        "project": {
            "title": "Hjemmesykepleie blant eldre",
            "summary": "Who receives home nursing, how much, and how it relates to hospital stays.",
            "institution": "Universitetet i Bergen",
            "leader": "Kari Nordmann",
            "members": ["ola"],
            "start": today.isoformat(),
            "end": (today + timedelta(days=900)).isoformat(),
            "funding": "Forskningsrådet 1234",
        },
        "legal_basis": {
            "research": True,
            "rek_reference": "REK vest 2026/77",
            "dpia": "DPIA 2026-01, UiB",
            "gdpr_article6": "6(1)(e)",
            "gdpr_article9": "9(2)(j)",
        },
        "purposes": ["forskning"],
        "recipients": ["Kari Nordmann"],
        "storage_security": "SAFE (UiB), two-factor login",
        "deletion_date": (today + timedelta(days=1200)).isoformat(),
    }
    content.update(fields)
    return content


def _var(name: str, what: str, register: str = "iplos") -> dict[str, Any]:
    return {"name": name, "justification": WHY.format(what), "register": register, "purpose": "forskning"}


def _open(api: Api, content: dict[str, Any] | None, kind: str = "new", base: str | None = None) -> str:
    body: dict[str, Any] = {"kind": kind} | ({"content": content} if content is not None else {})
    if base:
        body["base_case_id"] = base
    response = api.post("kari", "/api/cases", body)
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


def _approve(
    api: Api, cid: str, registers: dict[str, str], levels: dict[str, str] | None = None
) -> dict[str, Any]:
    if api.get("rita", f"/api/cases/{cid}").json()["status"] == "submitted":
        api.command("rita", cid, "start_review")
    case = api.get("rita", f"/api/cases/{cid}").json()
    for v in case["content"]["variables"]:
        key = f"{v['register']}.{v['name']}"
        if key in case["variable_decisions"]:
            continue  # carried over from the base case
        level = (levels or {}).get(v["name"])
        body = {"name": v["name"], "register": v["register"], "outcome": "coarsened" if level else "granted"}
        if level:
            body["level"] = level
        api.command("rita", cid, "decide_variable", body)
    for reg, outcome in registers.items():
        body = {"register": reg, "outcome": outcome}
        body |= (
            {"reference": f"{reg}-ok"} if outcome == "granted" else {"reason": "not approved for these years"}
        )
        api.command("rita", cid, "decide_register", body)
    partly = "denied" in registers.values()
    api.command(
        "rita",
        cid,
        "decide_case",
        {"outcome": "partly_approved" if partly else "approved", "reasons": ["ok"]},
    )
    return api.get("rita", f"/api/cases/{cid}/letter").json()["data"]  # type: ignore[no-any-return]


def _offer_and_accept(api: Api, cid: str) -> None:
    day = (api.clock() + timedelta(days=40)).date().isoformat()
    api.command(
        "sven",
        cid,
        "make_offer",
        {"lines": [{"staff_group": "radgiver", "hours": 5}], "expected_delivery": day},
    )
    api.command("kari", cid, "accept_offer")


def _link(api: Api, synth: Settings, cid: str) -> LinkedExtract:
    request = linkage_request(api.service.get(cid))
    with connect(synth) as engine:
        return link(engine, KeyStore.open(synth), request, seed=b"i" * 32)


def _files(synth: Settings, register: str, table: str) -> str:
    return str(synth.registers_dir / register / table / "**" / "*.parquet")


def _count(synth: Settings, sql: str) -> int:
    con = duckdb.connect()
    for reg, tables in {"iplos": ("person", "tjeneste", "funksjon"), "npr": ("episode",)}.items():
        for t in tables:
            con.execute(
                f"CREATE VIEW {reg}_{t} AS SELECT * FROM read_parquet('{_files(synth, reg, t)}', hive_partitioning=true)"
            )
    ids = pq.read_table(synth.keyholder_dir / "identities.parquet").column("fnr")
    keys = KeyStore.open(synth)
    con.register(
        "persons",
        pa.table({r: pseudonymise(ids, keys.key(r)) for r in ("iplos", "npr")}),
    )
    return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def test_home_nursing_67_plus(api: Api, synth: Settings) -> None:
    population = {"age": {"min_age": 67}, "services": [{"codes": [15]}], "functional_assessment": True}
    variables = [
        _var("fodselsaar", "the age"),
        _var("kjonn", "sex differences"),
        _var("kommune", "regional variation"),
        _var("tjeneste", "the services"),
        _var("timer_per_uke", "the hours"),
        _var("personlig_hygiene", "functional level"),
        _var("innskrivningsdato", "hospital stays", "npr"),
        _var("hoveddiagnose", "hospital diagnoses", "npr"),
    ]
    years = list(range(2010, 2017))
    cid = _open(api, _content(api, population=population, variables=variables[:6], aarganger=years))
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    wrong = api.post(
        "rita",
        f"/api/cases/{cid}/decide_variable",
        {"name": "kommune", "outcome": "coarsened", "level": "sentralitetsklasse"},
    )
    assert wrong.status_code == 409 and "fylke" in wrong.text
    api.command("rita", cid, "return_to_applicant", {"comments": ["Say why the hours are needed."]})
    api.command("kari", cid, "resubmit", {"response": "see the protocol"})
    letter = _approve(api, cid, {"iplos": "granted"}, {"kommune": "fylke", "fodselsaar": "5 years"})
    assert "mottok tjeneste 15 (Helsetjenester i hjemmet) i årgangen" in letter["population"]["nb"]
    assert letter["aarganger"] == years
    _offer_and_accept(api, cid)
    extract = _link(api, synth, cid)
    table = extract.table
    assert min(table.column("alder").to_pylist()) >= 67
    assert set(table.column("aargang").to_pylist()) <= set(years)
    expected = _count(
        synth,
        """SELECT count(*) FROM iplos_person p JOIN persons k ON k.iplos = p.pseudonym
           WHERE p.aargang BETWEEN 2010 AND 2016 AND p.aargang - p.fodselsaar >= 67
           AND EXISTS (SELECT 1 FROM iplos_tjeneste t WHERE t.pseudonym = p.pseudonym
                       AND t.aargang = p.aargang AND t.tjeneste = 15)
           AND EXISTS (SELECT 1 FROM iplos_funksjon f WHERE f.pseudonym = p.pseudonym AND f.aargang = p.aargang)""",
    )
    assert table.num_rows == expected > 0
    assert min(table.column("antall_tjenester").to_pylist()) >= 1  # everyone received a service


def test_stroke_cohort_from_npr(api: Api, synth: Settings) -> None:
    population = {"registers": [{"register": "npr", "variable": "hoveddiagnose", "codes": ["I60-I69"]}]}
    npr = [{"register": "npr", "approval_reference": "NPR 26/10", "purpose": "the stroke cohort"}]
    variables = [_var("fodselsaar", "the age"), _var("tjeneste", "services"), _var("timer_per_uke", "hours")]
    years = [2014, 2015, 2016]
    cid = _open(api, _content(api, population=population, variables=variables, aarganger=years, linkages=npr))
    api.command("kari", cid, "submit")
    letter = _approve(api, cid, {"iplos": "granted", "npr": "granted"})
    assert letter["population"]["en"] == ["an NPR episode with hoveddiagnose in I60-I69 in the period"]
    _offer_and_accept(api, cid)
    extract = _link(api, synth, cid)
    expected = _count(
        synth,
        """SELECT count(*) FROM iplos_person p JOIN persons k ON k.iplos = p.pseudonym
           WHERE p.aargang BETWEEN 2014 AND 2016 AND EXISTS (
             SELECT 1 FROM npr_episode e WHERE e.pseudonym = k.npr AND e.aargang BETWEEN 2014 AND 2016
             AND upper(e.hoveddiagnose) >= 'I60' AND substr(upper(e.hoveddiagnose), 1, 3) <= 'I69')""",
    )
    assert extract.table.num_rows == expected > 0


def test_new_period_with_kpr_denied(api: Api, synth: Settings) -> None:
    variables = [_var("fodselsaar", "the age"), _var("kjonn", "sex differences")]
    population = {"age": {"min_age": 67}}
    base = _open(api, _content(api, population=population, variables=variables, aarganger=[2014, 2015]))
    api.command("kari", base, "submit")
    _approve(api, base, {"iplos": "granted"})
    cid = _open(api, _content(api, aarganger=[2016, 2017, 2018]), kind="new_period", base=base)
    case = api.get("kari", f"/api/cases/{cid}").json()
    assert case["content"]["variables"] == variables and case["content"]["aarganger"] == [2016, 2017, 2018]
    api.command("kari", cid, "submit")
    letter = _approve(api, cid, {"iplos": "granted", "kpr": "denied"})
    assert letter["aarganger"] == [2016, 2017]
    assert letter["withheld_aarganger"] == [{"aargang": 2018, "register": "kpr"}]
    # The public list of approved projects states what was granted, as the letter does.
    public = next(p for p in projects_for(api.service) if p["case_id"] == cid)
    assert (public["first_year"], public["last_year"]) == (2016, 2017)
    _offer_and_accept(api, cid)
    extract = _link(api, synth, cid)
    assert set(extract.table.column("aargang").to_pylist()) == {2016, 2017}


def test_change_application_redecides_only_what_changed(api: Api) -> None:
    variables = [_var("fodselsaar", "the age"), _var("kommune", "regional variation")]
    base = _open(
        api, _content(api, population={"age": {"min_age": 80}}, variables=variables, aarganger=[2015])
    )
    api.command("kari", base, "submit")
    _approve(api, base, {"iplos": "granted"}, {"kommune": "fylke"})
    cid = _open(api, None, kind="change", base=base)  # starts from what the base case approved
    case = api.get("kari", f"/api/cases/{cid}").json()
    changed = {
        **case["content"],
        "variables": [*case["content"]["variables"], _var("husstand", "living alone")],
    }
    api.command("kari", cid, "edit_draft", {"content": changed})
    api.command("kari", cid, "submit")
    api.command("rita", cid, "start_review")
    early = api.post("rita", f"/api/cases/{cid}/decide_case", {"outcome": "approved", "reasons": ["ok"]})
    assert early.status_code == 422
    assert [p["value"] for p in early.json()["problems"]] == ["iplos.husstand"]
    decided = api.get("rita", f"/api/cases/{cid}").json()["variable_decisions"]
    assert decided["iplos.kommune"]["level"] == "fylke"
    api.command("rita", cid, "decide_variable", {"name": "husstand", "outcome": "granted"})
    api.command("rita", cid, "decide_case", {"outcome": "approved", "reasons": ["the change is justified"]})


def test_tables_for_a_municipality(api: Api, synth: Settings) -> None:
    content = _content(
        api,
        output="tables",
        purposes=["planlegging"],
        legal_basis={"research": False, "gdpr_article6": "6(1)(e)", "gdpr_article9": "9(2)(h)"},
        population={"region": {"level": "kommune", "codes": ["4601"], "year": 2020}},
        aarganger=[2016, 2017],
        tables=[
            {
                "name": "mottakere",
                "dimensions": [
                    {"variable": "fodselsaar", "level": "10 years"},
                    {"variable": "kjonn"},
                    {"variable": "kommune", "level": "kommune"},
                ],
                "statistic": "persons",
            }
        ],
    )
    cid = _open(api, content)
    api.command("kari", cid, "submit")  # no DPIA for anonymous tables
    letter = _approve(api, cid, {"iplos": "granted", "kpr": "granted"})
    assert (
        letter["tables"][0]["nb"]
        == "mottakere: antall personer etter fodselsaar (10 years), kjonn, kommune (kommune)"
    )
    _offer_and_accept(api, cid)
    extract = _link(api, synth, cid)
    # Bergen was 1201 until 2019 and 4601 from 2020: these årganger hold it as 1201.
    assert set(extract.table.column("kommune").to_pylist()) == {"1201"}
    assert {"alder", "kjonn"} <= set(extract.table.column_names)


def test_stroke_cohort_tables_keyed_by_lopenr(synth: Settings) -> None:
    """The linkage side of the multi-table extract: NPR episodes and spells join the person-years."""
    from iplos.linkage import LinkageRequest, Population, RecordFilter, link_tables

    pop = Population(records=(RecordFilter("npr", "hoveddiagnose", (("I60", "I69"),)),))
    variables = [
        "iplos.person.fodselsaar",
        "iplos.person.kjonn",
        "iplos.tjeneste.tjeneste",
        "iplos.tjeneste.startdato",
        "iplos.tjeneste.sluttdato",
        "npr.episode.innskrivningsdato",
        "npr.episode.hoveddiagnose",
    ]
    request = LinkageRequest.build("C-stroke", [2014, 2015, 2016], variables, pop, approvals=("iplos", "npr"))
    with connect(synth) as engine:
        t = link_tables(engine, KeyStore.open(synth), request, seed=b"n" * 32).tables
    assert set(t) == {"person", "person_year", "service_spells", "npr_episodes"}
    everyone = set(t["person_year"].column("lopenr").to_pylist())
    assert everyone and set(t["npr_episodes"].column("lopenr").to_pylist()) == everyone
    stroke = {
        n
        for n, d in zip(
            t["npr_episodes"].column("lopenr").to_pylist(),
            t["npr_episodes"].column("hoveddiagnose").to_pylist(),
            strict=True,
        )
        if "I60" <= d.upper()[:3] <= "I69"
    }
    assert stroke == everyone  # every person of the cohort has a stroke episode in the period
    assert set(t["service_spells"].column("lopenr").to_pylist()) <= everyone
