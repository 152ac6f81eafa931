"""ACIS end to end: real Chromium against the replica over HTTP, real SMTP on loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from checks.acis import check as run_acis_check
from monitor.dispatch import Dispatcher
from sandbox.acis import AcisSandbox
from sandbox.acis_data import Case, Hearing
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope
from storage.models import AcisLookup, Client, Event
from storage.people import add_client, add_staff, assign
from storage.settings import Settings
from tests.support.db import migrated_sqlite

pytestmark = pytest.mark.slow
ATTORNEYS = [f"atty{i}@example.org" for i in range(5)]
# Hearings are dated from the real today: the spider judges 'upcoming' by the real clock.
SOON = date.today() + timedelta(days=40)
NATS = ["MX", "GT", "HO", "ES", "IN"]  # IN: picked by its exact label, never IO


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[sa.Engine, AcisSandbox, SmtpSink, Settings]]:
    url = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(url)
    with AcisSandbox() as replica, SmtpSink() as sink:
        with session_scope(engine) as s:
            for email in ATTORNEYS:
                add_staff(s, name=email, email=email, role="attorney", channels=[sink.url(email)])
            add_staff(
                s,
                name="Admin",
                email="admin@example.org",
                role="admin",
                channels=[sink.url("admin@example.org")],
            )
        settings = Settings(
            database_url=url,
            acis_base_url=replica.url,
            acis_pace_seconds=0,
            acis_language="EN",
            browser_timeout_seconds=5,  # the failure paths wait this long, not the default 10 s
        )
        yield engine, replica, sink, settings
    engine.dispose()


def _clients(engine: sa.Engine, replica: AcisSandbox, n: int) -> list[Case]:
    cases = []
    with session_scope(engine) as s:
        for i in range(n):
            number = f"9100000{i:02d}"
            nat = NATS[i % len(NATS)]
            add_client(s, a_number=number, name=f"CLIENT{i}, TEST", nationality=nat)
            assign(s, number, ATTORNEYS[i % len(ATTORNEYS)], "primary")
            case = Case(
                number,
                nat,
                case_id=10_000_000 + i,
                hearing=Hearing(on=SOON + timedelta(days=i % 20)),
            )
            replica.set_case(case)
            cases.append(case)
    return cases


def _check(engine: sa.Engine, settings: Settings) -> tuple[str, Counter[str], Counter[str]]:
    with session_scope(engine) as s:
        clients = list(s.exec(select(Client)))
    report = run_acis_check(engine, settings, clients)
    Dispatcher(engine, settings).run_once()
    return report.outcome, report.outcomes, report.events


#: every kind of hearing change (what changes, the event): the first eight are one of each kind;
#: the scale tier also moves a second hearing earlier and a second later
CHANGES: list[tuple[dict[str, Any] | None, str]] = [
    ({"on": SOON - timedelta(days=20)}, "hearing_moved_earlier"),
    ({"on": SOON + timedelta(days=60)}, "hearing_moved_later"),
    ({"time": "1:30 PM"}, "hearing_time_changed"),
    ({"judge": "Lee, Ann", "judge_code": "ALE"}, "hearing_judge_changed"),
    ({"medium": "V"}, "hearing_medium_changed"),
    ({"location": "ADE"}, "hearing_location_changed"),
    ({"cal_type": "I", "schedule_type": "ID"}, "hearing_type_changed"),
    (None, "hearing_removed"),
    ({"on": SOON - timedelta(days=19)}, "hearing_moved_earlier"),
    ({"on": SOON + timedelta(days=61)}, "hearing_moved_later"),
]


@pytest.mark.parametrize("n", [8, pytest.param(50, marks=pytest.mark.scale)])
def test_clients_and_every_change(
    world: tuple[sa.Engine, AcisSandbox, SmtpSink, Settings], n: int
) -> None:
    """Every kind of hearing change, among ``n`` clients and one more whose answer changes only
    in its clock fields (8: each client one change, one of each kind; the scale tier: 50, of
    whom ten change, so that with the one more 41 must stay silent)."""
    engine, replica, sink, settings = world
    cases = _clients(engine, replica, n + 1)
    outcome, outcomes, events = _check(engine, settings)
    assert (outcome, outcomes, events) == ("ok", Counter(ok=n + 1), Counter())

    for case in cases:  # the next day: the clock fields change for everyone
        case.elapsed_days += 1
    expected: dict[int, str] = {}
    for i, (change, kind) in enumerate(CHANGES[: min(n, len(CHANGES))]):
        current = cases[i].hearing
        assert current is not None
        cases[i].hearing = None if change is None else replace(current, **change)
        expected[i] = kind
    outcome, outcomes, events = _check(engine, settings)
    assert outcomes == Counter(ok=n + 1)
    assert events == Counter(expected.values())  # nothing for a change of the clock alone
    assert len(sink.messages) == len(expected)
    for i, kind in expected.items():
        mails = sink.to(ATTORNEYS[i % len(ATTORNEYS)])
        last4 = cases[i].a_number[-4:]
        mine = [m for m in mails if f"***{last4}" in m.subject]
        assert len(mine) == 1, (i, kind, [m.subject for m in mails])
        headline = {
            "hearing_moved_earlier": "Hearing moved EARLIER",
            "hearing_moved_later": "Hearing moved later",
            "hearing_time_changed": "Hearing time changed",
            "hearing_judge_changed": "Judge changed",
            "hearing_medium_changed": "Hearing format changed",
            "hearing_location_changed": "Hearing location changed",
            "hearing_type_changed": "Hearing type changed",
            "hearing_removed": "No upcoming hearing any more",
        }[kind]
        assert headline in mine[0].subject
    assert sink.to("admin@example.org") == []


def test_source_trouble_then_recovery(
    world: tuple[sa.Engine, AcisSandbox, SmtpSink, Settings],
) -> None:
    engine, replica, sink, settings = world
    cases = _clients(engine, replica, 1)  # the source is what fails: one lookup shows it
    assert _check(engine, settings)[0] == "ok"

    # The failing pages need not be waited for as long as a real site: 2 s per wait.
    impatient = settings.model_copy(update={"browser_timeout_seconds": 2})
    replica.state.refuse_all = True  # the captcha refuses every lookup
    assert _check(engine, impatient)[:2] == ("blocked", Counter(blocked=1))
    replica.state.refuse_all = False
    replica.state.fail_502 = {c.a_number for c in cases}  # a Cloudflare 502
    assert _check(engine, settings)[:2] == ("failed", Counter(upstream_error=1))
    assert sink.to("admin@example.org") == []  # two failing runs: not yet
    replica.state.fail_502 = set()
    replica.state.layout = "v2"  # the page changed
    assert _check(engine, impatient)[:2] == ("layout_changed", Counter(layout_changed=1))
    (unhealthy,) = sink.to("admin@example.org")
    assert "Source failing" in unhealthy.subject

    replica.state.layout = "v1"
    replica.rotate_nationality_hash()  # the Gatsby hash rotated: the page still works
    assert _check(engine, settings)[:2] == ("ok", Counter(ok=1))
    notices = [m.subject for m in sink.to("admin@example.org")]
    assert any("Source recovered" in subject for subject in notices)
    # Nothing of this reached an attorney, and no client event was made.
    assert all(sink.to(a) == [] for a in ATTORNEYS)
    with session_scope(engine) as s:
        kinds = {e.kind for e in s.exec(select(Event))}
        assert kinds == {"source_unhealthy", "source_recovered"}
        outcomes = Counter(x.outcome for x in s.exec(select(AcisLookup)))
    assert outcomes == Counter(ok=2, blocked=1, upstream_error=1, layout_changed=1)


def test_a_page_changed_once_is_looked_at_again(
    world: tuple[sa.Engine, AcisSandbox, SmtpSink, Settings],
) -> None:
    """A page caught once without its form (mid-deploy, or rendered too slowly on a busy
    machine) is loaded again before it is called a changed layout; a page changed for good is
    layout_changed, and its message says it was seen twice."""
    engine, replica, sink, settings = world
    _clients(engine, replica, 1)
    impatient = settings.model_copy(update={"browser_timeout_seconds": 2})
    replica.state.glitches = 1  # only the first page load is the changed one
    assert _check(engine, impatient)[:3] == ("ok", Counter(ok=1), Counter())
    assert replica.state.glitches == 0
    assert replica.state.lookups == 1  # the answer came, not lost to the glitch

    replica.state.layout = "v2"
    assert _check(engine, impatient)[:2] == ("layout_changed", Counter(layout_changed=1))
    with session_scope(engine) as s:
        lookup = s.exec(select(AcisLookup).order_by(col(AcisLookup.id).desc())).first()
        assert lookup is not None and lookup.message.endswith("(on 2 loads of the page)")
    assert all(sink.to(a) == [] for a in ATTORNEYS)


def test_a_slow_acis_is_a_timeout_never_a_changed_page(
    world: tuple[sa.Engine, AcisSandbox, SmtpSink, Settings],
) -> None:
    """ACIS that answers after the wait ran out: the lookup is timed_out (the site is slow), not
    layout_changed, and says nothing about the client's case."""
    engine, replica, sink, settings = world
    _clients(engine, replica, 1)
    assert _check(engine, settings)[:2] == ("ok", Counter(ok=1))
    replica.state.latency_s = 8  # the answer comes after the 2 x 2 s the spider waits for it
    impatient = settings.model_copy(update={"browser_timeout_seconds": 2})
    outcome, outcomes, events = _check(engine, impatient)
    assert (outcome, outcomes, events) == ("timed_out", Counter(timed_out=1), Counter())
    with session_scope(engine) as s:
        lookup = s.exec(select(AcisLookup).order_by(col(AcisLookup.id).desc())).first()
        assert lookup is not None and "did not answer" in lookup.message
    assert sink.messages == []


def test_headed_browser_under_a_virtual_display(
    world: tuple[sa.Engine, AcisSandbox, SmtpSink, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real ACIS rejects headless browsers: headed, with no display, runs under Xvfb."""
    engine, replica, _sink, settings = world
    _clients(engine, replica, 1)
    monkeypatch.delenv("DISPLAY", raising=False)
    headed = settings.model_copy(update={"browser_headed": True})
    outcome, outcomes, _ = _check(engine, headed)
    assert (outcome, outcomes) == ("ok", Counter(ok=1))
