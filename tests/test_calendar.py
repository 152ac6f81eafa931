"""Calendar feeds: an attorney's clients' hearings as iCalendar, over real HTTP from the web
endpoint, parsed back with icalendar: court-local times with the court's zone, a moved hearing
updated in place (same UID, higher SEQUENCE), a removed one cancelled, a held one kept, secret
and revocable addresses, each attorney's own clients only, the recipient's language, and names
only where a channel allows personal data."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from sandbox.acis_data import Case, Hearing
from storage.db import session_scope
from storage.people import add_client, add_staff, assign
from tests.support.acis import look
from tests.support.alerting import web_server
from tests.support.cli import run_cli

NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def setup(engine: sa.Engine) -> Iterator[tuple[sa.Engine, dict[str, str], dict[str, int]]]:
    """SQLite and PostgreSQL, each with a web endpoint on a port of its own."""
    url = engine.url.render_as_string(hide_password=False)
    ids = {}
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Ana Ruiz",
            email="ana@example.org",
            role="attorney",
            channels=["json://127.0.0.1:9/ana"],
            now=NOW,
        )
        add_staff(
            s,
            name="Beto Paz",
            email="beto@example.org",
            role="attorney",
            language="es",
            channels=["json://127.0.0.1:9/beto"],
            now=NOW,
        )
        for a_number, name, who in (
            ("912000001", "DOE, JANE", "ana@example.org"),
            ("912000002", "ROE, JUAN", "beto@example.org"),
        ):
            client = add_client(s, a_number=a_number, name=name, nationality="MX", now=NOW)
            assign(s, a_number, who, "primary", now=NOW)
            assert client.id is not None
            ids[who] = client.id
    server = web_server(engine, "test-secret", 0, clock=lambda: NOW)
    env = {
        "DATABASE_URL": url,
        "DOCKETWATCH_WEB_BASE_URL": f"http://127.0.0.1:{server.port}",
        "DOCKETWATCH_ACK_SECRET": "test-secret",
    }
    yield engine, env, ids
    server.stop()
    engine.dispose()


def _address(tmp: Path, env: dict[str, str], email: str) -> str:
    issued = run_cli("staff", "calendar", email, cwd=tmp, env=env)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip().rsplit(" ", 1)[1]


def _events(address: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(address, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        cal = Calendar.from_ical(response.read())
    assert cal.walk("VTIMEZONE"), "the court's time zone travels with the feed"
    return [
        {
            "uid": str(e["UID"]),
            "start": e.decoded("DTSTART"),
            "sequence": int(str(e["SEQUENCE"])),
            "status": str(e["STATUS"]),
            "summary": str(e["SUMMARY"]),
            "location": str(e["LOCATION"]),
        }
        for e in cal.walk("VEVENT")
    ]


def _status(address: str) -> int:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_feed_follows_a_hearing_moved_removed_and_held(
    tmp_path: Path, setup: tuple[sa.Engine, dict[str, str], dict[str, int]]
) -> None:
    engine, env, ids = setup
    ana = ids["ana@example.org"]
    case = Case("912000001", "MX", hearing=Hearing(on=date(2027, 1, 5)))
    look(engine, ana, case, NOW)
    address = _address(tmp_path, env, "ana@example.org")
    assert address.startswith(env["DOCKETWATCH_WEB_BASE_URL"] + "/calendar/")
    (first,) = _events(address)
    assert first["start"] == datetime(2027, 1, 5, 8, 30, tzinfo=LA)
    assert first["status"] == "CONFIRMED" and first["sequence"] == 0
    assert first["summary"] == "Hearing: J.D. ***0001 · ADL"  # no name, no full A-number
    assert "Adelanto" in str(first["location"])

    # Moved: the same event, updated in place.
    case.hearing = Hearing(on=date(2027, 2, 10), time="1:00 PM")
    look(engine, ana, case, NOW + timedelta(days=1))
    look(engine, ana, case, NOW + timedelta(days=2))  # seen again, unchanged
    (moved,) = _events(address)
    assert moved["uid"] == first["uid"] and moved["sequence"] == 1
    assert moved["start"] == datetime(2027, 2, 10, 13, 0, tzinfo=LA)

    # Removed in ACIS: the event is cancelled, not silently dropped.
    case.hearing = None
    look(engine, ana, case, NOW + timedelta(days=3))
    (removed,) = _events(address)
    assert removed["uid"] == first["uid"] and removed["status"] == "CANCELLED"

    # A new hearing later on, then that one is held and the next one scheduled: two events.
    case.hearing = Hearing(on=date(2027, 3, 1))
    look(engine, ana, case, NOW + timedelta(days=4))
    case.hearing = Hearing(on=date(2027, 6, 1))
    look(engine, ana, case, datetime(2027, 3, 2, 18, tzinfo=UTC))
    events = _events(address)
    held, upcoming = sorted(events, key=lambda e: str(e["start"]))
    assert held["uid"] == first["uid"] and held["status"] == "CONFIRMED"
    assert held["start"] == datetime(2027, 3, 1, 8, 30, tzinfo=LA)
    assert upcoming["uid"] != first["uid"] and upcoming["start"].date() == date(2027, 6, 1)  # type: ignore[attr-defined]


def test_addresses_are_secret_revocable_per_attorney_and_in_their_language(
    tmp_path: Path, setup: tuple[sa.Engine, dict[str, str], dict[str, int]]
) -> None:
    engine, env, ids = setup
    for who, a_number in (("ana@example.org", "912000001"), ("beto@example.org", "912000002")):
        look(engine, ids[who], Case(a_number, "MX", hearing=Hearing(on=date(2027, 1, 5))), NOW)
    ana = _address(tmp_path, env, "ana@example.org")
    beto = _address(tmp_path, env, "beto@example.org")
    (spanish,) = _events(beto)  # Beto's client only, in Spanish
    assert spanish["summary"] == "Audiencia: J.R. ***0002 · ADL"

    added = run_cli(
        "staff",
        "set",
        "beto@example.org",
        "--add-channel",
        "json://127.0.0.1:9/b2",
        "--personal-data",
        cwd=tmp_path,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    (named,) = _events(beto)
    assert named["summary"] == "Audiencia: ROE, JUAN (A-912-000-002) · ADL"

    again = _address(tmp_path, env, "ana@example.org")  # a new address stops the old one
    assert again != ana and _status(ana) == 404 and _status(again) == 200
    revoked = run_cli("staff", "calendar", "ana@example.org", "--revoke", cwd=tmp_path, env=env)
    assert revoked.returncode == 0 and _status(again) == 404
    guessed = env["DOCKETWATCH_WEB_BASE_URL"] + "/calendar/" + "A" * 43 + ".ics"
    assert _status(guessed) == 404
    with engine.connect() as conn:  # only a digest of the secret is stored
        stored = conn.execute(sa.text("SELECT calendar_token_digest FROM staff")).scalars().all()
    assert beto.rsplit("/", 1)[1].removesuffix(".ics") not in str(stored)
