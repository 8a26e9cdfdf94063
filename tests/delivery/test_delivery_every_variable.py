"""Granted = delivered: every requestable catalogue variable at every deliverable level, in one case
per group of variables and level (each quasi-identifier held at that level, or its coarsest when it
has fewer). The groups keep each case's quasi-identifiers few enough for the search's measures to
encode their combined domain in 64 bits (a case asking for a dozen dates at day level cannot be searched).

The criteria here are k=1 (no protection): this test is about what the files carry, not about
disclosure control, which the other delivery tests check with real criteria.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from iplos.cases import CaseService, LinkageRequest, Population, VariableRequest
from iplos.cases.examples import Cast, drive, example_application
from iplos.catalog import deliverables
from iplos.config import Settings
from iplos.delivery._formats import FORMATS, read_data_file
from iplos.delivery._process import Processor
from iplos.release import Criteria
from iplos.synth import generate

YEARS = (2016, 2017)
TABLE_OF = {
    ("iplos", "diagnose"): "diagnoses",
    ("npr", "episode"): "npr_episodes",
    ("dar", "dodsfall"): "cause_of_death",
}
SPELL_DATES = ("vedtaksdato", "startdato", "sluttdato")
WANTED = [d for d in deliverables() if d.register != "kpr"]  # KPR's tables are read as IPLOS's
LEVELS = max(len(d.levels) for d in WANTED)
PY_DATES = ("lege_vurdert_dato", "tannhelse_vurdert_dato", "vurderingsdato")


def _group(d: object) -> str:
    name, table, register = d.name, d.table, d.register  # type: ignore[attr-defined]
    if register in ("npr", "dar"):
        return "linked"
    if table == "diagnose":
        return "diagnoses"
    if table == "tjeneste":
        return "spells"
    return "dates" if name in PY_DATES else "person_year"


GROUPS = sorted({_group(d) for d in WANTED})


def _table(d: object) -> str:
    register, table, name = d.register, d.table, d.name  # type: ignore[attr-defined]
    if (register, table) in TABLE_OF:
        return TABLE_OF[(register, table)]
    return "service_spells" if table == "tjeneste" and name in SPELL_DATES else "extract"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, CaseService]]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("every")) / "home")
    generate(
        settings,
        scale=0.002,
        seed=3,
        years=range(2015, 2018),
        kpr_years=range(2017, 2018),
        chunk_persons=5000,
    )
    service = CaseService.from_settings(settings)
    yield settings, service
    service.close()


def test_the_groups_cover_every_deliverable_variable() -> None:
    assert sum(1 for g in GROUPS for d in WANTED if _group(d) == g) == len(WANTED) > 40


@pytest.mark.parametrize("index", range(LEVELS))
@pytest.mark.parametrize("group", GROUPS)
def test_every_variable_is_delivered_at_every_level(
    world: tuple[Settings, CaseService], group: str, index: int
) -> None:
    settings, service = world
    cast = Cast()
    why = "needed for the study of every variable the register offers, level by level"
    mine = [d for d in WANTED if _group(d) == group]
    if not any(d.name == "fodselsaar" for d in mine):
        mine.append(next(d for d in WANTED if d.name == "kjonn"))
    variables = tuple(VariableRequest(d.name, why, d.register, "forskning") for d in mine)
    linked = sorted({d.register for d in mine} - {"iplos"})
    content = dataclasses.replace(
        example_application(service.now().date()),
        variables=variables,
        aarganger=YEARS,
        population=Population(everyone=True),
        linkages=tuple(LinkageRequest(r, f"{r.upper()} ref", "every variable") for r in linked),
    )
    case = drive(service, "accepted", cast, application=content)
    probe = Processor(settings, service, cast.processor)
    _, setup, _ = probe.link_all(case)
    # Each quasi-identifier at this level (its coarsest when it has fewer; never finer than the
    # reviewer's coarsening: the standard review puts fodselsaar at 5 years and kommune at fylke).
    numbers = {
        q.column: max(min(index, setup.hierarchies[q.column].height - 1), q.min_level)
        for q in setup.quasi_identifiers
        if q.column not in ("aargang", "_tabell")
    }
    levels = {c: setup.hierarchies[c].level_names[n] for c, n in numbers.items()}
    processor = Processor(
        settings, service, cast.processor, criteria=Criteria(k=1), min_levels=levels, max_levels=levels
    )
    assert processor.next_step(case.case_id).action == "proposed"
    service.agree_anonymisation(case.case_id, cast.applicant)
    done = processor.next_step(case.case_id)
    assert done.delivered is not None
    folder = done.delivered.path
    book = json.loads((folder / "codebook.json").read_text(encoding="utf-8"))
    entries = {(t["table"], v["name"]): v for t in book["tables"] for v in t["variables"]}
    for d in mine:
        stem = _table(d)
        table = "person_year" if stem == "extract" else stem
        entry = entries.get((table, d.column))
        assert entry is not None, (d.register, d.table, d.name, table)
        if d.levels:
            stacked = d.column if stem == "extract" else f"{stem}.{d.column}"
            assert entry["level"] == numbers[stacked], (d.name, entry["generalization"])
        for fmt in FORMATS:
            assert d.column in read_data_file(folder / f"{stem}.{fmt}").columns, (d.name, fmt)
