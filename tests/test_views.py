"""What the web app's pages read (monitor.views), on SQLite and PostgreSQL: each staff member's
scope, the inbox filters, a client's history, sources, channels and releases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from monitor.views import (
    InboxFilter,
    blocked_clients,
    channel_lines,
    client_history,
    client_lines,
    foia_releases,
    inbox,
    may_acknowledge,
    request_check,
    source_lines,
    visible_client,
)
from sandbox.acis_data import Case, Hearing
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.errors import NotFoundError
from storage.models import CheckRequest, CrawlRun, CustodyLookup, Delivery, Staff, StaffChannel
from storage.people import add_client, add_staff, assign, update_staff
from storage.settings import Settings
from tests.support.acis import look
from tests.support.alerting import START, Clock, dispatcher, emit_one, hearing_moved, make_org


def _ids(engine: sa.Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return {st.email: st.id for st in s.exec(select(Staff)) if st.id is not None}


def test_scope_inbox_and_history(engine: sa.Engine) -> None:
    with SmtpSink() as sink:
        org = make_org(engine, sink, START)
        with session_scope(engine) as s:
            add_staff(s, name="Dan Wu", email="dan@example.org", role="attorney")
            other = add_client(s, a_number="912000002", name="ROE, JUAN", nationality="MX")
            assign(s, "912000002", "dan@example.org", "primary")
            assert other.id is not None
        ids = _ids(engine)
        case = Case(org.a_number, "HO", hearing=Hearing(on=date(2027, 1, 5)))
        look(engine, org.client_id, case, START)
        case.hearing = Hearing(on=date(2026, 12, 20))
        look(engine, org.client_id, case, START + timedelta(days=1))
        acked = emit_one(engine, hearing_moved(org, START, key="a"), START)
        assert acked is not None and acked.id is not None
        dispatcher(engine, Clock(START)).run_once()
        with session_scope(engine) as s:
            s.add(
                CustodyLookup(
                    client_id=org.client_id,
                    observed_at=START,
                    outcome="ok",
                    detained=True,
                    facility_name="ADELANTO ICE PROCESSING CENTER",
                    raw="",
                )
            )
            s.add(CrawlRun(source="acis", started_at=START, finished_at=START, outcome="ok"))
            s.add(
                CrawlRun(
                    source="acis",
                    started_at=START + timedelta(hours=1),
                    outcome="blocked",
                    finished_at=START + timedelta(hours=1),
                )
            )

    with session_scope(engine) as s:
        ana, dan, coord = ids[org.attorney], ids["dan@example.org"], ids[org.coordinator]
        mine = client_lines(s, "attorney", ana)
        assert [(c.id, c.role) for c in mine] == [(org.client_id, "primary")]
        assert mine[0].hearing is not None and mine[0].hearing.hearing_on == date(2026, 12, 20)
        assert mine[0].custody is not None and mine[0].custody.facility_name.startswith("ADELANTO")
        assert {c.id for c in client_lines(s, "coordinator", coord)} == {org.client_id, other.id}
        assert visible_client(s, "attorney", ids[org.backup], org.client_id).id == org.client_id
        with pytest.raises(NotFoundError):
            visible_client(s, "attorney", dan, org.client_id)

        everything = inbox(s, "attorney", ana, InboxFilter(acknowledged="all"))
        kinds = sorted(e.kind for e, _ in everything)
        assert "hearing_moved_earlier" in kinds and len(everything) >= 2
        assert inbox(s, "attorney", dan, InboxFilter(acknowledged="all")) == []
        with pytest.raises(NotFoundError):
            may_acknowledge(s, "attorney", dan, acked.id)
        urgent = inbox(s, "coordinator", coord, InboxFilter(severity="urgent", acknowledged="all"))
        assert urgent and all(e.severity == "urgent" for e, _ in urgent)
        assert inbox(s, "admin", ids[org.admin], InboxFilter(kind="no_such_kind")) == []
        by_client = inbox(s, "admin", ids[org.admin], InboxFilter(client_id=other.id))
        assert by_client == []

        history = client_history(s, visible_client(s, "admin", 0, org.client_id))
        assert [h.hearing_on for h in history.hearings][:2] == [
            date(2026, 12, 20),
            date(2027, 1, 5),
        ]
        assert len(history.lookups) == 2 and len(history.custody) == 1
        deliveries = [d for _, ds in history.events for d in ds]
        assert deliveries and all(email for _, email in deliveries)
        assert request_check(s, history.client, "acis", "ana", START)
        assert not request_check(s, history.client, "acis", "ana", START)  # one pending at a time
    with session_scope(engine) as s:
        assert len(s.exec(select(CheckRequest)).all()) == 1
        sources = {
            line.name: line for line in source_lines(s, Settings(), START + timedelta(hours=2))
        }
        assert sources["acis"].last is not None and sources["acis"].last.outcome == "blocked"
        assert sources["acis"].last_ok is not None and sources["acis"].freshness == "fresh"
        assert sources["court_status"].last is None and sources["court_status"].next_run is None
        channels = channel_lines(s)
        assert {c.staff for c in channels} >= {org.attorney, org.coordinator}
        with_secret = "json://bot:hunter2-secret@127.0.0.1:9/hook"
        update_staff(s, org.admin, add_channels=[with_secret])
        shown = [c.channel for c in channel_lines(s)]
        assert shown and not any("hunter2-secret" in c for c in shown)  # secrets masked
        sent = [c for c in channels if c.staff == org.attorney]
        assert sent and sent[0].last_sent_at is not None
        # A failing channel shows the error of its newest failed delivery.
        ana_sent = list(
            s.exec(select(Delivery).where(Delivery.staff_id == ana).order_by(col(Delivery.id)))
        )
        assert len(ana_sent) >= 2
        first, last = ana_sent[0], ana_sent[-1]
        first.last_error, last.last_error = "an older error", "the newest error"
        channel = s.get(StaffChannel, last.channel_id)
        assert channel is not None
        channel.failing = True
        s.add_all([first, last, channel])
        s.flush()
        (failing,) = [c for c in channel_lines(s) if c.failing]
        assert failing.last_error == "the newest error"
        assert foia_releases(s) == []
        assert blocked_clients(s) == []


def test_blocked_clients_are_those_whose_newest_lookup_was_blocked(engine: sa.Engine) -> None:
    with SmtpSink() as sink:
        org = make_org(engine, sink, START)
    case = Case(org.a_number, "HO", hearing=Hearing(on=date(2027, 1, 5)))
    look(engine, org.client_id, case, START)
    look(engine, org.client_id, "captcha", START + timedelta(hours=1))
    with session_scope(engine) as s:
        ((client, lookup),) = blocked_clients(s)
        assert client.id == org.client_id and lookup.outcome == "blocked"
        assert client_history(s, client).blocked
    look(engine, org.client_id, case, START + timedelta(hours=2))
    with session_scope(engine) as s:
        assert blocked_clients(s) == []
