"""Court status: the page parser, and a court closure end to end (replica -> alerts by email)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from checks.court_status import check as run_court_check
from sandbox.court_status import CourtsState, CourtStatusSandbox, render_court_page, render_status
from sandbox.mail import SmtpSink
from spiders.court_status import closure_days, parse_court_page, parse_status_page
from storage.db import session_scope
from storage.errors import LayoutChangedError
from storage.models import CheckRequest, CourtStatus, CrawlRun, Event, Hearing
from storage.people import add_client, add_staff, assign
from storage.settings import Settings
from tests.support.alerting import Clock, dispatcher
from tests.support.golden import check_golden

TODAY = date(2026, 11, 27)
FIXTURES = Path(__file__).parent / "fixtures" / "court_status"
STATUS_PAGES = sorted(FIXTURES.glob("operational_status_*.html"))


@pytest.mark.parametrize("path", STATUS_PAGES, ids=lambda p: p.stem)
def test_recorded_status_pages_golden(path: Path, update_goldens: bool) -> None:
    """The status page as EOIR's site lays it out (the site's chrome, a table head, statuses
    over several leaves, the map's JSON): every court, its status and closure days."""
    rows = parse_status_page(path.read_text(), TODAY)
    assert len(rows) >= 60
    check_golden(
        path.with_suffix(".expected.json"),
        [{**asdict(r), "closed_days": [d.isoformat() for d in r.closed_days]} for r in rows],
        update_goldens,
    )


def test_recorded_pages_say_what_changed() -> None:
    """Read the two recorded pages as two runs would: Adelanto closed on two days, Santa Ana's
    note of an early close is not a closure."""
    before = {r.slug: r for r in parse_status_page(STATUS_PAGES[1].read_text(), TODAY)}
    after = {r.slug: r for r in parse_status_page(STATUS_PAGES[0].read_text(), TODAY)}
    assert "all_open" in STATUS_PAGES[1].name and "closed" in STATUS_PAGES[0].name
    assert not any(r.closed for r in before.values())
    adelanto = after["adelanto-immigration-court"]
    assert adelanto.closed and adelanto.code == "ADL"
    assert [d.isoformat() for d in adelanto.closed_days] == ["2026-12-08", "2026-12-09"]
    assert not after["santa-ana-immigration-court"].closed


def test_recorded_court_page_lists_its_judges() -> None:
    judges = parse_court_page((FIXTURES / "adelanto_court_page.html").read_text())
    assert judges == ["Aldana, T.", "Brandt, U.", "Chowdhury, V.", "Delacroix, W."]


def test_status_page_parses_72_courts_and_closure_text() -> None:
    state = CourtsState()
    state.status["adelanto-immigration-court"] = (
        "CLOSED\nThe court is closed on November 30 - December 1, 2026 due to a power outage."
    )
    rows = parse_status_page(render_status(state), TODAY)
    assert len(rows) == 72
    adl = next(r for r in rows if r.code == "ADL")
    assert adl.closed and adl.closed_days == [date(2026, 11, 30), date(2026, 12, 1)]
    assert "power outage" in adl.status and "\xa0" not in adl.status
    assert not next(r for r in rows if r.code == "SNC").closed
    assert "10250 Rancho Road" in adl.address


def test_fewer_than_60_courts_is_a_layout_change_not_closures() -> None:
    state = CourtsState(layout="broken")
    with pytest.raises(LayoutChangedError, match="layout changed"):
        parse_status_page(render_status(state), TODAY)


def test_closure_dates_in_free_text() -> None:
    assert closure_days("CLOSED on 12/02/2026 and 12/03/2026", TODAY) == [
        date(2026, 12, 2),
        date(2026, 12, 3),
    ]
    assert closure_days("Closed Friday, November 27.", TODAY) == [date(2026, 11, 27)]
    assert closure_days("CLOSED until further notice", TODAY) == []


def test_judges_from_the_court_page() -> None:
    state = CourtsState(judges=["Abara, A.", "Ibarra, I."])
    assert parse_court_page(render_court_page(state)) == ["Abara, A.", "Ibarra, I."]
    with pytest.raises(LayoutChangedError):
        parse_court_page("<html><h1>Adelanto</h1><p>moved</p></html>")


@pytest.fixture
def site() -> Iterator[CourtStatusSandbox]:
    with CourtStatusSandbox() as replica:
        yield replica


