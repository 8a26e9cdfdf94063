"""Query builders of the linked extract: functions from Ibis tables to Ibis tables, on any backend.

The extract has one row per person and årgang of the approved population. Person rows give the
person's status at the end of the årgang (or at death); the other IPLOS tables are summarised per
person and årgang (the last functional assessment of the årgang; the number of distinct services and
the weekly hours in force at the end of the årgang or at death); the linked registers add the person's
death (`dar`), the årgang's population data (`ssb`) or the årgang's number of hospital episodes
(`npr`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from iplos.errors import IplosError
from iplos.linkage._keyholder import PERSON, KeyMap, pseudonym_column
from iplos.linkage._request import (
    FUNKSJON_ITEMS,
    KONTAKT,
    RECORD_SOURCES,
    LinkageRequest,
    Population,
    RecordFilter,
    VariableRef,
)

REF = "_ref"
DISCHARGE = "_discharge"


@dataclass(frozen=True)
class OutputColumn:
    """One column of the extract: its name, the register variable it comes from and how."""

    name: str
    source: VariableRef
    derivation: str


def output_columns(request: LinkageRequest) -> tuple[OutputColumn, ...]:
    """The extract's columns (after `lopenr` and `aargang`), in the order the request names them."""
    out: list[OutputColumn] = []
    seen: set[str] = {"lopenr", "aargang"}

    def add(name: str, ref: VariableRef, how: str) -> None:
        if name in seen:
            name = f"{ref.register}_{name}"
        if name not in seen:
            seen.add(name)
            out.append(OutputColumn(name, ref, how))

    for ref in request.variables:
        if ref.register == "iplos" and ref.table == "person":
            if ref.column == "fodselsaar":
                add("alder", ref, "age at the end of the årgang: aargang - fodselsaar")
            else:
                add(ref.column, ref, "status at the end of the årgang or at death")
        elif ref.register == "iplos" and ref.table == "funksjon":
            if ref.column not in (*FUNKSJON_ITEMS, "vurderingsdato"):
                raise IplosError(f"variable {ref}: funksjon has no column {ref.column!r}")
            add(ref.column, ref, "last functional assessment in the årgang")
        elif ref.register == "iplos" and ref.table == "tjeneste":
            if ref.column == "tjeneste":
                add("antall_tjenester", ref, "number of distinct services received in the årgang")
            elif ref.column == "timer_per_uke":
                add(
                    "timer_per_uke",
                    ref,
                    "weekly hours of the services in force at the end of the årgang or at death",
                )
            else:
                raise IplosError(
                    f"variable {ref}: a person-level extract carries tjeneste and timer_per_uke only"
                )
        elif (ref.register, ref.table) == KONTAKT:
            if ref.column != "antall_kontakter":
                raise IplosError(
                    f"variable {ref}: a person-level extract carries antall_kontakter of kpr.kontakt only"
                )
            add(
                "antall_kontakter",
                ref,
                "contacts with the municipal health service in the årgang, all kinds (KPR, from 2017)",
            )
        elif ref.register == "iplos":
            raise IplosError(
                f"variable {ref}: table {ref.table!r} is not available in a person-level extract"
            )
        elif ref.register == "dar":
            add(ref.column, ref, "from the cause of death register (any årgang)")
        elif ref.register == "ssb":
            add(ref.column, ref, "SSB population data of the årgang")
        elif ref.register == "npr":
            add("npr_episoder", ref, "number of NPR episodes in the årgang")
    return tuple(out)


def with_reference_date(person: ir.Table) -> ir.Table:
    """Add `_ref`: the end of the årgang, or the date of death when the person died in it."""
    end = ibis.date(person.aargang.cast("int32"), 12, 31)
    ref = ibis.ifelse(person.dodsdato.notnull() & (person.dodsdato < end), person.dodsdato, end)
    return person.mutate(**{REF: ref})


