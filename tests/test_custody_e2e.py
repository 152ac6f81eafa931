"""Custody end to end: real Chromium against the locator replica, real SMTP on loopback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from monitor.custody_check import run_custody_check
from monitor.dispatch import Dispatcher
from sandbox.locator import LocatorSandbox, Person
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope, upgrade
from storage.models import Client, CustodyLookup, Event
from storage.people import add_client, add_staff, assign
from storage.reference_data import load_reference_data
from storage.settings import Settings

pytestmark = pytest.mark.slow
ATTORNEYS = [f"atty{i}@example.org" for i in range(4)]
ADMIN = "admin@example.org"
COUNTRIES = ["MX", "GT", "HO", "ES"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[sa.Engine, LocatorSandbox, SmtpSink, Settings]]:
    url = f"sqlite:///{tmp_path / 'dw.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    with LocatorSandbox() as replica, SmtpSink() as sink:
        with session_scope(engine) as s:
            for email in [*ATTORNEYS, ADMIN]:
                add_staff(
                    s,
                    name=email,
                    email=email,
                    role="admin" if email == ADMIN else "attorney",
                    channels=[sink.url(email)],
                )
        settings = Settings(
            database_url=url,
            locator_base_url=replica.url,
            locator_pace_seconds=0,
            custody_zero_spacing_hours=0,
        )
        yield engine, replica, sink, settings
    engine.dispose()


def _check(engine: sa.Engine, settings: Settings) -> tuple[str, Counter[str], Counter[str]]:
    with session_scope(engine) as s:
        clients = list(s.exec(select(Client)))
    report = run_custody_check(engine, settings, clients)
    Dispatcher(engine, settings).run_once()
    return report.outcome, report.outcomes, report.events


def test_forty_clients_eight_changes_thirty_percent_false_zeros(
    world: tuple[sa.Engine, LocatorSandbox, SmtpSink, Settings],
) -> None:
    engine, replica, sink, settings = world
    people = []
    with session_scope(engine) as s:
        for i in range(40):
            number, country = f"9200000{i:02d}", COUNTRIES[i % 4]
            add_client(s, a_number=number, name=f"CLIENT{i}, TEST", nationality=country)
            assign(s, number, ATTORNEYS[i % 4])
            person = Person(number, country, "TEST", f"CLIENT{i}")
            people.append(person)
            if i not in (36, 37):  # 36 and 37 are not detained yet
                replica.detain(person)
    replica.state.false_zero_rate = 0.3
    for _ in range(3):  # the baseline: people not in the locator are confirmed absent
        _check(engine, settings)
    assert sink.messages == []

    replica.transfer("920000000", "CADESVI")  # Desert View: still Los Angeles
    replica.transfer("920000001", "ELOYAZ")  # Arizona: urgent
    replica.release("920000002")
    replica.release("920000003")
    replica.detain(people[36], "ADLNTCA")
    replica.detain(people[37], "OTAYMESA")
    replica.remove("920000004")
    replica.remove("920000005")
    for _ in range(4):  # zeros must repeat before a removal is believed
        _check(engine, settings)

    with session_scope(engine) as s:
        events = Counter((e.kind, e.client_id) for e in s.exec(select(Event)))
        ids = {c.a_number: c.id for c in s.exec(select(Client))}
        zeros = sum(x.attempts > 1 for x in s.exec(select(CustodyLookup)))
    expected = Counter(
        {
            ("client_transferred", ids["920000000"]): 1,
            ("client_transferred", ids["920000001"]): 1,
            ("client_released", ids["920000002"]): 1,
            ("client_released", ids["920000003"]): 1,
            ("client_detained", ids["920000036"]): 1,
            ("client_detained", ids["920000037"]): 1,
            ("client_not_found", ids["920000004"]): 1,
            ("client_not_found", ids["920000005"]): 1,
        }
    )
    assert events == expected
    assert zeros > 10  # false zeros really happened, and were retried
    for number, subject in [
        ("920000000", "Client transferred"),
        ("920000001", "URGENT · Client transferred"),
        ("920000002", "Client released"),
        ("920000003", "Client released"),
        ("920000036", "URGENT · Client DETAINED"),
        ("920000037", "URGENT · Client DETAINED"),
        ("920000004", "URGENT · Client not found in ICE locator"),
        ("920000005", "URGENT · Client not found in ICE locator"),
    ]:
        i = int(number[-2:])
        mails = [m for m in sink.to(ATTORNEYS[i % 4]) if f"***{number[-4:]}" in m.subject]
        assert len(mails) == 1 and mails[0].subject.startswith(subject), (number, mails)
    assert len(sink.messages) == 8


def test_block_page_internal_error_and_layout_change(
    world: tuple[sa.Engine, LocatorSandbox, SmtpSink, Settings],
) -> None:
    engine, replica, sink, settings = world
    with session_scope(engine) as s:
        for i in range(2):
            number = f"9300000{i:02d}"
            add_client(s, a_number=number, name="DOE, JANE", nationality="MX")
            assign(s, number, ATTORNEYS[0])
            replica.detain(Person(number, "MX", "JANE", "DOE"))
    assert _check(engine, settings)[:2] == ("ok", Counter(found=2))
    replica.state.blocked = True
    assert _check(engine, settings)[:2] == ("blocked", Counter(blocked=2))
    replica.state.blocked = False
    replica.state.internal_error = {"930000000", "930000001"}
    assert _check(engine, settings)[:2] == ("failed", Counter(ambiguous=2))
    replica.state.internal_error = set()
    replica.state.layout = "v2"
    assert _check(engine, settings)[:2] == ("layout_changed", Counter(layout_changed=2))
    assert [m.subject for m in sink.to(ADMIN)] == ["URGENT · Source failing"]
    replica.state.layout = "v1"
    assert _check(engine, settings)[0] == "ok"
    assert "Source recovered" in sink.to(ADMIN)[-1].subject
    assert sink.to(ATTORNEYS[0]) == []


def test_biographical_fallback(world: tuple[sa.Engine, LocatorSandbox, SmtpSink, Settings]) -> None:
    engine, replica, _sink, settings = world
    from datetime import date

    with session_scope(engine) as s:
        add_client(s, a_number="940000001", name="DOE, JANE", nationality="MX")
        client = s.exec(select(Client)).one()
        client.born_on = date(1990, 2, 3)
        s.add(client)
    # ICE's record carries another A-number (a typo at booking): only names and DOB match.
    replica.detain(Person("940000098", "MX", "JANE", "DOE", born_on=date(1971, 5, 6)), "ELOYAZ")
    replica.detain(Person("940000099", "MX", "JANE", "DOE", born_on=date(1990, 2, 3)))
    outcome, outcomes, _ = _check(engine, settings)
    assert (outcome, outcomes) == ("ok", Counter(found=1))
    with session_scope(engine) as s:
        lookup = s.exec(select(CustodyLookup)).one()
    assert lookup.facility_name == "ADELANTO ICE PROCESSING CENTER"  # the right Jane Doe
    assert lookup.message == "searched by biographical information"
