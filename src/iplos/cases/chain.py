"""The hash chain over a case's events: altering, inserting or deleting an event is detected.

Each stored event carries `prev_hash` (the previous event's hash, or 64 zeros for the first) and
`hash = SHA-256(prev_hash + canonical JSON of {case_id, seq, event})`. The case row stores the
head hash, so removing the last event is detected as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from iplos.cases._codec import canonical_json

GENESIS = "0" * 64


def event_hash(prev_hash: str, case_id: str, seq: int, event_json: object) -> str:
    """The hash of one chained event (`event_json` is the event's JSON form)."""
    body = canonical_json({"case_id": case_id, "seq": seq, "event": event_json})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the chain sees it."""

    seq: int
    event_json: object
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying one case's chain; `problems` empty means intact."""

    case_id: str
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    case_id: str, links: Sequence[ChainLink], head_hash: str | None, version: int | None
) -> ChainReport:
    """Recompute the chain of one case and list every break (altered, missing or extra events)."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, link in enumerate(links, start=1):
        if link.seq != expected_seq:
            problems.append(f"event {expected_seq} is missing (next stored is {link.seq})")
        if link.prev_hash != prev:
            problems.append(
                f"event {link.seq}: previous-hash does not match event {link.seq - 1} (deleted or altered)"
            )
        recomputed = event_hash(link.prev_hash, case_id, link.seq, link.event_json)
        if recomputed != link.hash:
            problems.append(f"event {link.seq}: content does not match its hash (altered)")
        prev = link.hash
    if version is not None and version != len(links):
        problems.append(f"case version is {version} but {len(links)} events are stored (deleted or added)")
    if head_hash is not None and links and head_hash != links[-1].hash:
        problems.append("the case's head hash does not match its last event (last event deleted or altered)")
    return ChainReport(case_id, len(links), tuple(problems))
