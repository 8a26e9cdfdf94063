"""Several tables keyed by the same lopenr: person, person-year, service spells, cause of death."""

from __future__ import annotations

import datetime as dt

from linkage_fixtures import SmallRegisters

from iplos.engine import connect
from iplos.linkage import LinkageRequest, Population, ServiceFilter, link_tables

VARIABLES = [
    "iplos.person.fodselsaar",
    "iplos.person.kjonn",
    "iplos.person.kommune",
    "iplos.tjeneste.tjeneste",
    "iplos.tjeneste.startdato",
    "iplos.tjeneste.sluttdato",
    "iplos.tjeneste.timer_per_uke",
    "dar.dodsfall.dodsdato",
    "dar.dodsfall.underliggende_dodsarsak",
]


def test_tables_share_the_serial_numbers(small_session: SmallRegisters) -> None:
    small = small_session
    pop = Population(min_age=80, services=(ServiceFilter(frozenset({15})),))
    request = LinkageRequest.build("C-tab", small.years, VARIABLES, pop, approvals=("iplos", "dar"))
    with connect(small.settings) as engine:
        linked = link_tables(engine, small.keys, request, seed=b"t" * 32)
    t = linked.tables
    assert set(t) == {"person", "person_year", "service_spells", "cause_of_death"}
    assert t["person"].column_names == ["lopenr", "fodselsaar", "kjonn"]
    assert t["service_spells"].column_names[0] == "lopenr"
    assert {"startdato", "sluttdato", "timer_per_uke", "tjeneste"} <= set(t["service_spells"].column_names)
    assert (
        "startdato" not in t["person_year"].column_names and "dodsdato" not in t["person_year"].column_names
    )
    everyone = set(t["person_year"].column("lopenr").to_pylist())
    assert set(t["person"].column("lopenr").to_pylist()) == everyone
    assert t["person"].num_rows == len(everyone)
    for name in ("service_spells", "cause_of_death"):
        assert set(t[name].column("lopenr").to_pylist()) <= everyone
    # Expected from the plain facts: persons 80+ in some årgang, known to the key holder.
    known = [
        i
        for i in range(len(small.fnr) - 1)
        if small.in_iplos[i] and any(small.alive_in(i, y) and small.age(i, y) >= 80 for y in small.years)
    ]
    assert len(everyone) == len(known)
    # The small registers record one home-nursing spell per person-year (a new vedtak each year).
    spells = t["service_spells"]
    home = [s for s in spells.column("tjeneste").to_pylist() if s == 15]
    assert len(home) == t["person_year"].num_rows
    deaths = [i for i in known if small.death[i] is not None]
    assert t["cause_of_death"].num_rows == len(deaths)
    assert all(isinstance(d, dt.date) for d in t["cause_of_death"].column("dodsdato").to_pylist())
