"""Extracts shaped like research data: several tables keyed by the same `lopenr`.

`link_tables(engine, keys, request)` links an approved request into up to six tables, each holding
only what the request grants:

| table | key | one row per | columns (when granted) |
|---|---|---|---|
| person | lopenr | person | fodselsaar, kjonn, dodsdato (static) |
| person_year | lopenr, aargang | person and årgang of the population | as `link` (alder, kommune, husstand, functional scores, services, SSB data) |
| service_spells | lopenr | service period (vedtak) | tjeneste, vedtaksdato, startdato, sluttdato, timer_per_uke |
| diagnoses | lopenr | IPLOS diagnosis | kodeverk, kode, diagnosedato |
| npr_episodes | lopenr | NPR episode in the årganger | innskrivningsdato, utskrivningsdato, hoveddiagnose, helseforetak |
| cause_of_death | lopenr | death | dodsdato, underliggende_dodsarsak |

Every table covers the persons of the population only (a spell or a diagnosis of a person-year in
the population; an episode of a person in it); the serial numbers are drawn once for all tables, so
they join on `lopenr`. Generalisation and the person-level release gate come after, in the release path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from iplos.engine import Engine
from iplos.ident import KeyStore
from iplos.linkage._extract import LinkedExtract
from iplos.linkage._keyholder import PERSON, key_map, work_folder
from iplos.linkage._link import _refuse_unapproved, finish_extract, person_years
from iplos.linkage._query import first_per_person, keyed, output_columns
from iplos.linkage._request import KONTAKT, LinkageRequest, VariableRef, base_register
from iplos.linkage._serial import draw_serial_numbers

STATIC = ("fodselsaar", "kjonn", "dodsdato")
SPELL_KEY = ("tjeneste", "vedtaksdato", "startdato")
TABLE_KEYS: Mapping[str, tuple[str, ...]] = {
    "person": ("lopenr",),
    "person_year": ("lopenr", "aargang"),
    "service_spells": ("lopenr",),
    "diagnoses": ("lopenr",),
    "npr_episodes": ("lopenr",),
    "cause_of_death": ("lopenr",),
}
"""The key of each table; every table joins every other on `lopenr`."""


@dataclass(frozen=True)
class LinkedTables:
    """The tables of one linkage (name -> Arrow table), all keyed by this delivery's `lopenr`."""

    case_id: str
    tables: Mapping[str, pa.Table]

    @property
    def serial_numbers(self) -> frozenset[int]:
        return frozenset(int(v) for t in self.tables.values() for v in t.column("lopenr").to_pylist())


def person_year_request(request: LinkageRequest) -> LinkageRequest:
    """The request's variables the person-year table carries (dates of spells and registers go elsewhere)."""
    keep = [
        v
        for v in request.variables
        if (v.register == "iplos" and v.table in ("person", "funksjon"))
        or (v.register == "iplos" and v.table == "tjeneste" and v.column in ("tjeneste", "timer_per_uke"))
        or v.register == "ssb"
        or (v.register, v.table) == KONTAKT
    ]
    if not keep:  # the population rows still define who is in every table
        keep = [VariableRef("iplos", "person", "kjonn")]
    return replace(request, variables=tuple(keep))


def link_tables(
    engine: Engine,
    keys: KeyStore,
    request: LinkageRequest,
    *,
    exclude_serials: Iterable[int] = (),
    seed: bytes | None = None,
) -> LinkedTables:
    """Link an approved request into the tables keyed by `lopenr` (see the module's table)."""
    extract, others = link_extract_and_tables(
        engine, keys, request, exclude_serials=exclude_serials, seed=seed
    )
    key = TABLE_KEYS["person_year"]
    py = extract.table
    order = [(c, "ascending") for c in (*key, *(c for c in py.column_names if c not in key))]
    return LinkedTables(request.case_id, {"person_year": py.sort_by(order), **others.tables})


