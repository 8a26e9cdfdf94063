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
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.linkage._keyholder import PERSON, mapping_file
from iplos.linkage._link import _base_part, _linked_part, with_contacts
from iplos.linkage._query import first_per_person, keyed, output_columns
from iplos.linkage._request import (
    KONTAKT,
    LINKABLE,
    LinkageRequest,
    VariableRef,
    base_register,
    check_approvals,
)
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
    person_year: bool = True,
) -> LinkedTables:
    """Link an approved request into the tables keyed by `lopenr` (see the module's table).

    Without `person_year` that table is not materialised (the caller links it with `link` under
    the same `seed`, which draws the same serial numbers for the same persons).
    """
    missing = check_approvals(request)
    if missing:
        raise IplosError(
            f"case {request.case_id}: linkage needs a recorded approval for every register involved; "
            f"missing: {', '.join(missing)}"
        )
    py_request = person_year_request(request)
    outputs = output_columns(py_request)
    out: dict[str, ir.Table] = {}
    with mapping_file(engine.settings.keyholder_dir, keys, request.registers) as path:
        mapping = engine.read_file(path)
        rows: ir.Table | None = None
        spells: ir.Table | None = None
        diagnoses: ir.Table | None = None
        static: ir.Table | None = None
        spell_cols = request.columns("iplos", "tjeneste")
        diag_cols = request.columns("iplos", "diagnose")
        static_cols = [c for c in STATIC if c in request.columns("iplos", "person")]
        for register in request.base_registers:
            years = [y for y in request.years if base_register(y) == register]
            part, _, pop = _base_part(engine, mapping, py_request, register, outputs)
            rows = part if rows is None else rows.union(part)
            if static_cols:
                person = engine.table(register, "person", aargang=years)
                s = keyed(
                    person.semi_join(pop, ["pseudonym", "aargang"]).select("pseudonym", *static_cols),
                    mapping,
                    register,
                )
                static = s if static is None else static.union(s)
            if spell_cols:
                t = engine.table(register, "tjeneste", aargang=years).semi_join(pop, ["pseudonym", "aargang"])
                cols = tuple(dict.fromkeys((*SPELL_KEY, *spell_cols)))
                s = keyed(t.select("pseudonym", *cols), mapping, register)
                spells = s if spells is None else spells.union(s)
            if diag_cols:
                d = engine.table(register, "diagnose", aargang=years).semi_join(pop, ["pseudonym", "aargang"])
                s = keyed(d.select("pseudonym", *diag_cols), mapping, register)
                diagnoses = s if diagnoses is None else diagnoses.union(s)
        assert rows is not None
        persons = rows.select(PERSON).distinct()
        for register in py_request.linked_registers:
            if not py_request.columns(register, LINKABLE[register]):
                continue  # a register only the population's conditions read adds no column
            linked, on = _linked_part(engine, mapping, py_request, register, outputs)
            rows = rows.left_join(linked, on).select(
                *rows.columns, *(c for c in linked.columns if c not in on)
            )
        if py_request.reads_kontakt:
            rows = with_contacts(engine, mapping, py_request, rows)
        if person_year:
            out["person_year"] = rows.select(PERSON, "aargang", *(o.name for o in outputs))
        if static is not None:
            agg = {c: static[c].max() for c in static_cols}
            out["person"] = static.group_by(PERSON).aggregate(**agg)
        if spells is not None:
            # A spell overlapping several årganger is reported in each: one row per spell.
            out["service_spells"] = spells.distinct()
        if diagnoses is not None:
            out["diagnoses"] = diagnoses.distinct()
        npr_cols = request.columns("npr", "episode")
        if npr_cols:
            e = keyed(engine.table("npr", "episode", aargang=list(request.years)), mapping, "npr")
            out["npr_episodes"] = e.semi_join(persons, PERSON).select(PERSON, *npr_cols)
        dar_cols = request.columns("dar", "dodsfall")
        if dar_cols:
            d = first_per_person(keyed(engine.table("dar", "dodsfall"), mapping, "dar"), "dodsdato")
            out["cause_of_death"] = d.semi_join(persons, PERSON).select(PERSON, *dar_cols)
        result = {name: engine.to_arrow(expr) for name, expr in out.items()}
        everyone = engine.to_arrow(persons).column(PERSON)
    people = np.unique(everyone.to_numpy(zero_copy_only=False).astype(np.int64))
    serial = draw_serial_numbers(len(people), seed=seed, exclude=exclude_serials)
    tables = {name: _serialised(t, people, serial, TABLE_KEYS[name]) for name, t in result.items()}
    return LinkedTables(request.case_id, tables)


def _serialised(table: pa.Table, people: np.ndarray, serial: np.ndarray, key: tuple[str, ...]) -> pa.Table:
    """Replace `person` by `lopenr` (the same number in every table) and sort by the key."""
    persons = table.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64)
    idx = np.searchsorted(people, persons)
    lopenr = pa.array(serial[idx], type=pa.int32())
    out = table.drop_columns([PERSON])
    out = out.add_column(0, "lopenr", lopenr)
    order = [(c, "ascending") for c in (*key, *(c for c in out.column_names if c not in key))]
    return out.sort_by(order)