def test_court_closure_end_to_end(engine: sa.Engine, site: CourtStatusSandbox) -> None:
    now = datetime.now(UTC)
    local_today = now.astimezone(ZoneInfo("America/Los_Angeles")).date()
    d1, d2 = local_today + timedelta(days=3), local_today + timedelta(days=4)
    later = local_today + timedelta(days=20)
    with SmtpSink() as sink:
        with session_scope(engine) as s:
            for who, role in (
                ("ana@example.org", "attorney"),
                ("beto@example.org", "attorney"),
                ("cleo@example.org", "attorney"),
                ("coord@example.org", "coordinator"),
                ("admin@example.org", "admin"),
            ):
                add_staff(
                    s,
                    name=who.split("@")[0].title(),
                    email=who,
                    role=role,
                    channels=[sink.url(who)],
                    now=now,
                )
            plan = [
                ("912000001", "ana@example.org", "ADL", d1),  # affected
                ("912000002", "beto@example.org", "ADL", d2),  # affected
                ("912000003", "cleo@example.org", "ADL", later),  # ADL, but not on those days
                ("912000004", "cleo@example.org", "LOS", d1),  # those days, another court
            ]
            clients = {}
            for a_number, attorney, court, day in plan:
                c = add_client(
                    s,
                    a_number=a_number,
                    name=f"TEST, CLIENT {a_number[-1]}",
                    nationality="MX",
                    now=now,
                )
                assign(s, a_number, attorney, "primary", now=now)
                assert c.id is not None
                s.add(
                    Hearing(
                        client_id=c.id,
                        hearing_on=day,
                        hearing_time="8:30 AM",
                        timezone="America/Los_Angeles",
                        court_code=court,
                        judge="Abara, A.",
                        seen_at=now,
                    )
                )
                clients[a_number] = c.id
        settings = Settings(court_status_base_url=site.url)
        first = run_court_check(engine, settings)
        assert first.outcome == "ok" and first.items == 72 and not first.events
        text = f"CLOSED\nClosed on {d1:%B} {d1.day} and {d2:%m/%d/%Y} (HVAC repairs)."
        site.close("adelanto-immigration-court", text)
        closed = run_court_check(engine, settings)
        assert closed.events == {"court_closed": 2, "court_closed_summary": 1}
        clock = Clock(datetime.now(UTC))
        assert dispatcher(engine, clock).run_once().sent == 3
        for who in ("ana@example.org", "beto@example.org"):
            (mail,) = sink.to(who)
            assert "URGENT" in mail.subject.upper() and "Court CLOSED" in mail.subject
            assert "HVAC" in mail.text() and "unverified" in mail.text()
        assert sink.to("cleo@example.org") == []
        (summary,) = sink.to("coord@example.org")
        assert "2 client hearing(s)" in summary.text()
        assert "TEST" not in summary.text()  # no client names in a coordinator summary
        with Session(engine) as s:
            unverified = s.exec(select(Hearing).where(col(Hearing.verified).is_(False))).all()
            assert sorted(h.client_id for h in unverified) == sorted(
                [clients["912000001"], clients["912000002"]]
            )
            requests = s.exec(select(CheckRequest)).all()
            assert sorted(r.client_id for r in requests) == sorted(h.client_id for h in unverified)
            assert all(r.source == "acis" and r.done_at is None for r in requests)
        # Polling again: nothing new.
        assert run_court_check(engine, settings).events == {}
        # Judges change at Adelanto: coordinators hear of it.
        site.set_judges(
            [
                "Abara, A.",
                "Bellweather, C.",
                "Castellan, D.",
                "Dunmore, E.",
                "Esquivel, F.",
                "Ibarra, I.",
            ]
        )
        judges = run_court_check(engine, settings)
        assert judges.events == {"court_judges_changed": 1}
        # The court reopens: the two clients' attorneys hear of it.
        site.reopen("adelanto-immigration-court")
        reopened = run_court_check(engine, settings)
        assert reopened.events == {"court_reopened": 2}
        # A redesigned page: a failing run for the admins, no court "vanishes".
        site.state.layout = "broken"
        broken = run_court_check(engine, settings)
        assert broken.outcome == "layout_changed"
    with Session(engine) as s:
        kinds = [e.kind for e in s.exec(select(Event).order_by(col(Event.id)))]
        assert kinds.count("court_closed") == 2 and kinds.count("court_reopened") == 2
        assert s.exec(select(sa.func.count()).select_from(CourtStatus)).one() == 72
        assert [r.outcome for r in s.exec(select(CrawlRun).order_by(col(CrawlRun.id)))][-1] == (
            "layout_changed"
        )
