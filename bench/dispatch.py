"""Benchmark: alerts through detect -> route -> outbox -> Apprise, against Apprise alone.

What it measures, on SQLite with a real SMTP server on loopback: N hearing changes (default
10,000) for 2,000 clients and 200 staff are detected (monitor.detect), written as events with
their deliveries (route, outbox), then the dispatcher sends every delivery through Apprise to
the SMTP server, recording each attempt. Printed: events/s through detect -> route -> outbox,
deliveries/s through the dispatcher, and the whole pipeline's time.

The reference, in the same run: Apprise alone sending the very same messages (same titles,
bodies and formats) to the same server, one fresh Apprise object per message, as the
dispatcher uses. Target: the whole pipeline within 1.5x of Apprise alone.

Usage: python bench/dispatch.py [--events N] [--clients N] [--staff N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apprise  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from rich.progress import Progress  # noqa: E402

from monitor.detect import HearingSnapshot, hearing_changes  # noqa: E402
from monitor.dispatch import AppriseSender, Dispatcher, SendResult  # noqa: E402
from monitor.messages import Message  # noqa: E402
from monitor.route import emit  # noqa: E402
from sandbox.mail import SmtpSink  # noqa: E402
from sandbox.roster import FAMILY, GIVEN  # noqa: E402
from storage.bulk import insert_rows, table  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Client, Staff, StaffChannel  # noqa: E402
from storage.reference_data import load_reference_data  # noqa: E402
from storage.secrets import keyring_of  # noqa: E402
from storage.settings import Settings  # noqa: E402

TARGET = 1.5
NOW = datetime.now(UTC)


def _seed(engine: sa.Engine, sink: SmtpSink, n_clients: int, n_staff: int) -> list[int]:
    rng = random.Random(5)
    n_admins, n_coordinators = max(1, n_staff // 20), max(1, n_staff // 10)
    roles = ["admin"] * n_admins + ["coordinator"] * n_coordinators
    roles += ["attorney"] * (n_staff - len(roles))
    with engine.begin() as conn:
        insert_rows(
            conn,
            table(Staff),
            [
                {
                    "name": f"Staff {i}",
                    "organization_id": 1,
                    "email": f"staff{i}@example.org",
                    "role": role,
                    "language": "es" if i % 4 == 0 else "en",
                    "digest": False,
                    "min_severity": "info",
                    "muted_kinds": [],
                    "active": True,
                    "created_at": NOW,
                }
                for i, role in enumerate(roles)
            ],
        )
        staff = list(conn.execute(table(Staff).select()))
        keyring = keyring_of(conn.dialect)  # a bulk insert passes by the ORM, which makes it
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
        attorneys = [s.id for s in staff if s.role == "attorney"]
        insert_rows(
            conn,
            table(Client),
            [
                {
                    "organization_id": 1,  # the database's one program
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
        return [row.id for row in conn.execute(table(Client).select())]


class Recording:
    """The dispatcher's sender, keeping each message for the reference run."""

    def __init__(self, progress: Progress, task: object) -> None:
        self.inner = AppriseSender()
        self.sent: list[tuple[str, Message]] = []
        self.progress, self.task = progress, task

    def __call__(self, url: str, message: Message) -> SendResult:
        self.sent.append((url, message))
        self.progress.advance(self.task)  # type: ignore[arg-type]
        return self.inner(url, message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--staff", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dw-bench-") as tmp, SmtpSink() as sink:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        load_reference_data(engine)
        clients = _seed(engine, sink, args.clients, args.staff)
        rng = random.Random(9)
        start_day = datetime(2027, 3, 1)

        # detect -> route -> outbox
        t0 = time.perf_counter()
        produced = 0
        with session_scope(engine) as session:
            for i in range(args.events):
                client_id = clients[i % len(clients)]
                old_day = start_day + timedelta(days=rng.randrange(0, 120))
                new_day = old_day + timedelta(days=rng.choice([-30, -14, -7, 7, 14, 30]))
                old = HearingSnapshot(
                    date=old_day.date().isoformat(),
                    time="8:30 AM",
                    court="ADL",
                    court_name="Adelanto Immigration Court",
                    judge="SMITH, JOHN",
                    medium="In person",
                )
                new = old.model_copy(update={"date": new_day.date().isoformat()})
                for event in hearing_changes(client_id, old, new, NOW, basis=f"{i}"):
                    emit(session, event, NOW)
                    produced += 1
                if i % 500 == 499:
                    session.commit()
        t_outbox = time.perf_counter() - t0

        settings = Settings(escalation_minutes=10**6, delivery_max_attempts=5)
        with Progress(transient=True) as progress:
            task = progress.add_task("dispatching", total=produced)
            recorder = Recording(progress, task)
            t0 = time.perf_counter()
            report = Dispatcher(engine, settings, sender=recorder).run_once()
            t_dispatch = time.perf_counter() - t0
        assert report.sent == produced == len(sink.messages), (report, len(sink.messages))

        # The reference: Apprise alone, the same messages to the same server.
        t0 = time.perf_counter()
        with Progress(transient=True) as progress:
            task = progress.add_task("Apprise alone", total=len(recorder.sent))
            for url, message in recorder.sent:
                body, body_format = message.body_for(url)
                notifier = apprise.Apprise()
                notifier.add(url)
                assert notifier.notify(title=message.title, body=body, body_format=body_format)
                progress.advance(task)
        t_reference = time.perf_counter() - t0
        engine.dispose()

    total = t_outbox + t_dispatch
    ratio = total / t_reference
    print(f"events: {produced:,} for {args.clients:,} clients and {args.staff} staff (SQLite)")
    print(f"detect -> route -> outbox  {t_outbox:8.2f} s   {produced / t_outbox:10,.0f} events/s")
    print(
        f"dispatch through Apprise   {t_dispatch:8.2f} s   {report.sent / t_dispatch:10,.1f} "
        "deliveries/s"
    )
    print(f"whole pipeline             {total:8.2f} s")
    print(
        f"reference: Apprise alone   {t_reference:8.2f} s   "
        f"{len(recorder.sent) / t_reference:10,.1f} messages/s"
    )
    print(f"ratio {ratio:.2f} (target <= {TARGET})")
    print(
        json.dumps(
            {
                "bench": "dispatch",
                "events": produced,
                "clients": args.clients,
                "staff": args.staff,
                "events_per_s": round(produced / t_outbox),
                "outbox_s": round(t_outbox, 2),
                "deliveries_per_s": round(report.sent / t_dispatch, 1),
                "dispatch_s": round(t_dispatch, 2),
                "pipeline_s": round(total, 2),
                "reference": "Apprise alone, same messages, same SMTP server",
                "reference_s": round(t_reference, 2),
                "ratio": round(ratio, 2),
                "target": TARGET,
                "met": ratio <= TARGET,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