def in_ranges(codes: ir.StringValue, ranges: Sequence[tuple[str, str]]) -> ir.BooleanValue:
    """Whether an ICD-10 code (no dot) lies in any (first, last) range; a range covers subcodes."""
    hit: ir.BooleanValue | None = None
    for lo, hi in ranges:
        one = (codes >= lo) & (codes.substr(0, len(hi)) <= hi)
        hit = one if hit is None else hit | one
    assert hit is not None
    return hit


def record_hits(records: ir.Table, f: RecordFilter, years: Sequence[int]) -> ir.Table:
    """`pseudonym` (and `aargang` when `f.within == 'aargang'`) of the records meeting `f` in `years`."""
    date_col = RECORD_SOURCES[(f.register, f.column)][1]
    year = records.aargang if "aargang" in records.columns else records[date_col].year()
    t = records.filter(in_ranges(records[f.column].upper(), f.ranges), year.isin(list(years)))
    if f.within == "aargang":
        return t.select("pseudonym", aargang=year.cast("int32")).distinct()
    if f.within == "after_discharge":  # the first discharge from a matching episode
        return t.group_by("pseudonym").aggregate(**{DISCHARGE: t.utskrivningsdato.min()})
    return t.select("pseudonym").distinct()


def population(
    person: ir.Table,
    tjeneste: ir.Table | None,
    years: Sequence[int],
    pop: Population,
    funksjon: ir.Table | None = None,
    records: Sequence[tuple[RecordFilter, ir.Table]] = (),
) -> ir.Table:
    """Person rows of the approved population in the approved årganger, with `alder` and `_ref`.

    `tjeneste` is needed for a home-dwelling population and for service criteria, `funksjon` for a
    functional assessment; `records` pairs each record condition with its hits (`record_hits`),
    already carrying this register's pseudonyms.
    """
    p = person.filter(person.aargang.isin(list(years)))
    p = p.mutate(alder=(p.aargang.cast("int32") - p.fodselsaar.cast("int32")).cast("int16"))
    age = p.alder if pop.age_year is None else (ibis.literal(pop.age_year) - p.fodselsaar.cast("int32"))
    if pop.min_age is not None:
        p = p.filter(age >= pop.min_age)
    if pop.max_age is not None:
        p = p.filter(age <= pop.max_age)
    if pop.birth_first is not None:
        p = p.filter(p.fodselsaar >= pop.birth_first)
    if pop.birth_last is not None:
        p = p.filter(p.fodselsaar <= pop.birth_last)
    if pop.sex:
        p = p.filter(p.kjonn.isin(sorted(pop.sex)))
    if pop.husstand:
        p = p.filter(p.husstand.isin(sorted(pop.husstand)))
    if pop.kommuner is not None:
        allowed: ir.BooleanValue = ibis.literal(False)
        for year, codes in sorted(pop.kommuner.items()):
            if year in years and codes:
                allowed = allowed | ((p.aargang == year) & p.kommune.isin(sorted(codes)))
        p = p.filter(allowed)
    p = with_reference_date(p)
    if (pop.home_dwelling or pop.services) and tjeneste is None:
        raise IplosError("a population with service criteria needs the tjeneste table")
    for s in pop.services:
        t = tjeneste.filter(tjeneste.tjeneste.isin(sorted(s.codes)))  # type: ignore[union-attr]
        if s.min_hours is not None:
            t = t.filter(t.timer_per_uke >= s.min_hours)
        p = p.semi_join(t.select("pseudonym", "aargang").distinct(), ["pseudonym", "aargang"])
    if pop.functional_assessment:
        if funksjon is None:
            raise IplosError("a population with a functional assessment needs the funksjon table")
        p = p.semi_join(funksjon.select("pseudonym", "aargang").distinct(), ["pseudonym", "aargang"])
    for f, hits in records:
        if f.within == "after_discharge":
            if tjeneste is None:
                raise IplosError("a population with services after a discharge needs the tjeneste table")
            j = tjeneste.join(hits, "pseudonym")
            after = j.sluttdato.isnull() | (j.sluttdato >= j[DISCHARGE])
            in_year = j[DISCHARGE].year() <= j.aargang
            p = p.semi_join(
                j.filter(after & in_year).select("pseudonym", "aargang").distinct(), ["pseudonym", "aargang"]
            )
            continue
        on = ["pseudonym", "aargang"] if f.within == "aargang" else ["pseudonym"]
        p = p.semi_join(hits, on)
    if pop.home_dwelling:
        assert tjeneste is not None
        t = tjeneste.filter(tjeneste.tjeneste.isin(sorted(pop.institution_services)))
        keys = p.select("pseudonym", "aargang", REF)
        j = t.join(keys, ["pseudonym", "aargang"])
        in_force = (j.startdato <= j[REF]) & (j.sluttdato.isnull() | (j.sluttdato >= j[REF]))
        institution = j.filter(in_force).select("pseudonym", "aargang").distinct()
        p = p.anti_join(institution, ["pseudonym", "aargang"])
    return p


