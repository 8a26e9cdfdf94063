"""Link the registers of an approved case in the engine and hand back the extract with serial numbers.

Steps: refuse unless every register involved has an approval; let the key holder write the pseudonym
mapping; in the engine, select the approved population, årganger and variables of IPLOS/KPR, map each
register's pseudonyms to the key holder's person number and join the linked registers on it; only the
final extract (one row per person and årgang of the population) is materialised; the person numbers
are then replaced by serial numbers drawn for this delivery.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iplos.engine import Engine
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.linkage._extract import LinkageCount, LinkageReport, LinkedExtract
from iplos.linkage._keyholder import PERSON, mapping_file, pseudonym_column
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


def _base_part(
    engine: Engine,
    mapping: ir.Table,
    request: LinkageRequest,
    register: str,
    outputs: tuple[OutputColumn, ...],
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The population rows of one base register with their IPLOS columns, keyed on `person`.

    Returns the keyed rows, a small count query (population and matched persons per årgang) and the
    population's (`pseudonym`, `aargang`) in this register's pseudonyms.
    """
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
    rows = pop.select("pseudonym", "aargang", REF, *(["alder"] if wants_age else []), *person_cols)
    if funksjon_cols:
        last = last_assessment(engine.table(register, "funksjon", aargang=years), funksjon_cols)
        rows = rows.left_join(last, ["pseudonym", "aargang"]).select(rows.columns + tuple(funksjon_cols))
    if service_cols and tjeneste is not None:
        summary = service_summary(tjeneste, rows, service_cols)
        rows = rows.left_join(summary, ["pseudonym", "aargang"]).select(rows.columns + tuple(service_cols))
    keyed_rows = keyed(rows.drop(REF), mapping, register)
    m = mapping.select(_known=mapping[pseudonym_column(register)])
    keys = pop.select("pseudonym", "aargang")
    seen = keys.left_join(m, keys.pseudonym == m._known)
    counts = seen.group_by("aargang").aggregate(
        n=seen.count(), matched=seen._known.notnull().cast("int64").sum()
    )
    return keyed_rows, counts, keys


def _record_hits(
    engine: Engine, mapping: ir.Table, request: LinkageRequest, base: str, f: RecordFilter
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


def _to_base(table: ir.Table, mapping: ir.Table, base: str) -> ir.Table:
    """Replace the key holder's `person` by the base register's `pseudonym`."""
    m = mapping.select(_p=mapping[PERSON], pseudonym=mapping[pseudonym_column(base)])
    joined = table.join(m, table[PERSON] == m._p)
    return joined.drop(PERSON, "_p")


def _linked_part(
    engine: Engine,
    mapping: ir.Table,
    request: LinkageRequest,
    register: str,
    outputs: tuple[OutputColumn, ...],
) -> tuple[ir.Table, list[str]]:
    """A linked register keyed on `person` (and `aargang` for yearly registers), with a match flag."""
    mine = [o for o in outputs if o.source.register == register]
    flag = _FLAG.format(register)
    table_name = LINKABLE[register]
    if register == "dar":
        raw = engine.table(register, table_name)
        k = keyed(raw, mapping, register)
        k = first_per_person(k, "dodsdato")
        renames = {o.name: k[o.source.column] for o in mine}
        return k.select(PERSON, **renames, **{flag: ibis.literal(True)}), [PERSON]
    raw = engine.table(register, table_name, aargang=list(request.years))
    k = keyed(raw, mapping, register)
    if register == "npr":
        counted = k.group_by([PERSON, "aargang"]).aggregate(npr_episoder=k.count().cast("int16"))
        return counted.mutate(**{flag: ibis.literal(True)}), [PERSON, "aargang"]
    renames = {o.name: k[o.source.column] for o in mine}
    return k.select(PERSON, "aargang", **renames, **{flag: ibis.literal(True)}), [PERSON, "aargang"]


def with_contacts(engine: Engine, mapping: ir.Table, request: LinkageRequest, rows: ir.Table) -> ir.Table:
    """`rows` (keyed on `person` and `aargang`) with `antall_kontakter` from KPR's contacts.

    0 for a person-year from 2017 on without a contact; null before 2017, when KPR did not exist.
    """
    if not request.kontakt_years:
        return rows.mutate(antall_kontakter=ibis.null("int32"))
    m = mapping.select(PERSON, _ps=mapping[pseudonym_column("kpr")])
    keys = rows.select(PERSON, "aargang").filter(rows.aargang >= FIRST_KPR_YEAR)
    keys = keys.join(m, PERSON).select(PERSON, "aargang", "_ps")
    summary = contact_summary(engine.table("kpr", "kontakt", aargang=list(request.kontakt_years)), keys)
    summary = summary.rename(_kontakter="antall_kontakter")
    joined = rows.left_join(summary, [PERSON, "aargang"]).select(*rows.columns, "_kontakter")
    value = ibis.ifelse(joined.aargang >= FIRST_KPR_YEAR, joined._kontakter.fill_null(0), ibis.null("int32"))
    return joined.mutate(antall_kontakter=value.cast("int32")).drop("_kontakter")


def _counts(engine: Engine, query: ir.Table) -> dict[int, tuple[int, int]]:
    result = engine.to_arrow(query).to_pylist()
    return {int(r["aargang"]): (int(r["n"]), int(r["matched"] or 0)) for r in result}


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
    missing = check_approvals(request)
    if missing:
        raise IplosError(
            f"case {request.case_id}: linkage needs a recorded approval for every register involved; "
            f"missing: {', '.join(missing)}"
        )
    outputs = output_columns(request)
    with mapping_file(engine.settings.keyholder_dir, keys, request.registers) as path:
        mapping = engine.read_file(path)
        parts = []
        counts: list[LinkageCount] = []
        for register in request.base_registers:
            rows, count_query, _ = _base_part(engine, mapping, request, register, outputs)
            parts.append(rows)
            found = _counts(engine, count_query)
            counts += [LinkageCount(register, y, n, matched) for y, (n, matched) in sorted(found.items())]
        extract = parts[0]
        for part in parts[1:]:
            extract = extract.union(part)
        for register in request.linked_registers:
            linked, on = _linked_part(engine, mapping, request, register, outputs)
            extract = extract.left_join(linked, on).select(
                *extract.columns, *(c for c in linked.columns if c not in on)
            )
        if request.reads_kontakt:
            extract = with_contacts(engine, mapping, request, extract)
        result = engine.to_arrow(extract)
    result, linked_counts = _flags_to_counts(result, request)
    counts += linked_counts
    names = ["aargang", *(o.name for o in outputs)]
    table = _with_serial_numbers(result, exclude_serials, seed).select(["lopenr", *names])
    report = LinkageReport(
        case_id=request.case_id,
        backend=engine.backend,
        counts=tuple(counts),
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


def _with_serial_numbers(result: pa.Table, exclude: Iterable[int], seed: bytes | None) -> pa.Table:
    """Replace `person` by `lopenr`, and order the rows by serial number and årgang.

    The order of persons in the draw is the key holder's person order, but the numbers themselves
    are random, so sorting by them leaves no trace of that order.
    """
    persons = result.column(PERSON).to_numpy(zero_copy_only=False).astype(np.int64)
    unique, inverse = np.unique(persons, return_inverse=True)
    serial = draw_serial_numbers(len(unique), seed=seed, exclude=exclude)
    lopenr = pa.array(serial[inverse], type=pa.int32())
    table = result.drop_columns([PERSON]).append_column("lopenr", lopenr)
    return table.sort_by([("lopenr", "ascending"), ("aargang", "ascending")])
