"""A meeting link from a public source is kept only when it is ``https:``: a ``javascript:``
WebEx link (ACIS's ``IJ_WebExURLLink``, or one stored before this rule) is never a link on a
page, in a calendar feed or in an alert, and the lookup's record says it was dropped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from monitor.calendar import feed_for_token, issue
from monitor.messages import render
from sandbox.acis_data import Case, Hearing, case_body
from spiders.acis import parse_case_info
from storage.db import make_engine, session_scope, upgrade
from storage.models import Event, StaffChannel
from storage.models import Hearing as HearingRow
from storage.people import add_client, add_staff, assign
from storage.reference_data import load_reference_data
from storage.settings import Settings
from storage.snapshots import HearingSnapshot
from storage.urls import https_only
from tests.support.acis import look

EVIL = "javascript:alert(document.cookie)//"
GOOD = "https://eoir.webex.com/meet/adl.example"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        (GOOD, True),
        (EVIL, False),
        ("JavaScript:alert(1)", False),
        ("http://x.example/", False),
        ("data:text/html,<b>x</b>", False),
        ("https:///no-host", False),
        ("https://a.example/x y", False),
        ("https://a.example/\nx", False),
        ("", False),
    ],
)
def test_only_https_links_to_a_host_are_kept(link: str, kept: bool) -> None:
    assert https_only(link) == (link if kept else "")
    assert HearingSnapshot(date="2026-12-10", webex=link).webex == (link if kept else "")


def test_acis_answer_with_a_javascript_link_drops_it_and_says_so() -> None:
    case = Case("912000001", "MX", hearing=Hearing(on=date.today() + timedelta(days=9)))
    body = case_body(case)
    body["Schedule"]["IJ_WebExURLLink"] = EVIL
    seen = parse_case_info(200, json.dumps(body), date.today())
    assert seen.outcome == "ok" and seen.hearing is not None and seen.hearing.webex == ""
    assert "meeting link" in seen.message and "dropped" in seen.message
    body["Schedule"]["IJ_WebExURLLink"] = GOOD
    assert parse_case_info(200, json.dumps(body), date.today()).hearing.webex == GOOD  # type: ignore[union-attr]


def test_a_link_stored_before_is_shown_nowhere(sqlite_engine: sa.Engine) -> None:
    """A hearing row and an alert stored with a javascript: link (before the rule): the home
    and client pages, the calendar feed and the alert's message show no such link."""
    from web import auth
    from web.app import create_app

    engine = sqlite_engine
    with session_scope(engine) as s:
        staff = add_staff(
            s,
            name="Ana",
            email="ana@example.org",
            role="attorney",
            channels=["mailto://ana@example.org"],
        )
        client = add_client(s, a_number="912000002", name="DOE, JANE", nationality="MX")
        assign(s, "912000002", "ana@example.org", "primary")
        s.flush()
        assert client.id is not None and staff.id is not None
        client_id, staff_id = client.id, staff.id
    case = Case("912000002", "MX", hearing=Hearing(on=date.today() + timedelta(days=9)))
    look(engine, client_id, case, NOW - timedelta(days=1))
    with session_scope(engine) as s:
        row = s.exec(select(HearingRow).where(HearingRow.client_id == client_id)).one()
        row.webex = EVIL  # as stored before the rule
        s.add(row)
        token = issue(s, "ana@example.org")
    app = create_app(engine, Settings(ack_secret="s3cret"), clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1") as web:
        secret, _ = auth.start_session(engine, staff_id, NOW)
        web.cookies.set(auth.COOKIE, auth.sign("s3cret", secret))
        for path in ("/", f"/clients/{client_id}"):
            page = web.get(path)
            assert page.status_code == 200 and "javascript:" not in page.text.lower(), path
    feed = feed_for_token(engine, token, NOW)
    assert feed is not None and b"javascript" not in feed.lower()
    payload = {
        "hearing": {"date": "2026-12-10", "time": "8:30 AM", "court": "ADL", "webex": EVIL},
        "changes": [],
    }
    event = Event(
        id=999,
        kind="hearing_moved_earlier",
        severity="urgent",
        subject_type="client",
        subject_key=str(client_id),
        client_id=client_id,
        dedup_key="x",
        payload=payload,
        occurred_at=NOW,
        created_at=NOW,
    )
    with session_scope(engine) as s:
        channel = s.exec(select(StaffChannel)).first()
        assert channel is not None
        client_row = s.get(type(client), client_id)
        message = render([event], client_row, channel, "en")
    assert "javascript" not in (message.text + message.html + message.markdown).lower()


def test_the_migration_empties_links_that_are_not_https(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    engine = make_engine(f"sqlite:///{tmp_path / 'dw.db'}")
    upgrade(engine, "0016")
    load_reference_data(engine)
    # The client table as it stood at 0016 (later revisions add columns the model knows).
    with engine.begin() as connection:
        org_id = connection.execute(sa.text("SELECT min(id) FROM organization")).scalar_one()
        client_id = connection.execute(
            sa.text(
                "INSERT INTO client (organization_id, a_number, name, nationality_code, status,"
                " active, notes, created_at, updated_at) VALUES (:org, '912000003', 'ROE, JO',"
                " 'MX', 'represented', :yes, '', :now, :now) RETURNING id"
            ),
            {"org": org_id, "yes": True, "now": NOW},
        ).scalar_one()
    with session_scope(engine) as s:
        for link in (EVIL, GOOD):
            s.add(
                HearingRow(
                    client_id=client_id,
                    hearing_on=date(2026, 12, 10),
                    webex=link,
                    seen_at=NOW,
                    current=link == GOOD,
                )
            )
    upgrade(engine)
    with session_scope(engine) as s:
        links = sorted(h.webex for h in s.exec(select(HearingRow)))
    assert links == ["", GOOD]
    engine.dispose()