def last_assessment(funksjon: ir.Table, columns: Sequence[str]) -> ir.Table:
    """Per pseudonym and årgang, the columns of the last functional assessment of the årgang.

    Assessments on the same date are ordered by their scores, so that re-linking a case gives the
    same extract (without the tie-break, which one is "last" is up to the backend).
    """
    order = ibis.row_number().over(
        group_by=[funksjon.pseudonym, funksjon.aargang],
        order_by=[ibis.desc(funksjon.vurderingsdato), *(funksjon[c] for c in columns)],
    )
    ranked = funksjon.mutate(_rank=order)
    return ranked.filter(ranked._rank == 0).select("pseudonym", "aargang", *columns)


def service_summary(tjeneste: ir.Table, keys: ir.Table, columns: Sequence[str]) -> ir.Table:
    """Per pseudonym and årgang of `keys`: `antall_tjenester` and/or `timer_per_uke`."""
    j = tjeneste.join(keys.select("pseudonym", "aargang", REF), ["pseudonym", "aargang"])
    in_force = (j.startdato <= j[REF]) & (j.sluttdato.isnull() | (j.sluttdato >= j[REF]))
    metrics: dict[str, ir.Value] = {}
    if "antall_tjenester" in columns:
        metrics["antall_tjenester"] = j.tjeneste.nunique().cast("int16")
    if "timer_per_uke" in columns:
        metrics["timer_per_uke"] = (
            ibis.ifelse(in_force, j.timer_per_uke, ibis.null("float64")).sum().cast("float64")
        )
    return j.group_by(["pseudonym", "aargang"]).aggregate(**metrics)


def contact_summary(kontakt: ir.Table, keys: ir.Table) -> ir.Table:
    """Per `person` and årgang of `keys`: `antall_kontakter`, summed over the kinds of contact.

    `keys` carries `person`, `aargang` and `_ps` (the person's KPR pseudonym): the contacts are joined
    to the population first, so that only its persons' rows are grouped, not all of KPR's.
    """
    k = kontakt.select("pseudonym", "aargang", "antall_kontakter")
    j = k.join(keys, [k.pseudonym == keys._ps, k.aargang == keys.aargang])
    summed = j.antall_kontakter.cast("int64").sum().cast("int32")
    return j.group_by([PERSON, "aargang"]).aggregate(antall_kontakter=summed)


def keyed(table: ir.Table, mapping: KeyMap, register: str, persons: ir.Table | None = None) -> ir.Table:
    """Replace a register's `pseudonym` by the key holder's `person` number (rows without one drop out).

    With `persons` (a table of `person`), only those persons' rows are kept: the register's pseudonym
    table is narrowed to them first, so the join holds the population's persons, not everyone's.
    """
    m = mapping.of(register)
    if persons is not None:
        m = m.semi_join(persons, PERSON)
    m = m.select(PERSON, _ps=m[pseudonym_column(register)])
    joined = table.join(m, table.pseudonym == m._ps)
    return joined.drop("pseudonym", "_ps")


def first_per_person(table: ir.Table, order: str) -> ir.Table:
    """One row per person: the first by `order` (a register holds one death per person, normally)."""
    rank = ibis.row_number().over(group_by=[table[PERSON]], order_by=[table[order]])
    ranked = table.mutate(_rank=rank)
    return ranked.filter(ranked._rank == 0).drop("_rank")
