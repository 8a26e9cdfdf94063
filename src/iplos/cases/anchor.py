"""An append-only anchor file outside the database: the newest head of every case, as written.

After each committed command, `Anchor.record` appends one line `case_id seq hash mac` (the mac is
HMAC-SHA-256 of the line with the audit key, so the file cannot be extended with forged heads).
`verify` then checks, for the newest anchored head of each case, that the database still holds that
event with that hash. This catches what a signed head in the database cannot: the whole database
(or a case) put back to an older, consistently signed state, and a case deleted outright.

The line is appended after the commit, so the file may lag the database by the commands a crash
interrupted between the two (those are then covered by the signed head alone); it never runs ahead.
Lines are written with one `write` on a file opened with O_APPEND, so writers in several processes
on one machine do not interleave them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path


class Anchor:
    """The anchor file at `path`, with lines signed by `key`."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = Path(path)
        self.key = key

    def _mac(self, body: str) -> str:
        return hmac.new(self.key, f"iplos-anchor\n{body}".encode(), hashlib.sha256).hexdigest()

    def record(self, case_id: str, seq: int, digest: str) -> None:
        """Append the head `seq`/`digest` of one case."""
        body = f"{case_id} {seq} {digest}"
        line = f"{body} {self._mac(body)}\n".encode()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def heads(self) -> tuple[dict[str, tuple[int, str]], list[str]]:
        """The newest anchored (seq, hash) of each case, and the problems of the file itself."""
        heads: dict[str, tuple[int, str]] = {}
        problems: list[str] = []
        if not self.path.exists():
            return heads, problems
        with open(self.path, encoding="ascii", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                parts = line.split()
                if not line.endswith("\n"):
                    continue  # a line a crash cut short: not yet anchored
                if len(parts) != 4 or not parts[1].isdigit():
                    problems.append(f"anchor file {self.path}, line {number}: not 'case seq hash mac'")
                    continue
                case_id, seq, digest, mac = parts
                if not hmac.compare_digest(mac, self._mac(f"{case_id} {seq} {digest}")):
                    problems.append(f"anchor file {self.path}, line {number}: signature does not match")
                    continue
                if int(seq) >= heads.get(case_id, (0, ""))[0]:
                    heads[case_id] = (int(seq), digest)
        return heads, problems
