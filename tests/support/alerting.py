"""Helpers for alert tests: a demo organization wired to a real SMTP sink, and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from monitor.dispatch import Dispatcher
from monitor.events import EventInput
from monitor.route import emit
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.models import Event
from storage.people import add_client, add_staff, assign
from storage.settings import Settings


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Org:
    attorney: str = "ana@example.org"  # English
    backup: str = "beto@example.org"  # Spanish
    coordinator: str = "coord@example.org"
    admin: str = "admin@example.org"
    client_id: int = 0
    a_number: str = "912345678"


def make_org(engine: sa.Engine, sink: SmtpSink, now: datetime, **attorney: Any) -> Org:
    org = Org()
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Ana Ruiz",
            email=org.attorney,
            role="attorney",
            channels=[sink.url(org.attorney)],
            now=now,
            **attorney,
        )
        add_staff(
            s,
            name="Beto Paz",
            email=org.backup,
            role="attorney",
            language="es",
            channels=[sink.url(org.backup)],
            now=now,
        )
        add_staff(
            s,
            name="Cora Lee",
            email=org.coordinator,
            role="coordinator",
            channels=[sink.url(org.coordinator)],
            now=now,
        )
        add_staff(
            s, name="Adm In", email=org.admin, role="admin", channels=[sink.url(org.admin)], now=now
        )
        client = add_client(s, a_number=org.a_number, name="DOE, JANE", nationality="HO", now=now)
        assign(s, org.a_number, org.attorney, "primary", now=now)
        assign(s, org.a_number, org.backup, "backup", now=now)
        assert client.id is not None
        org.client_id = client.id
    return org


def hearing_moved(org: Org, now: datetime, key: str = "1") -> EventInput:
    return EventInput(
        kind="hearing_moved_earlier",
        subject_type="client",
        subject_key=str(org.client_id),
        client_id=org.client_id,
        dedup_key=f"test:moved:{key}",
        payload={
            "changes": [{"field": "date", "old": "2027-01-05", "new": "2026-12-01"}],
            "hearing": {
                "date": "2026-12-01",
                "time": "8:30 AM",
                "court": "ADL",
                "court_name": "Adelanto Immigration Court",
                "judge": "SMITH, JOHN",
                "medium": "In person",
                "timezone": "America/Los_Angeles",
                "webex": "https://eoir.webex.com/meet/adl.example",
            },
        },
        occurred_at=now,
    )


def emit_one(engine: sa.Engine, event: EventInput, now: datetime) -> Event | None:
    with session_scope(engine) as s:
        return emit(s, event, now)


def dispatcher(engine: sa.Engine, clock: Clock, **settings: Any) -> Dispatcher:
    base: dict[str, Any] = {"delivery_backoff_seconds": 60, "delivery_max_attempts": 3}
    base.update(settings)
    return Dispatcher(engine, Settings(**base), clock=clock)


START = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles


def web_server(
    engine: sa.Engine,
    secret: str,
    port: int,
    clock: Any = None,
    page_size: int = 100,
    **settings: Any,
) -> Any:
    """The web app on loopback ``port`` (0: any free port), started; ``.stop()`` it."""
    from web.app import create_app
    from web.server import WebServer

    if port == 0:
        from sandbox.mail import free_port

        port = free_port()
    config = Settings(ack_secret=secret, **settings)
    app = create_app(engine, config, clock=clock, page_size=page_size)
    return WebServer(app, "127.0.0.1", port, config).start()


def events_of(engine: sa.Engine) -> list[Event]:
    with session_scope(engine) as s:
        return list(s.exec(select(Event)))
