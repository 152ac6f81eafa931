"""Benchmark: the web app under N signed-in users, against the app's own /ready, while the
service's heartbeat and dispatch keep their time.

What it measures: a database with 5,000 clients (and their hearings), 100,000 events with
their deliveries, a loaded 2 M-case FOIA release and ICE's statistics workbooks; the real
service (``docketwatch run`` with ``web_listen``) as a child process; N users (default 8) signed
in over loopback with httpx, each looping over the main pages (home, alerts inbox, a client's
page, the caseload counted by nationality, its first page of cases, hearings by day, facilities,
sources) for S seconds, at most one request at a time per user. Printed: p50/p95 per page.

The reference, in the same run and under the same load: ``/ready`` (the framework's floor:
routing, middleware, uvicorn, the thread pool and one ``SELECT 1``, which every page needs at
least; ``/health`` is answered before all of that, so it is no floor for a page). Target: every
page's p95 within 10x the floor's
p95, no errors, and the service on time meanwhile: every heartbeat within 3x
``heartbeat_seconds``, and each alert emitted during the load (one every 2 s) sent within
``dispatch_seconds`` + 5 s.

Usage: python bench/web.py [--clients N] [--events N] [--cases N] [--users N] [--seconds S]
                           [--keep DIR [--reuse]] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from rich.progress import Progress  # noqa: E402

from monitor.events import KINDS, EventInput  # noqa: E402
from monitor.route import emit  # noqa: E402
from sandbox.eoir_foia_release import generate  # noqa: E402
from sandbox.mail import SmtpSink, free_port  # noqa: E402
from sandbox.roster import FAMILY, GIVEN  # noqa: E402
from storage.bulk import insert_rows, table  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Client,
    Delivery,
    Event,
    Hearing,
    Heartbeat,
    Staff,
    StaffChannel,
)
from storage.passwords import hash_password  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402
from storage.secrets import keyring_of  # noqa: E402

TARGET = 10.0
#: the service's heartbeat and dispatch intervals during the load (seconds)
HEARTBEAT_S, DISPATCH_S = 2.0, 5.0
PASSWORD = "bench password, long enough"
AS_OF = date(2026, 10, 1)
NOW = datetime.now(UTC).replace(microsecond=0)
CLIENT_KINDS = [k for k, v in KINDS.items() if v.audience == "client"]
EDITIONS = sorted((ROOT / "tests/fixtures/detention_stats/ice_xlsx").glob("FY2[456]*.xlsx"))


def seed(engine: sa.Engine, sink: SmtpSink, n_clients: int, n_events: int) -> None:
    rng = random.Random(7)
    with engine.begin() as conn:
        staff, channel_of = _seed_staff(conn, sink)
        clients = _seed_clients(conn, [s.id for s in staff if s.role == "attorney"], n_clients, rng)
        _seed_events(conn, clients, channel_of, n_events)


def _seed_staff(conn: sa.Connection, sink: SmtpSink) -> tuple[list[Any], dict[int, int]]:
    """Two admins, six coordinators and 52 attorneys, each with a mail channel; the staff rows
    and each one's channel id."""
    roles = ["admin"] * 2 + ["coordinator"] * 6 + ["attorney"] * 52
    secret_hash = hash_password(PASSWORD)  # one argon2 hash, for every bench account
    insert_rows(
        conn,
        table(Staff),
        [
            {
                "organization_id": 1,
                "name": f"Staff {i}",
                "email": f"staff{i}@example.org",
                "role": role,
                "language": "es" if i % 4 == 0 else "en",
                "digest": False,
                "min_severity": "info",
                "muted_kinds": [],
                "active": True,
                "created_at": NOW,
                "password_hash": secret_hash,
            }
            for i, role in enumerate(roles)
        ],
    )
    staff = list(conn.execute(table(Staff).select()))
    keyring = keyring_of(conn.dialect)
    keyring.create()
    insert_rows(
        conn,
        table(StaffChannel),
        [
            {
                "staff_id": s.id,
                "url": sink.url(s.email),
                "url_digest": keyring.digest(sink.url(s.email)),
                "allow_personal_data": False,
                "active": True,
                "failing": False,
                "consecutive_failures": 0,
            }
            for s in staff
        ],
    )
    channel_of = {c.staff_id: c.id for c in conn.execute(table(StaffChannel).select())}
    return staff, channel_of


