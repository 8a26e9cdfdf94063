"""Link the registers of an approved case in the engine and hand back the extract with serial numbers.

Steps: refuse unless every register involved has an approval; take the key holder's pseudonym tables
(`_keyholder`, computed once per register and kept); in the engine, compute the approved population
of IPLOS/KPR once (with the key holder's person number, written to the key holder's work folder and
read back by every later query), select the approved årganger and variables, map each linked
register's pseudonyms to the person number, restricted to the population's persons, and join them on
it; only the final extract (one row per person and årgang of the population) is materialised; the
person numbers are then replaced by serial numbers drawn for this delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iplos.engine import Engine
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.linkage._extract import LinkageCount, LinkageReport, LinkedExtract
from iplos.linkage._keyholder import PERSON, KeyMap, key_map, pseudonym_column, work_folder
from iplos.linkage._query import (
    REF,
    OutputColumn,
    contact_summary,
    first_per_person,
    keyed,
    last_assessment,
    output_columns,
    population,
    record_hits,
    service_summary,
)
from iplos.linkage._request import (
    FIRST_KPR_YEAR,
    LINKABLE,
    LinkageRequest,
    RecordFilter,
    base_register,
    check_approvals,
)
from iplos.linkage._serial import draw_serial_numbers

_FLAG = "_in_{}"


@dataclass(frozen=True)
class BasePart:
    """One base register's share of the linkage.

    `rows`: the population's person-years with their IPLOS columns, keyed on `person`; `population`:
    the population's person rows as computed once (a file in the key holder's work folder), with
    this register's `pseudonym` and the key holder's `person` (null where the key holder does not
    know the pseudonym); `counts`: population and matched persons per årgang.
    """

    rows: ir.Table
    population: ir.Table
    counts: tuple[LinkageCount, ...]


def _base_part(
    engine: Engine,
    mapping: KeyMap,
    request: LinkageRequest,
    register: str,
    outputs: tuple[OutputColumn, ...],
    work: Path,
) -> BasePart:
    """The population of one base register, computed once, and its rows keyed on `person`."""
    years = [y for y in request.years if base_register(y) == register]
    mine = [o for o in outputs if o.source.register == "iplos"]
    person_cols = [o.source.column for o in mine if o.source.table == "person" and o.name != "alder"]
    wants_age = any(o.source.table == "person" and o.source.column == "fodselsaar" for o in mine)
    service_cols = [o.name for o in mine if o.source.table == "tjeneste"]
    funksjon_cols = [o.source.column for o in mine if o.source.table == "funksjon"]
    person = engine.table(register, "person", aargang=years)
    wanted = request.population
    after = any(f.within == "after_discharge" for f in wanted.records)
    needs_services = wanted.home_dwelling or bool(service_cols) or bool(wanted.services) or after
    tjeneste = engine.table(register, "tjeneste", aargang=years) if needs_services else None
    funksjon = engine.table(register, "funksjon", aargang=years) if wanted.functional_assessment else None
    records = [(f, _record_hits(engine, mapping, request, register, f)) for f in wanted.records]
    pop = population(person, tjeneste, years, wanted, funksjon, records)
    # The population is computed once, with the key holder's person number, and read back by every
    # later query (the extract, the counts, every table of the delivery) instead of recomputed.
    m = mapping.of(register)
    m = m.select(_known=m[pseudonym_column(register)], **{PERSON: m[PERSON]})
    pop = pop.left_join(m, pop.pseudonym == m._known).drop("_known")
    pop = engine.read_file(engine.write_parquet(pop, work / f"population-{register}.parquet"))
    found = engine.to_arrow(
        pop.group_by("aargang").aggregate(n=pop.count(), matched=pop[PERSON].notnull().cast("int64").sum())
    ).to_pylist()
    counts = tuple(
        LinkageCount(register, int(r["aargang"]), int(r["n"]), int(r["matched"] or 0))
        for r in sorted(found, key=lambda r: int(r["aargang"]))
    )
    known = pop.filter(pop[PERSON].notnull())
    rows = known.select(PERSON, "pseudonym", "aargang", REF, *(["alder"] if wants_age else []), *person_cols)
    if funksjon_cols:
        # only the population's assessments are ranked, not the whole register's
        assessed = engine.table(register, "funksjon", aargang=years).semi_join(
            known.select("pseudonym", "aargang"), ["pseudonym", "aargang"]
        )
        last = last_assessment(assessed, funksjon_cols)
        rows = rows.left_join(last, ["pseudonym", "aargang"]).select(rows.columns + tuple(funksjon_cols))
    if service_cols and tjeneste is not None:
        summary = service_summary(tjeneste, known, service_cols)
        rows = rows.left_join(summary, ["pseudonym", "aargang"]).select(rows.columns + tuple(service_cols))
    return BasePart(rows.drop(REF, "pseudonym"), pop, counts)


def _record_hits(
    engine: Engine, mapping: KeyMap, request: LinkageRequest, base: str, f: RecordFilter
) -> ir.Table:
    """Hits of a record condition, carrying the base register's pseudonyms.

    A condition on a linked register is read with that register's pseudonyms and mapped through the
    key holder's person number to the base register's; a condition on IPLOS's own diagnoses is not.
    A 'period' condition looks in every årgang of the request, whichever base register holds it.
    """
    if f.register == "iplos":
        found: ir.Table | None = None
        for reg in request.base_registers:
            yrs = [y for y in request.years if base_register(y) == reg]
            hits = record_hits(engine.table(reg, f.table, aargang=yrs), f, yrs)
            if reg != base:  # the other base register's pseudonyms, mapped through the person number
                hits = _to_base(keyed(hits, mapping, reg), mapping, base)
            found = hits if found is None else found.union(hits)
        assert found is not None
        return found.distinct()
    if f.register == "dar":
        raw = engine.table(f.register, f.table)
    else:
        raw = engine.table(f.register, f.table, aargang=list(request.years))
    hits = record_hits(raw, f, request.years)
    return _to_base(keyed(hits, mapping, f.register), mapping, base).distinct()


def _to_base(table: ir.Table, mapping: KeyMap, base: str) -> ir.Table:
    """Replace the key holder's `person` by the base register's `pseudonym`."""
    m = mapping.of(base)
    m = m.select(_p=m[PERSON], pseudonym=m[pseudonym_column(base)])
    joined = table.join(m, table[PERSON] == m._p)
    return joined.drop(PERSON, "_p")


def _linked_part(
    engine: Engine,
    mapping: KeyMap,
    request: LinkageRequest,
    register: str,
    outputs: tuple[OutputColumn, ...],
    persons: ir.Table | None = None,
) -> tuple[ir.Table, list[str]]:
    """A linked register keyed on `person` (and `aargang` for yearly registers), with a match flag.

    With `persons`, only their records are read through the key holder's table (see `keyed`).
    """
    mine = [o for o in outputs if o.source.register == register]
    flag = _FLAG.format(register)
    table_name = LINKABLE[register]
    if register == "dar":
        raw = engine.table(register, table_name)
        k = keyed(raw, mapping, register, persons)
        k = first_per_person(k, "dodsdato")
        renames = {o.name: k[o.source.column] for o in mine}
        return k.select(PERSON, **renames, **{flag: ibis.literal(True)}), [PERSON]
    raw = engine.table(register, table_name, aargang=list(request.years))
    k = keyed(raw, mapping, register, persons)
    if register == "npr":
        counted = k.group_by([PERSON, "aargang"]).aggregate(npr_episoder=k.count().cast("int16"))
        return counted.mutate(**{flag: ibis.literal(True)}), [PERSON, "aargang"]
    renames = {o.name: k[o.source.column] for o in mine}
    return k.select(PERSON, "aargang", **renames, **{flag: ibis.literal(True)}), [PERSON, "aargang"]


def with_contacts(
    engine: Engine, mapping: KeyMap, request: LinkageRequest, rows: ir.Table, keys: ir.Table
) -> ir.Table:
    """`rows` (keyed on `person` and `aargang`) with `antall_kontakter` from KPR's contacts.

    `keys` are the population's (`person`, `aargang`), read from the computed population rather
    than from `rows`, so that `rows` is evaluated once. 0 for a person-year from 2017 on without a
    contact; null before 2017, when KPR did not exist.
    """
    if not request.kontakt_years:
        return rows.mutate(antall_kontakter=ibis.null("int32"))
    m = mapping.of("kpr")
    keys = keys.filter(keys.aargang >= FIRST_KPR_YEAR)
    m = m.semi_join(keys, PERSON)
    m = m.select(PERSON, _ps=m[pseudonym_column("kpr")])
    keys = keys.join(m, PERSON).select(PERSON, "aargang", "_ps")
    summary = contact_summary(engine.table("kpr", "kontakt", aargang=list(request.kontakt_years)), keys)
    summary = summary.rename(_kontakter="antall_kontakter")
    joined = rows.left_join(summary, [PERSON, "aargang"]).select(*rows.columns, "_kontakter")
    value = ibis.ifelse(joined.aargang >= FIRST_KPR_YEAR, joined._kontakter.fill_null(0), ibis.null("int32"))
    return joined.mutate(antall_kontakter=value.cast("int32")).drop("_kontakter")


@dataclass(frozen=True)
class PersonYears:
    """The person-year extract as a query keyed on `person`, with what the other tables build on."""

    extract: ir.Table
    counts: tuple[LinkageCount, ...]
    populations: Mapping[str, ir.Table]
    persons: ir.Table


def person_years(
    engine: Engine, mapping: KeyMap, request: LinkageRequest, outputs: tuple[OutputColumn, ...], work: Path
) -> PersonYears:
    """The population's person-years with every output column, keyed on `person` (not yet run)."""
    parts = [_base_part(engine, mapping, request, r, outputs, work) for r in request.base_registers]
    keys = parts[0].population
    for part in parts[1:]:
        keys = keys.select(PERSON, "aargang").union(part.population.select(PERSON, "aargang"))
    keys = keys.filter(keys[PERSON].notnull()).select(PERSON, "aargang")
    persons = keys.select(PERSON).distinct()
    extract = parts[0].rows
    for part in parts[1:]:
        extract = extract.union(part.rows)
    for register in request.linked_registers:
        linked, on = _linked_part(engine, mapping, request, register, outputs, persons)
        extract = extract.left_join(linked, on).select(
            *extract.columns, *(c for c in linked.columns if c not in on)
        )
    if request.reads_kontakt:
        extract = with_contacts(engine, mapping, request, extract, keys)
    counts = tuple(c for part in parts for c in part.counts)
    populations = {r: part.population for r, part in zip(request.base_registers, parts, strict=True)}
    return PersonYears(extract, counts, populations, persons)