def link_extract_and_tables(
    engine: Engine,
    keys: KeyStore,
    request: LinkageRequest,
    *,
    exclude_serials: Iterable[int] = (),
    seed: bytes | None = None,
) -> tuple[LinkedExtract, LinkedTables]:
    """One linkage for every table: the person-year extract (as `link` of `person_year_request`, with
    its linkage report) and the other tables, all from one population and one draw of serial numbers.
    """
    _refuse_unapproved(request)
    py_request = person_year_request(request)
    outputs = output_columns(py_request)
    out: dict[str, ir.Table] = {}
    with (
        key_map(engine, keys, request.registers) as mapping,
        work_folder(engine.settings.keyholder_dir) as work,
    ):
        linked = person_years(engine, mapping, py_request, outputs, work)
        persons = linked.persons
        spell_cols = request.columns("iplos", "tjeneste")
        diag_cols = request.columns("iplos", "diagnose")
        static_cols = [c for c in STATIC if c in request.columns("iplos", "person")]
        static: list[ir.Table] = []
        spells: list[ir.Table] = []
        diagnoses: list[ir.Table] = []
        for register, pop in linked.populations.items():
            years = [y for y in request.years if base_register(y) == register]
            known = pop.filter(pop[PERSON].notnull()).select("pseudonym", "aargang", PERSON)
            if static_cols:
                static.append(pop.filter(pop[PERSON].notnull()).select(PERSON, *static_cols))
            if spell_cols:
                t = engine.table(register, "tjeneste", aargang=years)
                cols = tuple(dict.fromkeys((*SPELL_KEY, *spell_cols)))
                spells.append(t.join(known, ["pseudonym", "aargang"]).select(PERSON, *cols))
            if diag_cols:
                d = engine.table(register, "diagnose", aargang=years)
                diagnoses.append(d.join(known, ["pseudonym", "aargang"]).select(PERSON, *diag_cols))
        if static:
            s = _union(static)
            out["person"] = s.group_by(PERSON).aggregate(**{c: s[c].max() for c in static_cols})
        if spells:
            # A spell overlapping several årganger is reported in each: one row per spell.
            out["service_spells"] = _union(spells).distinct()
        if diagnoses:
            out["diagnoses"] = _union(diagnoses).distinct()
        npr_cols = request.columns("npr", "episode")
        if npr_cols:
            e = keyed(engine.table("npr", "episode", aargang=list(request.years)), mapping, "npr", persons)
            out["npr_episodes"] = e.select(PERSON, *npr_cols)
        dar_cols = request.columns("dar", "dodsfall")
        if dar_cols:
            d = first_per_person(keyed(engine.table("dar", "dodsfall"), mapping, "dar", persons), "dodsdato")
            out["cause_of_death"] = d.select(PERSON, *dar_cols)
        extract_rows = engine.to_arrow(linked.extract)
        result = {name: engine.to_arrow(expr) for name, expr in out.items()}
    people = np.unique(extract_rows.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64))
    serial = draw_serial_numbers(len(people), seed=seed, exclude=exclude_serials)
    extract = finish_extract(extract_rows, py_request, outputs, linked.counts, people, serial, engine.backend)
    tables = {name: _serialised(t, people, serial, TABLE_KEYS[name]) for name, t in result.items()}
    return extract, LinkedTables(request.case_id, tables)


def _union(parts: list[ir.Table]) -> ir.Table:
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part)
    return out


def _serialised(table: pa.Table, people: np.ndarray, serial: np.ndarray, key: tuple[str, ...]) -> pa.Table:
    """Replace `person` by `lopenr` (the same number in every table) and sort by the key."""
    persons = table.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64)
    idx = np.searchsorted(people, persons)
    lopenr = pa.array(serial[idx], type=pa.int32())
    out = table.drop_columns([PERSON])
    out = out.add_column(0, "lopenr", lopenr)
    order = [(c, "ascending") for c in (*key, *(c for c in out.column_names if c not in key))]
    return out.sort_by(order)