def _seed_clients(
    conn: sa.Connection, attorneys: list[int], n_clients: int, rng: random.Random
) -> list[Any]:
    """``n_clients`` clients, each with an upcoming hearing; their (id, attorney) rows."""
    insert_rows(
        conn,
        table(Client),
        [
            {
                "organization_id": 1,
                "a_number": f"9{i:08d}",
                "name": f"{rng.choice(FAMILY)}, {rng.choice(GIVEN)}",
                "nationality_code": "MX",
                "status": "represented",
                "primary_attorney_id": attorneys[i % len(attorneys)],
                "backup_attorney_id": attorneys[(i + 1) % len(attorneys)],
                "active": True,
                "notes": "",
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(n_clients)
        ],
    )
    clients = list(conn.execute(sa.select(table(Client).c.id, table(Client).c.primary_attorney_id)))
    insert_rows(
        conn,
        table(Hearing),
        [
            {
                "client_id": cid,
                "source": "acis",
                "current": True,
                "verified": True,
                "hearing_on": AS_OF + timedelta(days=60 + i % 90),
                "hearing_time": "8:30 AM",
                "timezone": "America/Los_Angeles",
                "court_code": "ADL",
                "location": "Adelanto",
                "judge": "Lee, Ann",
                "medium": "In person",
                "calendar_type": "Master",
                "schedule_type": "",
                "webex": "",
                "seen_at": NOW,
            }
            for i, (cid, _) in enumerate(clients)
        ],
    )
    return clients


def _seed_events(
    conn: sa.Connection, clients: list[Any], channel_of: dict[int, int], n_events: int
) -> None:
    """``n_events`` client events (four in five acknowledged), each delivered to the client's
    attorney."""
    events, deliveries = [], []
    for i in range(n_events):
        cid, atty = clients[i % len(clients)]
        kind = CLIENT_KINDS[i % len(CLIENT_KINDS)]
        at = NOW - timedelta(minutes=n_events - i)
        acked = i % 5 != 0
        events.append(
            {
                "kind": kind,
                "severity": KINDS[kind].severity.value,
                "subject_type": "client",
                "subject_key": str(cid),
                "client_id": cid,
                "payload": {"changes": []},
                "dedup_key": f"bench:{i}",
                "group_key": None,
                "occurred_at": at,
                "created_at": at,
                "acknowledged_at": at + timedelta(minutes=5) if acked else None,
                "acknowledged_by": "bench" if acked else "",
                # A running service escalated the old unacknowledged ones long ago.
                "escalation_level": 0 if acked else 2,
                "escalated_at": None if acked else at + timedelta(hours=2),
            }
        )
    insert_rows(conn, table(Event), events)
    ids = conn.execute(sa.select(table(Event).c.id, table(Event).c.client_id)).all()
    owner = dict(clients)
    for eid, cid in ids:
        atty = owner[cid]
        deliveries.append(
            {
                "event_id": eid,
                "staff_id": atty,
                "channel_id": channel_of[atty],
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": None,
                "last_error": "",
                "sent_at": NOW,
                "created_at": NOW,
                "escalation_level": 0,
                "digest": False,
                "claimed_by": "",
                "claimed_at": None,
            }
        )
    insert_rows(conn, table(Delivery), deliveries)


def load_public_data(engine: sa.Engine, zip_path: Path, work: Path) -> None:
    from spiders.detention_stats import parse_workbook
    from storage.detention_stats import store_edition
    from storage.eoir_foia import load_release
    from storage.files import sha256_of

    load_release(engine, zip_path, courts=["ADL", "LOS"], as_of=AS_OF, work_dir=work)
    with session_scope(engine) as s:
        for path in EDITIONS:
            store_edition(s, parse_workbook(path), url=path.name, sha256=sha256_of(path))


def pages(role: str, clients: list[int], rng: random.Random) -> list[tuple[str, str]]:
    """(page name, path) of one round over the main pages a role opens."""
    round_ = [
        ("ready", "/ready"),  # first in every round: the floor is measured under the load
        ("home", "/"),
        ("alerts", "/alerts?ack=all"),
        ("client", f"/clients/{rng.choice(clients)}"),
        ("facilities", "/facilities"),
    ]
    if role in ("coordinator", "admin"):
        round_ += [
            ("caseload_by_nationality", "/caseload?court=ADL&by=nationality"),
            ("caseload_list", "/caseload?court=ADL&detained=1"),
            ("hearings_by_day", "/caseload/hearings?court=ADL&from=2026-10-05&to=2026-10-11"),
        ]
    if role == "admin":
        round_.append(("sources", "/sources"))
    return round_


async def user(
    base: str,
    email: str,
    role: str,
    clients: list[int],
    until: float,
    seed_: int,
    timings: dict[str, list[float]],
    errors: list[str],
) -> None:
    rng = random.Random(seed_)
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as http:
        form = await http.get("/login")
        token = form.cookies.get("dw_login", "")
        signed = await http.post(
            "/login", data={"email": email, "password": PASSWORD, "login_token": token, "next": "/"}
        )
        if signed.status_code != 303:
            errors.append(f"{email}: sign-in answered {signed.status_code}")
            return
        rounds = 0
        # At least one whole round, however long signing in took on a slow machine.
        while rounds == 0 or time.monotonic() < until:
            for name, path in pages(role, clients, rng):
                t0 = time.perf_counter()
                answer = await http.get(path)
                elapsed = time.perf_counter() - t0
                if answer.status_code != 200:
                    errors.append(f"{name} {path}: {answer.status_code}")
                timings[name].append(elapsed)
                if rounds and time.monotonic() >= until:
                    break
            rounds += 1


class ServiceWatch(threading.Thread):
    """While the load runs: emits an urgent alert every 2 s and times its delivery; samples the
    scheduler's heartbeat every 0.5 s."""

    def __init__(self, engine: sa.Engine, client_id: int) -> None:
        super().__init__(daemon=True)
        self.engine, self.client_id = engine, client_id
        self.stop = threading.Event()
        self.emitting = True
        self.beats: list[datetime] = []
        self.emitted: dict[int, float] = {}
        self.delivered: dict[int, float] = {}

    def run(self) -> None:
        n, next_emit = 0, time.monotonic()
        while not self.stop.is_set():
            now = datetime.now(UTC)
            with session_scope(self.engine) as s:
                beat = s.get(Heartbeat, "scheduler")
                if beat is not None and (not self.beats or beat.beat_at != self.beats[-1]):
                    self.beats.append(beat.beat_at)
                if self.emitting and time.monotonic() >= next_emit:
                    n += 1
                    event = emit(
                        s,
                        EventInput(
                            kind="hearing_moved_earlier",
                            subject_type="client",
                            subject_key=str(self.client_id),
                            client_id=self.client_id,
                            dedup_key=f"bench-probe:{NOW.timestamp()}:{n}",
                            payload={
                                "changes": [
                                    {"field": "date", "old": "2026-12-01", "new": "2026-11-20"}
                                ]
                            },
                            occurred_at=now,
                        ),
                        now,
                    )
                    if event is not None and event.id is not None:
                        self.emitted[event.id] = time.monotonic()
                    next_emit += 2.0
                waiting = [e for e in self.emitted if e not in self.delivered]
                if waiting:
                    d = table(Delivery).c
                    sent = s.execute(
                        sa.select(d.event_id).where(d.event_id.in_(waiting), d.status == "sent")
                    ).all()
                    for (eid,) in sent:
                        self.delivered[eid] = time.monotonic()
            self.stop.wait(0.5)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=2_000_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--keep", type=Path, default=None, help="keep the FOIA zip here")
    parser.add_argument("--reuse", action="store_true", help="reuse the zip kept in --keep")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dw-bench-web-"))
    folder = args.keep or tmp
    folder.mkdir(parents=True, exist_ok=True)
    zip_path = folder / f"release-{args.cases}.zip"
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    service = None
    try:
        with SmtpSink() as sink:
            with Progress(transient=True) as progress:
                task = progress.add_task("setting up", total=4)
                if not (args.reuse and zip_path.exists()):
                    generate(zip_path, args.cases, seed=11, as_of=AS_OF)
                progress.advance(task)
                engine = make_engine(url)
                upgrade(engine)
                load_reference_data(engine)
                t0 = time.perf_counter()
                seed(engine, sink, args.clients, args.events)
                seed_s = time.perf_counter() - t0
                progress.advance(task)
                t0 = time.perf_counter()
                load_public_data(engine, zip_path, tmp / "work")
                load_s = time.perf_counter() - t0
                progress.advance(task)
                service, base = _start_service(url, tmp)
                progress.advance(task)
            users, probe_client = _users(engine, args.users)
            run = _load(base, users, args.seconds, ServiceWatch(engine, probe_client))
    finally:
        if service is not None:
            service.terminate()
            try:
                service.wait(timeout=60)
            except subprocess.TimeoutExpired:
                service.kill()
        shutil.rmtree(tmp, ignore_errors=True)  # the zip stays when it is in --keep
    print(
        f"setup: {args.clients:,} clients and {args.events:,} events seeded in {seed_s:.1f} s; "
        f"{args.cases:,}-case FOIA release and {len(EDITIONS)} statistics workbooks loaded in "
        f"{load_s:.1f} s"
    )
    _report(args, len(users), run)


def _start_service(url: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    """``docketwatch run`` with the web app on a free port (no source checked); the process and
    the app's address, once ``/health`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env.update(
        {
            "DATABASE_URL": url,
            "DOCKETWATCH_WEB_LISTEN": f"127.0.0.1:{port}",
            "DOCKETWATCH_ACK_SECRET": "bench-secret",
            "DOCKETWATCH_SOURCES": "",
            "DOCKETWATCH_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
            "DOCKETWATCH_DISPATCH_SECONDS": str(DISPATCH_S),
            "DOCKETWATCH_DATA_DIR": str(tmp / "data"),
            "DOCKETWATCH_LOG_LEVEL": "WARNING",
            "XDG_CONFIG_HOME": str(tmp / "config"),
        }
    )
    exe = shutil.which("docketwatch", path=str(Path(sys.executable).parent)) or "docketwatch"
    service = subprocess.Popen(
        [exe, "run"], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return service, base
        except httpx.TransportError:
            pass
        if service.poll() is not None or time.monotonic() > deadline:
            said = service.stderr.read() if service.stderr else ""
            service.kill()
            raise SystemExit(f"the service did not start: {said}")
        time.sleep(0.2)


def _users(engine: sa.Engine, n: int) -> tuple[list[tuple[str, str, list[int]]], int]:
    """Up to ``n`` users: one admin, two coordinators, the rest attorneys (each opening their
    own clients); and the client whose events probe the dispatcher."""
    with session_scope(engine) as s:
        st, cl = table(Staff).c, table(Client).c
        staff = s.execute(sa.select(st.id, st.email, st.role).order_by(st.id)).all()
        owned: dict[int, list[int]] = defaultdict(list)
        for cid, atty in s.execute(sa.select(cl.id, cl.primary_attorney_id)).all():
            owned[atty].append(cid)
    every = [c for cs in owned.values() for c in cs]
    by_role = {
        r: [(i, e) for i, e, role in staff if role == r]
        for r in ("admin", "coordinator", "attorney")
    }
    chosen = [
        ("admin", *by_role["admin"][0]),
        *(("coordinator", *x) for x in by_role["coordinator"][:2]),
    ]
    chosen += [("attorney", *x) for x in by_role["attorney"]]
    users = [(role, email, owned[sid] or every) for role, sid, email in chosen][:n]
    return users, every[0]


@dataclass
class _Run:
    """What the load saw: each page's times, the errors, and the service's beats and sends."""

    timings: dict[str, list[float]]
    errors: list[str]
    watch: ServiceWatch


def _load(
    base: str, users: list[tuple[str, str, list[int]]], seconds: float, watch: ServiceWatch
) -> _Run:
    """The users at work for ``seconds`` while ``watch`` probes the service; then the last
    probes' dispatch pass is waited for."""
    watch.start()
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []

    async def load() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                user(base, email, role, clients, until, i, timings, errors)
                for i, (role, email, clients) in enumerate(users)
            )
        )

    print(f"load: {len(users)} users for {seconds:.0f} s on {base} ...", flush=True)
    try:
        asyncio.run(load())
        watch.emitting = False  # then wait for the last probes' dispatch pass
        deadline = time.monotonic() + DISPATCH_S + 8
        while len(watch.delivered) < len(watch.emitted) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        watch.stop.set()
        watch.join()
    return _Run(timings, errors, watch)