def _refuse_unapproved(request: LinkageRequest) -> None:
    missing = check_approvals(request)
    if missing:
        raise IplosError(
            f"case {request.case_id}: linkage needs a recorded approval for every register involved; "
            f"missing: {', '.join(missing)}"
        )


def link(
    engine: Engine,
    keys: KeyStore,
    request: LinkageRequest,
    *,
    exclude_serials: Iterable[int] = (),
    seed: bytes | None = None,
) -> LinkedExtract:
    """Build the linked extract of an approved case on `engine` (DuckDB or Spark).

    `exclude_serials` are serial numbers issued to earlier deliveries of the case; `seed` fixes the
    serial numbers (tests only: a delivery draws a fresh seed).
    """
    _refuse_unapproved(request)
    outputs = output_columns(request)
    with (
        key_map(engine, keys, request.registers) as mapping,
        work_folder(engine.settings.keyholder_dir) as work,
    ):
        linked = person_years(engine, mapping, request, outputs, work)
        result = engine.to_arrow(linked.extract)
    people = np.unique(result.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64))
    serial = draw_serial_numbers(len(people), seed=seed, exclude=exclude_serials)
    return finish_extract(result, request, outputs, linked.counts, people, serial, engine.backend)


def finish_extract(
    result: pa.Table,
    request: LinkageRequest,
    outputs: tuple[OutputColumn, ...],
    counts: tuple[LinkageCount, ...],
    people: np.ndarray,
    serial: np.ndarray,
    backend: str,
) -> LinkedExtract:
    """The `LinkedExtract` of a run person-year query: flags turned into counts, `person` into `lopenr`.

    `people` are the sorted person numbers and `serial` their serial numbers, position by position.
    """
    result, linked_counts = _flags_to_counts(result, request)
    names = ["aargang", *(o.name for o in outputs)]
    table = _with_serial_numbers(result, people, serial).select(["lopenr", *names])
    report = LinkageReport(
        case_id=request.case_id,
        backend=backend,
        counts=(*counts, *linked_counts),
        rows=table.num_rows,
        persons=len(pc.unique(table.column("lopenr"))),
    )
    return LinkedExtract(case_id=request.case_id, table=table, columns=outputs, report=report)


def _flags_to_counts(result: pa.Table, request: LinkageRequest) -> tuple[pa.Table, list[LinkageCount]]:
    counts: list[LinkageCount] = []
    years = result.column("aargang").to_numpy(zero_copy_only=False)
    for register in request.linked_registers:
        name = _FLAG.format(register)
        flag = pc.fill_null(result.column(name), False).to_numpy(zero_copy_only=False).astype(bool)
        for year in request.years:
            in_year = years == year
            counts.append(LinkageCount(register, year, int(in_year.sum()), int((flag & in_year).sum())))
        result = result.drop_columns([name])
    return result, counts


def _with_serial_numbers(result: pa.Table, people: np.ndarray, serial: np.ndarray) -> pa.Table:
    """Replace `person` by `lopenr`, and order the rows by serial number and årgang.

    The order of persons in the draw is the key holder's person order, but the numbers themselves
    are random, so sorting by them leaves no trace of that order.
    """
    persons = result.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64)
    lopenr = pa.array(serial[np.searchsorted(people, persons)], type=pa.int32())
    table = result.drop_columns([PERSON]).append_column("lopenr", lopenr)
    return table.sort_by([("lopenr", "ascending"), ("aargang", "ascending")])
