"""What the notification outbox costs a command: cases driven from draft to invoiced on a SQLite
case store, with the outbox hook and with it switched off, and the time to send the rows to a local
SMTP server (aiosmtpd, from the test extra).

    .venv/bin/python bench/bench_outbox.py [--cases 50]

Prints the figures (best of three rounds each); writes nothing.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iplos.cases import CaseService
from iplos.cases.examples import ManualClock, drive
from iplos.cases.notify_service import MailSettings, send_due

PASSWORD = "correct horse battery staple"


def _service(folder: Path) -> CaseService:
    service = CaseService(
        f"sqlite:///{folder / 'cases.db'}", now=ManualClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
    )
    for name, role in (
        ("kari", "applicant"),
        ("ola", "applicant"),
        ("rita", "reviewer"),
        ("rolf", "reviewer"),
    ):
        service.users.create(name, PASSWORD, role)  # type: ignore[arg-type]
        service.outbox.set_contact(name, f"{name}@example.no")
    return service


def drive_cases(cases: int, hook: bool) -> tuple[float, int, CaseService]:
    service = _service(Path(tempfile.mkdtemp()))
    if not hook:
        off: Any = lambda *args, **kwargs: 0  # noqa: E731
        service.outbox.enqueue_events = off  # type: ignore[method-assign]
    start = time.perf_counter()
    for _ in range(cases):
        drive(service, "invoiced")
    return time.perf_counter() - start, sum(s.version for s in service.list()), service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=50)
    args = parser.parse_args()
    drive_cases(2, True)[2].close()  # warm up (catalogue, imports)
    timings: dict[bool, float] = {}
    events = rows = 0
    for hook in (True, False):
        best = float("inf")
        for _ in range(3):
            seconds, events, service = drive_cases(args.cases, hook)
            best = min(best, seconds)
            if hook:
                rows = len(service.outbox.all())
            service.close()
        timings[hook] = best
    print(f"{args.cases} cases, {events} events, {rows} outbox rows")
    for hook in (True, False):
        print(
            f"  outbox hook {'on ' if hook else 'off'}: {timings[hook]:.2f} s ({1000 * timings[hook] / events:.2f} ms/event)"
        )

    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _, _, service = drive_cases(args.cases, True)
        settings = MailSettings("127.0.0.1", port, "iplos@example.no")
        start = time.perf_counter()
        sent = 0
        while (report := send_due(service.outbox, settings, service.now(), limit=200)).claimed:
            sent += report.sent
        seconds = time.perf_counter() - start
        print(f"  sent {sent} mails to a local aiosmtpd in {seconds:.2f} s ({sent / seconds:.0f}/s)")
        service.close()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