def _report(args: argparse.Namespace, n_users: int, run: _Run) -> None:
    timings, errors, watch = run.timings, run.errors, run.watch
    floor = pct(timings["ready"], 0.95)
    print(f"{'page':26} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p95/floor':>10}")
    per_page = {}
    for name in sorted(timings, key=lambda n: n == "ready"):
        values = timings[name]
        p50, p95 = pct(values, 0.5) * 1000, pct(values, 0.95) * 1000
        per_page[name] = {"requests": len(values), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{name:26} {len(values):>9} {p50:>8.1f} {p95:>8.1f} {p95 / (floor * 1000):>10.1f}")
    worst = max((v["p95_ms"] for k, v in per_page.items() if k != "ready"), default=0.0)
    ratio = worst / (floor * 1000) if floor else float("inf")
    gaps = [(b - a).total_seconds() for a, b in zip(watch.beats, watch.beats[1:], strict=False)]
    latencies = [watch.delivered[e] - t for e, t in watch.emitted.items() if e in watch.delivered]
    undelivered = len(watch.emitted) - len(latencies)
    beat_ok = bool(gaps) and max(gaps) <= 3 * HEARTBEAT_S
    dispatch_ok = undelivered == 0 and bool(latencies) and max(latencies) <= DISPATCH_S + 5
    print(
        f"floor (/ready) p95: {floor * 1000:.1f} ms; worst page p95 {worst:.1f} ms = "
        f"{ratio:.1f}x (target {TARGET:.0f}x); errors: {len(errors)}"
    )
    print(
        f"service meanwhile: {len(gaps)} heartbeat gaps, longest {max(gaps, default=0):.1f} s "
        f"(every {HEARTBEAT_S:.0f} s; on time: {beat_ok}); {len(latencies)} alerts sent, "
        f"slowest {max(latencies, default=0):.1f} s after emission, {undelivered} not sent "
        f"(dispatch every {DISPATCH_S:.0f} s; on time: {dispatch_ok})"
    )
    for problem in errors[:10]:
        print(f"error: {problem}")
    met = ratio <= TARGET and not errors and beat_ok and dispatch_ok
    print(
        json.dumps(
            {
                "bench": "web",
                "users": n_users,
                "seconds": args.seconds,
                "clients": args.clients,
                "events": args.events,
                "cases": args.cases,
                "pages": per_page,
                "reference": round(floor * 1000, 2),
                "worst_p95_ms": worst,
                "ratio": round(ratio, 2),
                "target": TARGET,
                "errors": len(errors),
                "heartbeat_longest_gap_s": round(max(gaps, default=0.0), 2),
                "dispatch_slowest_s": round(max(latencies, default=0), 2),
                "undelivered": undelivered,
                "beat_on_time": beat_ok,
                "dispatch_on_time": dispatch_ok,
                "median_dispatch_s": round(statistics.median(latencies), 2) if latencies else None,
                "met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
