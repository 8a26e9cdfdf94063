"""The tamper matrix: every stored column of events and cases, deletion, reordering, duplication
and truncation are each detected by `verify`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from iplos.cases import CaseService
from iplos.cases.anchor import Anchor
from iplos.cases.chain import event_hash, head_mac, payload_text
from iplos.cases.examples import Cast, drive
from iplos.cases.store import cases_table, events_table

E = events_table
C = cases_table
Tamper = Callable[[Connection, str], None]
PAST = datetime(2020, 1, 1, tzinfo=UTC)


def _events(conn: Connection, cid: str) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(E).where(E.c.case_id == cid).order_by(E.c.seq)).mappings()
    return [dict(r) for r in rows]


def _set_event(seq: int, **values: Any) -> Tamper:
    def tamper(conn: Connection, cid: str) -> None:
        conn.execute(E.update().where(E.c.case_id == cid, E.c.seq == seq).values(**values))

    return tamper


def _set_case(**values: Any) -> Tamper:
    def tamper(conn: Connection, cid: str) -> None:
        conn.execute(C.update().where(C.c.case_id == cid).values(**values))

    return tamper


def _payload_edit(conn: Connection, cid: str) -> None:
    row = _events(conn, cid)[0]
    data = json.loads(row["payload"])
    data["content"]["project"]["title"] = "Something else"
    conn.execute(E.update().where(E.c.id == row["id"]).values(payload=payload_text(data)))


def _payload_reformat(conn: Connection, cid: str) -> None:
    row = _events(conn, cid)[1]
    text = json.dumps(json.loads(row["payload"]), sort_keys=True, indent=1)
    conn.execute(E.update().where(E.c.id == row["id"]).values(payload=text))


def _swap_ids(conn: Connection, cid: str) -> None:
    rows = _events(conn, cid)
    a, b = rows[1]["id"], rows[2]["id"]
    conn.execute(E.update().where(E.c.id == a).values(id=-1))
    conn.execute(E.update().where(E.c.id == b).values(id=a))
    conn.execute(E.update().where(E.c.id == -1).values(id=b))


def _swap_seq(conn: Connection, cid: str) -> None:
    conn.execute(E.update().where(E.c.case_id == cid, E.c.seq == 2).values(seq=-2))
    conn.execute(E.update().where(E.c.case_id == cid, E.c.seq == 3).values(seq=2))
    conn.execute(E.update().where(E.c.case_id == cid, E.c.seq == -2).values(seq=3))


def _swap_payloads(conn: Connection, cid: str) -> None:
    rows = _events(conn, cid)
    a, b = rows[2], rows[3]
    conn.execute(E.update().where(E.c.id == a["id"]).values(payload=b["payload"]))
    conn.execute(E.update().where(E.c.id == b["id"]).values(payload=a["payload"]))


def _delete(seq_of: Callable[[int], int]) -> Tamper:
    def tamper(conn: Connection, cid: str) -> None:
        last = len(_events(conn, cid))
        conn.execute(E.delete().where(E.c.case_id == cid, E.c.seq == seq_of(last)))

    return tamper


def _rechain(conn: Connection, cid: str, rows: list[dict[str, Any]]) -> None:
    """Rewrite a case's events as a consistent chain (what someone with the code but no key can do)."""
    conn.execute(E.delete().where(E.c.case_id == cid))
    prev = "0" * 64
    for seq, row in enumerate(rows, start=1):
        data = json.loads(row["payload"])
        digest = event_hash(prev, cid, seq, data)
        values = {k: v for k, v in row.items() if k != "id"}
        conn.execute(E.insert().values(**{**values, "seq": seq, "prev_hash": prev, "hash": digest}))
        prev = digest
    conn.execute(
        C.update()
        .where(C.c.case_id == cid)
        .values(version=len(rows), head_hash=prev, updated_at=rows[-1]["at"])
    )


def _truncate(conn: Connection, cid: str) -> None:
    """Delete the last event and make the case row match the shorter history in every column."""
    rows = _events(conn, cid)[:-1]
    conn.execute(E.delete().where(E.c.case_id == cid, E.c.seq == len(rows) + 1))
    conn.execute(
        C.update()
        .where(C.c.case_id == cid)
        .values(
            version=len(rows), head_hash=rows[-1]["hash"], updated_at=rows[-1]["at"], status="under_review"
        )
    )


def _duplicate(conn: Connection, cid: str) -> None:
    """Append a copy of an event with a correct chain link and hash, and move the head to it."""
    rows = _events(conn, cid)
    _rechain(conn, cid, [*rows, rows[-1]])


def _rehash_edit(conn: Connection, cid: str) -> None:
    """Edit an early event and recompute every hash after it, head included."""
    rows = _events(conn, cid)
    data = json.loads(rows[0]["payload"])
    data["content"]["project"]["title"] = "Something else"
    rows[0]["payload"] = payload_text(data)
    _rechain(conn, cid, rows)


def _move_event(conn: Connection, cid: str) -> None:
    other = conn.execute(sa.select(C.c.case_id).where(C.c.case_id != cid)).scalars().first()
    conn.execute(E.update().where(E.c.case_id == cid, E.c.seq == 1).values(case_id=f"{other}x"))


def _resign(conn: Connection, cid: str) -> None:
    """Sign a truncated head with a key that is not the audit key."""
    _truncate(conn, cid)
    row = conn.execute(sa.select(C).where(C.c.case_id == cid)).mappings().one()
    mac = head_mac(b"not the key" * 3, cid, row["version"], row["head_hash"])
    conn.execute(C.update().where(C.c.case_id == cid).values(head_mac=mac))


