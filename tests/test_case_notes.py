"""Hearing changes land on the case (issue 28, point 3): each client event that alerts an
attorney becomes a case note on the client's LegalServer matter, through the outbox as its own
kind, against the replica over real HTTP: retried, never twice, failures to admins only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from sandbox.legalserver import LegalServerSandbox
from sandbox.mail import SmtpSink
from storage.case_system import set_case_system
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import CaseNote, Client, Delivery, Event, Staff
from tests.support.alerting import START, Clock, dispatcher, emit_one, hearing_moved, make_org

MATTER = str(uuid.UUID(int=42))


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def site() -> Iterator[LegalServerSandbox]:
    with LegalServerSandbox() as replica:
        replica.state.matters[MATTER] = []
        yield replica


def _wire(engine: sa.Engine, sink: SmtpSink, site: LegalServerSandbox, **kw: object) -> object:
    org = make_org(engine, sink, START)
    with session_scope(engine) as s:
        client = s.get(Client, org.client_id)
        assert client is not None
        client.case_uuid = MATTER
        set_case_system(
            s,
            client.organization_id,
            now=START,
            site=site.url,
            token="sandbox-token",
            **kw,  # type: ignore[arg-type]
        )
    return org


def _case_deliveries(engine: sa.Engine) -> list[Delivery]:
    with session_scope(engine) as s:
        return list(
            s.exec(select(Delivery).where(Delivery.kind == "case_note").order_by(col(Delivery.id)))
        )


def test_an_alert_becomes_one_case_note(
    sqlite_engine: sa.Engine, sink: SmtpSink, site: LegalServerSandbox
) -> None:
    org = _wire(sqlite_engine, sink, site, language="es")
    event = emit_one(sqlite_engine, hearing_moved(org, START), START)  # type: ignore[arg-type]
    assert event is not None
    dispatcher(sqlite_engine, Clock(START)).run_once()
    (note,) = site.state.matters[MATTER]
    assert note["note_type"] == "docketwatch"
    assert f"[docketwatch-event-{event.id}]" in note["subject"]
    assert "ADELANTADA" in note["subject"]  # the program's language: Spanish
    assert "2026" in note["body"] and "SMITH, JOHN" in note["body"]
    assert "912345678" not in note["body"] + note["subject"]  # named as alerts name clients
    assert sink.to("ana@example.org")  # the attorney was alerted too
    with session_scope(sqlite_engine) as s:
        (stored,) = s.exec(select(CaseNote)).all()
        assert stored.note_uuid == note["casenote_uuid"] and stored.event_id == event.id
    # the same event never queues a second note; a later pass writes nothing more
    dispatcher(sqlite_engine, Clock(START + timedelta(minutes=5))).run_once()
    assert len(site.state.matters[MATTER]) == 1
    # the delivery log shows it beside the alerts
    from monitor.alerts import delivery_log

    with session_scope(sqlite_engine) as s:
        logged = [r for r in delivery_log(s) if r["kind"].startswith("case_note:")]
        only = delivery_log(s, kind_name="case_note")
    assert [(r["kind"], r["status"], r["channel"]) for r in logged] == [
        ("case_note:hearing_moved_earlier", "sent", "LegalServer")
    ]
    assert only == logged


def test_a_write_that_timed_out_is_found_not_written_again(
    sqlite_engine: sa.Engine, sink: SmtpSink, site: LegalServerSandbox
) -> None:
    org = _wire(sqlite_engine, sink, site)
    site.state.write_then_fail = [504]  # the note is written; the answer is lost
    site.state.fail_next = []
    emit_one(sqlite_engine, hearing_moved(org, START), START)  # type: ignore[arg-type]
    clock = Clock(START)
    d = dispatcher(sqlite_engine, clock)
    d.run_once()
    (delivery,) = _case_deliveries(sqlite_engine)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "HTTP 504" in delivery.last_error
    clock.advance(seconds=61)
    d.run_once()
    (delivery,) = _case_deliveries(sqlite_engine)
    assert delivery.status == "sent"
    assert len(site.state.matters[MATTER]) == 1  # found by its key, never written twice
    with session_scope(sqlite_engine) as s:
        (stored,) = s.exec(select(CaseNote)).all()
    assert stored.note_uuid == site.state.matters[MATTER][0]["casenote_uuid"]


def test_failures_reach_admins_only(
    sqlite_engine: sa.Engine, sink: SmtpSink, site: LegalServerSandbox
) -> None:
    org = _wire(sqlite_engine, sink, site)
    site.state.core_token = "rotated"  # the stored token no longer works
    emit_one(sqlite_engine, hearing_moved(org, START), START)  # type: ignore[arg-type]
    clock = Clock(START)
    d = dispatcher(sqlite_engine, clock)
    for wait in (0, 61, 121):
        clock.advance(seconds=wait)
        d.run_once()
    (delivery,) = _case_deliveries(sqlite_engine)
    assert delivery.status == "failed" and "HTTP 401" in delivery.last_error
    assert site.state.matters[MATTER] == []
    with session_scope(sqlite_engine) as s:
        (told,) = s.exec(select(Event).where(Event.kind == "case_note_failed")).all()
        deliveries = s.exec(select(Delivery).where(Delivery.event_id == told.id)).all()
        roles = {s.get(Staff, d.staff_id).role for d in deliveries}  # type: ignore[union-attr]
    assert roles == {"admin"}
    d.run_once()
    assert any("Case note NOT written" in m.subject for m in sink.to("admin@example.org"))
    assert not any("Case note" in m.subject for m in sink.to("ana@example.org"))
    # The token fixed, an admin retries it: it is looked for first, then written once.
    from monitor.alerts import retry

    site.state.core_token = "sandbox-token"
    with session_scope(sqlite_engine) as s:
        assert retry(s, [delivery.id or 0], False, clock.now) == 1
    d.run_once()
    (delivery,) = _case_deliveries(sqlite_engine)
    assert delivery.status == "sent" and len(site.state.matters[MATTER]) == 1
    methods = [c.get("method", "GET") for c in site.state.calls if "/notes" in c["path"]]
    assert methods[-2:] == ["GET", "POST"]  # the search, then the one write


def test_no_site_or_no_matter_no_note(sqlite_engine: sa.Engine, sink: SmtpSink) -> None:
    org = make_org(sqlite_engine, sink, START)
    emit_one(sqlite_engine, hearing_moved(org, START), START)
    assert _case_deliveries(sqlite_engine) == []
    with session_scope(sqlite_engine) as s, pytest.raises(ValidationError, match="https://"):
        set_case_system(s, 1, now=datetime.now(UTC), site="http://ls.example.org", token="t")
