"""Soak the case API on PostgreSQL: concurrent clients while the server is killed with SIGKILL.

20 clients (threads, one account and one HTTP connection each) send 500 commands each to
`iplos serve` (uvicorn) on 127.0.0.1: per case one `POST /api/cases` then 49 `edit_draft`, each
edit carrying `If-Match: <version>` and a title naming client, case and step. The server is killed
with SIGKILL twice during the run (after a third and two thirds of the commands) and restarted.

A command whose answer is lost (connection reset) is resolved by reading the case back: if its
version moved on, the command was applied; if not, it is sent again with the same `If-Match`, so
no retry can apply twice. A draft whose creation answer was lost is found by its title in the
client's case list. At the end every case must hold exactly the acknowledged steps, each once and in
order (no lost, no duplicated event), and `verify` must pass on every case.

    .venv/bin/python bench/soak_cases.py [--clients 20] [--commands 500] [--kills 2]

Needs PostgreSQL at 127.0.0.1:5432 (trust auth, db `test`); uses a fresh schema and drops it.
Traffic goes only to 127.0.0.1. Writes bench/results/soak-cases.json with the git revision.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "soak test password, long enough"
PER_CASE = 50  # one create and 49 edits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`iplos serve` as a child process that can be killed and started again."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(Path(env["IPLOS_HOME"]) / "server.log", "ab")  # noqa: SIM115

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "iplos", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start within 60 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()


@dataclass
class Client:
    """One user sending commands; remembers what the server acknowledged."""

    name: str
    base: str
    commands: int
    applied: dict[str, list[int]] = field(default_factory=dict)
    """case id -> the steps acknowledged (or found applied after a lost answer), in order."""
    retries: int = 0
    lost_answers: int = 0
    server_headers: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self, progress: list[int], lock: threading.Lock) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            token = self._call(
                http, "post", "/api/auth/token", data={"username": self.name, "password": PASSWORD}
            )
            http.headers["Authorization"] = f"Bearer {token['access_token']}"
            case_id = ""
            version = 0
            for n in range(self.commands):
                case_no, step = divmod(n, PER_CASE)
                title = f"{self.name} case {case_no} step {step}"
                if step == 0:
                    case_id, version = self._create(http, title, case_no)
                    self.applied[case_id] = [0]
                else:
                    version = self._edit(http, case_id, version, title)
                    self.applied[case_id].append(step)
                with lock:
                    progress[0] += 1

    def _call(self, http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
        """One request, retried while the server is down (connection refused before it was sent)."""
        for attempt in range(600):
            try:
                response = http.request(method.upper(), path, **kwargs)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if method != "get" and attempt == 0 and path != "/api/auth/token":
                    raise
                self.retries += 1
                time.sleep(0.1)
                continue
            if "server" in response.headers:
                self.server_headers += 1
            if response.status_code >= 500:
                self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            response.raise_for_status()
            return response.json()
        raise RuntimeError(f"{path}: the server did not come back")

    def _create(self, http: httpx.Client, title: str, case_no: int) -> tuple[str, int]:
        body = {"kind": "new", "content": {"project": {"title": title}}}
        while True:
            try:
                case = self._call(http, "post", "/api/cases", json=body)
                return str(case["case_id"]), int(case["version"])
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                self.lost_answers += 1
                for summary in self._call(http, "get", "/api/cases"):
                    if summary["title"] == title:
                        return str(summary["case_id"]), int(summary["version"])

    def _edit(self, http: httpx.Client, case_id: str, version: int, title: str) -> int:
        body = {"content": {"project": {"title": title}}}
        while True:
            try:
                case = self._call(
                    http,
                    "post",
                    f"/api/cases/{case_id}/edit_draft",
                    json=body,
                    headers={"If-Match": str(version)},
                )
                return int(case["version"])
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                self.lost_answers += 1
                now = int(self._call(http, "get", f"/api/cases/{case_id}")["version"])
                if now == version + 1:
                    return now  # applied; only the answer was lost
                if now != version:
                    raise RuntimeError(
                        f"{case_id}: version {now}, expected {version} or {version + 1}"
                    ) from None
                self.retries += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--commands", type=int, default=500, help="commands per client")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs of the server during the run")
    args = parser.parse_args()

    from iplos.cases import CaseService
    from iplos.cases.store import events_table
    from iplos.config import Settings

    schema = f"iplos_soak_{secrets.token_hex(4)}"
    home = Path(tempfile.mkdtemp(prefix="iplos-soak-"))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    engine = sa.create_engine(PG)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    settings = Settings(home=home, case_db=url)
    service = CaseService.from_settings(settings)
    names = [f"soak{i:02d}" for i in range(args.clients)]
    for name in names:
        service.users.create(name, PASSWORD, "applicant")
    env = {**os.environ, "IPLOS_HOME": str(home), "IPLOS_CASE_DB": url}
    port = _free_port()
    server = Server(env, port)
    server.start()
    clients = [Client(name, f"http://127.0.0.1:{port}", args.commands) for name in names]
    total = args.clients * args.commands
    progress = [0]
    lock = threading.Lock()
    threads = [threading.Thread(target=c.run, args=(progress, lock)) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    kills: list[dict[str, float]] = []
    for k in range(1, args.kills + 1):
        while progress[0] < total * k / (args.kills + 1) and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        at = time.perf_counter() - started
        server.kill()
        down = time.perf_counter()
        server.start()
        kills.append(
            {
                "at_s": round(at, 2),
                "after_commands": progress[0],
                "restart_s": round(time.perf_counter() - down, 2),
            }
        )
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    server.stop()

    # every case holds exactly the acknowledged steps, once each and in order; verify is clean
    problems: list[str] = []
    with service.store.read() as conn:
        rows = conn.execute(
            sa.select(events_table.c.case_id, events_table.c.seq, events_table.c.payload)
        ).all()
    stored: dict[str, list[int]] = {}
    for case_id, _seq, payload in sorted(rows, key=lambda r: (r[0], r[1])):
        title = json.loads(payload)["content"]["project"]["title"]
        stored.setdefault(case_id, []).append(int(title.rsplit(" ", 1)[1]))
    expected = {cid: steps for c in clients for cid, steps in c.applied.items()}
    for cid, steps in expected.items():
        if stored.get(cid) != steps:
            problems.append(f"{cid}: stored steps {stored.get(cid)} != acknowledged {steps}")
    extra = set(stored) - set(expected)
    if extra:
        problems.append(f"{len(extra)} case(s) no client knows of (duplicated creates)")
    reports = service.verify()
    broken = [r for r in reports if not r.ok]
    events = sum(len(s) for s in stored.values())
    service.close()
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()

    result = {
        "benchmark": "soak-cases",
        "revision": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "clients": args.clients,
        "commands_per_client": args.commands,
        "commands": total,
        "events_stored": events,
        "cases": len(stored),
        "server_kills": kills,
        "seconds": round(seconds, 2),
        "commands_per_second": round(total / seconds, 1),
        "lost_answers_resolved": sum(c.lost_answers for c in clients),
        "requests_retried": sum(c.retries for c in clients),
        "server_errors_5xx": [e for c in clients for e in c.errors][:10],
        "responses_with_server_header": sum(c.server_headers for c in clients),
        "lost_or_duplicated": problems[:10],
        "verify_failures": [f"{r.case_id}: {r.problems}" for r in broken][:10],
        "ok": not problems and not broken and events == total,
    }
    out = ROOT / "bench" / "results" / "soak-cases.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