TAMPERS: dict[str, Tamper] = {
    # every column of case_events
    "event.id (reorder storage)": _swap_ids,
    "event.case_id": _move_event,
    "event.seq (reorder)": _swap_seq,
    "event.type": _set_event(2, type="Withdrawn"),
    "event.at": _set_event(3, at=PAST),
    "event.actor": _set_event(3, actor="mallory"),
    "event.role": _set_event(3, role="administrator"),
    "event.payload (edited)": _payload_edit,
    "event.payload (reformatted only)": _payload_reformat,
    "event.payload (swapped)": _swap_payloads,
    "event.prev_hash": _set_event(3, prev_hash="1" * 64),
    "event.hash": _set_event(3, hash="2" * 64),
    # every column of cases
    "case.kind": _set_case(kind="change"),
    "case.owner": _set_case(owner="mallory"),
    "case.status": _set_case(status="closed"),
    "case.version": _set_case(version=2),
    "case.head_hash": _set_case(head_hash="3" * 64),
    "case.head_mac": _set_case(head_mac="4" * 64),
    "case.created_at": _set_case(created_at=PAST),
    "case.updated_at": _set_case(updated_at=PAST),
    "case.case_id": _set_case(case_id="2026-deadbeef"),
    # whole rows
    "delete the first event": _delete(lambda last: 1),
    "delete a middle event": _delete(lambda last: 3),
    "delete the last event": _delete(lambda last: last),
    "delete every event": lambda conn, cid: conn.execute(E.delete().where(E.c.case_id == cid)),
    "delete the case row": lambda conn, cid: conn.execute(C.delete().where(C.c.case_id == cid)),
    "duplicate an event (re-chained)": _duplicate,
    "edit and re-hash the chain": _rehash_edit,
    "truncate (head, version, status, time set to match)": _truncate,
    "truncate and sign with another key": _resign,
}


def test_every_tamper_is_detected(service: CaseService, cast: Cast) -> None:
    control = drive(service, "approved", cast)
    cases = {name: drive(service, "approved", cast).case_id for name in TAMPERS}
    assert all(r.ok for r in service.verify()), "clean before tampering"
    dialect = service.engine.dialect.name
    for name, tamper in TAMPERS.items():
        cid = cases[name]
        with service.engine.begin() as conn:
            tamper(conn, cid)
    reports = {r.case_id: r for r in service.verify()}
    missed = [name for name, cid in cases.items() if cid in reports and reports[cid].ok]
    missed += [name for name, cid in cases.items() if cid not in reports]
    assert not missed, f"undetected on {dialect}: {missed}"
    assert reports[control.case_id].ok


def test_clean_history_verifies_after_every_command(service: CaseService, cast: Cast) -> None:
    case = drive(service, "closed", cast)
    (report,) = service.verify(case.case_id)
    assert report.ok and report.events == case.version


def test_a_store_without_the_key_cannot_vouch_for_the_head(service: CaseService, cast: Cast) -> None:
    case = drive(service, "submitted", cast)
    with service.engine.begin() as conn:
        conn.execute(C.update().where(C.c.case_id == case.case_id).values(head_mac=""))
    (report,) = service.verify(case.case_id)
    assert any("not signed" in p for p in report.problems)


def test_rollback_to_an_older_signed_state_is_caught_by_the_anchor(
    service: CaseService, cast: Cast, tmp_path: Path
) -> None:
    """Restore a case to an earlier, validly signed head (as from a backup): only the anchor file sees it."""
    assert service.store.audit_key is not None
    service.anchor = Anchor(tmp_path / "anchor.log", service.store.audit_key)
    case = drive(service, "submitted", cast)
    gone = drive(service, "submitted", cast)
    with service.engine.begin() as conn:
        old_row = dict(conn.execute(sa.select(C).where(C.c.case_id == case.case_id)).mappings().one())
    service.start_review(case.case_id, cast.reviewer)
    service.return_to_applicant(case.case_id, cast.reviewer, ["more detail"])
    with service.engine.begin() as conn:
        conn.execute(E.delete().where(E.c.case_id == case.case_id, E.c.seq > old_row["version"]))
        conn.execute(C.update().where(C.c.case_id == case.case_id).values(**old_row))
        conn.execute(E.delete().where(E.c.case_id == gone.case_id))
        conn.execute(C.delete().where(C.c.case_id == gone.case_id))
    anchored = {r.case_id: r for r in service.verify()}
    assert any("rolled back" in p for p in anchored[case.case_id].problems)
    assert any("deleted" in p for p in anchored[gone.case_id].problems)
    service.anchor = None  # the database alone: the old head carries a valid signature
    assert all(r.ok for r in service.verify())


def test_forged_anchor_lines_are_refused(tmp_path: Path) -> None:
    anchor = Anchor(tmp_path / "anchor.log", b"k" * 32)
    anchor.record("2026-aaaaaaaa", 3, "ab" * 32)
    with open(anchor.path, "a", encoding="ascii") as fh:
        fh.write(f"2026-aaaaaaaa 9 {'cd' * 32} {'00' * 32}\n")
    heads, problems = anchor.heads()
    assert heads == {"2026-aaaaaaaa": (3, "ab" * 32)}
    assert problems and "signature" in problems[0]
