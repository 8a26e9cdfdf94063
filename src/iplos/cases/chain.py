"""The hash chain over a case's events, and the checks that find any change to a stored case.

Each stored event carries `prev_hash` (the previous event's hash, or 64 zeros for the first) and
`hash = SHA-256(prev_hash + canonical JSON of {case_id, seq, event})`; the event's JSON holds its
type, time, actor and role, so those columns are copies that `verify_case` compares with it.

What covers each stored column (`verify_case`):

| table | column | covered by |
|---|---|---|
| case_events | case_id, seq, payload | the event hash (payload must also be its canonical text) |
| case_events | type, at, actor, role | equal to the hashed payload's fields |
| case_events | prev_hash, hash | the chain (each links to the one before) |
| case_events | id | increases with seq (chain order is storage order) |
| cases | kind, owner, status, version | the fold of the events (`state.replay`) |
| cases | head_hash | the last event's hash |
| cases | created_at, updated_at | the first and the last event's time |
| cases | head_mac | HMAC-SHA-256 of (case_id, version, head_hash) with the audit key |

The audit key lives outside the database (`IPLOS_AUDIT_KEY_FILE`), so someone who can write the
database but not read the key cannot truncate a case (delete its last events and set the head hash
and version to match) or rewrite and re-hash its chain: the signed checkpoint would not match.
What it cannot see, a database (or a case) restored to an older, consistently signed state or a
case deleted outright, the anchor file outside the database catches (`cases.anchor`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from iplos.cases._codec import canonical_json

GENESIS = "0" * 64


def event_hash(prev_hash: str, case_id: str, seq: int, event_json: object) -> str:
    """The hash of one chained event (`event_json` is the event's JSON form)."""
    body = canonical_json({"case_id": case_id, "seq": seq, "event": event_json})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def payload_text(event_json: object) -> str:
    """The exact text stored in the payload column for an event's JSON form."""
    return json.dumps(event_json, sort_keys=True, ensure_ascii=False)


def head_mac(key: bytes, case_id: str, version: int, head_hash: str) -> str:
    """The signed checkpoint of a case's head: HMAC-SHA-256 with the audit key (hex)."""
    message = f"iplos-case-head\n{case_id}\n{version}\n{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the chain sees it (the raw columns of its row)."""

    seq: int
    event_json: object
    prev_hash: str
    hash: str
    row_id: int | None = None
    columns: dict[str, object] | None = None
    """The copied columns (type, at, actor, role) and the payload text, as stored."""


@dataclass(frozen=True)
class CaseHead:
    """A case row as stored, and what the fold of its events says it should be."""

    stored: dict[str, object]
    folded: dict[str, object] | None
    """kind, owner, status of the replayed events (None if they could not be replayed)."""


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying one case's chain; `problems` empty means intact."""

    case_id: str
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _utc(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    # SQLite returns the stored UTC wall time without a zone
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_columns(link: ChainLink) -> list[str]:
    if link.columns is None:
        return []
    problems = []
    data = link.event_json if isinstance(link.event_json, dict) else {}
    if link.columns.get("payload") != payload_text(link.event_json):
        problems.append(f"event {link.seq}: the payload text is not in its canonical form (altered)")
    for name in ("type", "actor", "role"):
        if link.columns.get(name) != data.get(name):
            problems.append(f"event {link.seq}: the {name} column differs from the hashed event (altered)")
    at = _utc(link.columns.get("at"))
    if at is None or at != _utc(data.get("at")):
        problems.append(f"event {link.seq}: the at column differs from the hashed event (altered)")
    return problems


def verify_chain(
    case_id: str, links: Sequence[ChainLink], head_hash: str | None, version: int | None
) -> ChainReport:
    """Recompute the chain of one case and list every break (altered, missing or extra events)."""
    problems: list[str] = []
    prev = GENESIS
    last_id: int | None = None
    for expected_seq, link in enumerate(links, start=1):
        if link.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing or out of place (stored there: {link.seq})")
        if link.prev_hash != prev:
            problems.append(
                f"event {link.seq}: previous-hash does not match event {link.seq - 1} (deleted or altered)"
            )
        recomputed = event_hash(link.prev_hash, case_id, link.seq, link.event_json)
        if recomputed != link.hash:
            problems.append(f"event {link.seq}: content does not match its hash (altered)")
        if link.row_id is not None:
            if last_id is not None and link.row_id <= last_id:
                problems.append(f"event {link.seq}: stored out of order (row id {link.row_id})")
            last_id = link.row_id
        problems.extend(_check_columns(link))
        prev = link.hash
    if version is not None and version != len(links):
        problems.append(f"case version is {version} but {len(links)} events are stored (deleted or added)")
    if head_hash is not None and links and head_hash != links[-1].hash:
        problems.append("the case's head hash does not match its last event (last event deleted or altered)")
    return ChainReport(case_id, len(links), tuple(problems))


def verify_case(
    case_id: str, links: Sequence[ChainLink], head: CaseHead | None, key: bytes | None
) -> ChainReport:
    """Every check of one case: its chain, its columns, its row against the fold, its signed head."""
    if head is None:
        report = verify_chain(case_id, links, None, None)
        return ChainReport(case_id, report.events, (*report.problems, "events without a case row"))
    row = head.stored
    version = row.get("version")
    report = verify_chain(
        case_id, links, str(row.get("head_hash")), version if isinstance(version, int) else -1
    )
    problems = list(report.problems)
    if not links:
        problems.append("a case row without events (its events were deleted)")
    if head.folded is None:
        problems.append("the events cannot be replayed into a case (altered)")
    else:
        for name in ("kind", "owner", "status"):
            if row.get(name) != head.folded.get(name):
                problems.append(f"the case's {name} column differs from the fold of its events (altered)")
    if links:
        first = links[0].event_json
        last = links[-1].event_json
        for name, data in (("created_at", first), ("updated_at", last)):
            at = data.get("at") if isinstance(data, dict) else None
            if _utc(row.get(name)) != _utc(at):
                problems.append(f"the case's {name} column differs from its events' times (altered)")
    if key is not None:
        expected = head_mac(
            key, case_id, int(version) if isinstance(version, int) else -1, str(row.get("head_hash"))
        )
        stored_mac = str(row.get("head_mac") or "")
        if not stored_mac:
            problems.append("the case's head is not signed with the audit key (written without it)")
        elif not hmac.compare_digest(stored_mac, expected):
            problems.append(
                "the case's head does not carry the audit key's signature "
                "(events truncated or re-hashed, or the head altered)"
            )
    return ChainReport(case_id, report.events, tuple(problems))
