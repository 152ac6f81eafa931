"""Two programs on one database, each with an attorney (two in the first), a coordinator and an
admin, each signed in through Starlette's test client: the people the route contract and the
hostile tests call the web app as."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from monitor.events import EventInput
from monitor.route import emit
from storage.db import make_engine, session_scope
from storage.models import Organization
from storage.people import add_client, add_staff
from storage.reminders import Consent, store_consent
from storage.settings import Settings
from web import auth

NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
SECRET = "route-secret"


@dataclass
class Who:
    email: str
    role: str
    program: str  # "a" or "b"
    client: TestClient | None = None
    csrf: str = ""
    staff_id: int = 0

    def sign_in(self, engine: sa.Engine) -> None:
        """A new session (the route matrix ends with signing out)."""
        assert self.client is not None
        secret, self.csrf = auth.start_session(engine, self.staff_id, NOW)
        self.client.cookies.set(auth.COOKIE, auth.sign(SECRET, secret))


@dataclass
class Rows:
    client_id: int
    event_id: int
    staff_id: int


def _event(client_id: int, key: str) -> EventInput:
    return EventInput(
        kind="hearing_moved_earlier",
        subject_type="client",
        subject_key=str(client_id),
        client_id=client_id,
        dedup_key=f"routes:{key}",
        occurred_at=NOW,
        payload={
            "changes": [{"field": "date", "old": "2027-01-05", "new": "2026-12-01"}],
            "hearing": {
                "date": "2026-12-01",
                "time": "8:30 AM",
                "court": "ADL",
                "timezone": "America/Los_Angeles",
            },
        },
    )


def two_programs(folder: Path, sqlite_template: Path) -> Iterator[Any]:
    """(app, people by name, the first program's rows), every person signed in."""
    from web.app import create_app

    path = folder / "dw.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    people = {
        "ana": Who("ana@a.example.org", "attorney", "a"),
        "dan": Who("dan@a.example.org", "attorney", "a"),  # the program's other attorney
        "cora": Who("cora@a.example.org", "coordinator", "a"),
        "adam": Who("adam@a.example.org", "admin", "a"),
        "bea": Who("bea@b.example.org", "attorney", "b"),
        "bob": Who("bob@b.example.org", "coordinator", "b"),
        "bill": Who("bill@b.example.org", "admin", "b"),
    }
    with session_scope(engine) as s:
        other = Organization(slug="bravo", name="Bravo", created_at=NOW)
        s.add(other)
        s.flush()
        orgs = {"a": 1, "b": other.id}
        ids: dict[str, int] = {}
        for key, who in people.items():
            staff = add_staff(
                s,
                name=key.title(),
                email=who.email,
                role=who.role,
                organization_id=orgs[who.program],
                now=NOW,
            )
            s.flush()
            assert staff.id is not None
            ids[key] = staff.id
        client = add_client(
            s, a_number="911110001", name="DOE, JANE", nationality="MX", organization_id=1, now=NOW
        )
        add_client(
            s,
            a_number="922220002",
            name="ROE, JUAN",
            nationality="MX",
            organization_id=orgs["b"],
            now=NOW,
        )
        s.flush()
        client.primary_attorney_id = ids["ana"]
        s.add(client)
        s.flush()
        assert client.id is not None
        store_consent(
            s,
            client.id,
            Consent(
                phone="+12135550123", language="es", how="phone", by=people["ana"].email, at=NOW
            ),
            NOW,
        )
        event = emit(s, _event(client.id, "a"), NOW)
        assert event is not None and event.id is not None
        rows = Rows(client.id, event.id, ids["ana"])
    from monitor.reminders import review_language

    with session_scope(engine) as s:
        review_language(s, Settings(), "es", "Rita Reviewer", NOW)
    app = create_app(engine, Settings(ack_secret=SECRET, data_dir=path.parent), clock=lambda: NOW)
    for key, who in people.items():
        who.staff_id = ids[key]
        who.client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        who.sign_in(engine)
    yield app, people, rows
    for who in people.values():
        assert who.client is not None
        who.client.close()
    engine.dispose()
