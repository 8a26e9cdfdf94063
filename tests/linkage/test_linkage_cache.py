"""The processor's kept linkage: reused only for the same request on the same data, renumbered on every use, no secret inside."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter

from linkage_fixtures import SmallRegisters

from iplos.engine import connect
from iplos.ident import pseudonymise
from iplos.linkage import LinkageRequest, Population, ServiceFilter
from iplos.linkage import _cache as cache
from iplos.linkage._tables import TABLE_KEYS, link_extract_and_tables

VARIABLES = [
    "iplos.person.fodselsaar",
    "iplos.person.kjonn",
    "iplos.tjeneste.startdato",
    "iplos.tjeneste.timer_per_uke",
    "dar.dodsfall.dodsdato",
]


def _request(small: SmallRegisters, min_age: int = 80) -> LinkageRequest:
    pop = Population(min_age=min_age, services=(ServiceFilter(frozenset({15})),))
    return LinkageRequest.build("C-cache", small.years, VARIABLES, pop, approvals=("iplos", "dar"))


def _signature(table: object, by: str = "lopenr") -> Counter[tuple[object, ...]]:
    """The rows of each person without the serial number: equal when only the numbers differ."""
    rows: dict[object, list[tuple[object, ...]]] = {}
    for r in table.to_pylist():  # type: ignore[attr-defined]
        rows.setdefault(r.pop(by), []).append(tuple(sorted(r.items(), key=lambda kv: kv[0])))
    return Counter(tuple(sorted(v, key=repr)) for v in rows.values())


def test_kept_linkage_is_reused_renumbered_and_holds_no_secret(small_session: SmallRegisters) -> None:
    small = small_session
    request = _request(small)
    with connect(small.settings) as engine:
        extract, linked = link_extract_and_tables(engine, small.keys, request, seed=b"c" * 32)
    key = cache.linkage_key(small.settings, small.keys, request, "tables")
    folder = cache.folder_of(small.settings, request.case_id)
    cache.store(folder, key, extract, linked.tables)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert cache.load(folder, "another key") is None

    kept = cache.load(folder, key)
    assert kept is not None
    assert kept[0].table.equals(extract.table) and kept[0].report == extract.report
    issued = extract.serial_numbers
    again, tables = cache.renumbered(*kept, TABLE_KEYS, exclude=issued)
    assert not again.serial_numbers & issued  # as a new linkage: none of an earlier delivery's numbers
    assert _signature(again.table) == _signature(extract.table)
    for name, table in tables.items():
        assert set(table.column("lopenr").to_pylist()) <= again.serial_numbers
        assert _signature(table) == _signature(linked.tables[name])

    text = b"".join(p.read_bytes() for p in folder.iterdir())
    for register in ("iplos", "dar"):
        assert small.keys.key(register).secret_hex().encode() not in text
        assert not any(p.encode() in text for p in pseudonymise(small.fnr[:40], small.keys.key(register)))
    assert not any(f.encode() in text for f in small.fnr)


def test_key_changes_with_the_request_and_the_data(small: SmallRegisters) -> None:
    request = _request(small)
    key = cache.linkage_key(small.settings, small.keys, request, "tables")
    assert cache.linkage_key(small.settings, small.keys, request, "tables") == key
    assert cache.linkage_key(small.settings, small.keys, request, "extract") != key
    assert cache.linkage_key(small.settings, small.keys, _request(small, 81), "tables") != key
    assert (
        cache.linkage_key(small.settings, small.keys, dataclasses.replace(request, case_id="C-x"), "tables")
        != key
    )
    part = next((small.settings.registers_dir / "dar").rglob("*.parquet"))
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 1_000_000))
    assert cache.linkage_key(small.settings, small.keys, request, "tables") != key
