"""Issue 15, item 9 (the parts built on the current endpoint): mail scanners, expired links,
odd tokens and slow connections against the acknowledgement endpoint, over real HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.messages import ACK_LINK_DAYS, ack_link
from sandbox.mail import SmtpSink, free_port
from storage.models import Event
from tests.support.alerting import (
    START,
    Clock,
    dispatcher,
    emit_one,
    events_of,
    hearing_moved,
    make_org,
    web_server,
)

Served = tuple[str, Event, dict[str, datetime]]


@pytest.fixture
def served(sqlite_engine: sa.Engine) -> Iterator[Served]:
    """The endpoint over real HTTP (on SQLite: the database is not what is tested here)."""
    with SmtpSink() as sink:
        yield from _serve(sqlite_engine, sink)


def _serve(engine: sa.Engine, sink: SmtpSink) -> Iterator[Served]:
    org = make_org(engine, sink, START)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    emit_one(engine, hearing_moved(org, START), START)
    dispatcher(engine, Clock(START), web_base_url=base, ack_secret="s3cret").run_once()
    event = events_of(engine)[0]
    assert event.id is not None
    clock = {"now": START + timedelta(hours=1)}
    server = web_server(engine, "s3cret", port, clock=lambda: clock["now"])
    yield base, event, clock
    server.stop()


def _status(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as page:
            return int(page.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_scanner_opening_the_link_acknowledges_nothing(
    sqlite_engine: sa.Engine, served: Served
) -> None:
    base, event, _ = served
    assert event.id is not None
    link = ack_link(base, "s3cret", event.id, event.created_at)
    assert link is not None
    for _ in range(3):  # scanners open links more than once
        assert _status(link) == 200
    assert events_of(sqlite_engine)[0].acknowledged_at is None


def test_an_expired_link_and_odd_tokens(sqlite_engine: sa.Engine, served: Served) -> None:
    base, event, clock = served
    assert event.id is not None
    link = ack_link(base, "s3cret", event.id, event.created_at)
    assert link is not None
    token = link.split("?t=", 1)[1]
    clock["now"] = START + timedelta(days=ACK_LINK_DAYS, hours=1)
    assert _status(link) == 410
    assert _status(f"{base}/ack/{event.id}", f"t={token}".encode()) == 410
    clock["now"] = START + timedelta(hours=1)
    for odd in ["%C3%A9t%C3%A9.abc", "1.", ".x", "99999999999999999999.ab", "%00"]:
        assert _status(f"{base}/ack/{event.id}?t={odd}") == 403
    assert _status(f"{base}/ack/{event.id}", b"t=" + "é".encode()) == 403
    assert _status(f"{base}/ack/{event.id}", b"x" * 10_000) == 413
    assert events_of(sqlite_engine)[0].acknowledged_at is None
    assert _status(f"{base}/health") == 200  # the server lived through all of it
