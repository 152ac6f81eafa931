"""Federal dockets (issue 30): clients' habeas petitions and petitions for review watched through
CourtListener, against the replica over real HTTP (and the web app's webhook over real HTTP):
linking, the baseline, webhooks confirmed through the API, polling after an outage, 429 honored,
each event kind from real entry text, and the calendar feed following a reset hearing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from checks.federal_dockets import check, link_now
from monitor.federal_dockets import PLAIN, classify, hearing_of
from sandbox.federal_dockets import TOKEN, FederalDocketsSandbox
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.errors import ValidationError
from storage.federal_dockets import normalize, parse_cases, set_token
from storage.models import CrawlRun, Event, FederalCase, FederalEntry, FederalWebhook
from storage.settings import Settings
from tests.support.alerting import START, Clock, dispatcher, make_org, web_server
from tests.support.service import wait_until

FIXTURES = Path(__file__).parent / "fixtures" / "federal_dockets" / "entries.json"
SECRET = "hook-secret-0123456789"
PETITION = (
    "PETITION for Writ of Habeas Corpus (28:2241), filed by Petitioner. (Attachments: # 1 Memo)"
)
OSC = (
    "ORDER TO SHOW CAUSE. Respondents shall file a return within three (3) days. Signed by "
    "Magistrate Judge Sheri Pym on 12/7/2026. (mz)"
)


@pytest.fixture
def replica() -> Iterator[FederalDocketsSandbox]:
    with FederalDocketsSandbox(retry_unit=0.05) as r:
        yield r


def _settings(replica: FederalDocketsSandbox, **kw: object) -> Settings:
    return Settings(
        federal_dockets_url=f"{replica.url}/api/rest/v4",
        federal_dockets_webhook_secret=SECRET,
        **kw,  # type: ignore[arg-type]
    )


def _events(engine: sa.Engine, kind: str | None = None) -> list[Event]:
    with session_scope(engine) as s:
        q = select(Event).where(col(Event.kind).startswith("federal_"))
        if kind:
            q = q.where(Event.kind == kind)
        return list(s.exec(q.order_by(col(Event.id))))


def _wire(engine: sa.Engine, sink: SmtpSink, replica: FederalDocketsSandbox) -> tuple[int, int]:
    """A program, its client, the token stored, a habeas docket with its petition, linked."""
    org = make_org(engine, sink, START)
    with session_scope(engine) as s:
        set_token(s, TOKEN)
    docket = replica.add_docket("cacd", "5:25-cv-01234", "Doe v. Warden", ["Jane Doe"])
    replica.add_entry(docket, PETITION, "2026-12-01")
    state, message = link_now(
        engine, _settings(replica), org.client_id, normalize("cacd", "EDCV 25-1234-SP")
    )
    assert (state, message) == ("linked", "")
    return org.client_id, docket


# ------------------------------------------------------------------------------ the rules


def test_each_kind_from_real_entry_text() -> None:
    entries = json.loads(FIXTURES.read_text())
    assert len(entries) >= 100
    seen: set[str] = set()
    for entry in entries:
        got = [k for k in classify(entry["description"]) if k != PLAIN]
        assert sorted(got) == sorted(entry["kinds"]), (entry["docket"], entry["entry_number"])
        seen.update(entry["kinds"])
        if "federal_hearing_set" in got:
            assert hearing_of(entry["description"]) is not None, entry["description"][:80]
    assert seen == {
        "federal_order_to_show_cause",
        "federal_tro_decided",
        "federal_stay_decided",
        "federal_habeas_decided",
        "federal_hearing_set",
        "federal_case_closed",
    }
    # a response to an order to show cause, or an OSC hearing vacated, is not an order
    by_text = {e["description"][:40]: e for e in entries}
    assert any(t.startswith("RESPONSE filed") for t in by_text)
    # an entry nothing says more of is plain, never a guess
    assert classify("CERTIFIED ADMINISTRATIVE RECORD filed.") == [PLAIN]


def test_district_court_decision_forms() -> None:
    """The forms a district court's docket text gives a writ's decision and a closing (no real
    entry of these is among the fixtures; see its README)."""
    assert classify(
        "ORDER GRANTING PETITION FOR WRIT OF HABEAS CORPUS by Judge X. (JS-6) (mz)"
    ) == ["federal_habeas_decided", "federal_case_closed"]
    assert classify("JUDGMENT by Judge X. The petition is denied. (mz)") == [
        "federal_habeas_decided"
    ]
    assert classify("NOTICE OF LODGING of Proposed Judgment filed by Respondents.") == [PLAIN]
    assert classify("MOTION for Temporary Restraining Order filed by Petitioner.") == [PLAIN]


def test_hearing_dates_and_times() -> None:
    found = hearing_of("MINUTES: Hearing on the Petition set for 1/15/2027 at 10:00 AM. (mz)")
    assert found is not None and found.on == date(2027, 1, 15) and found.at is not None
    assert (found.at.hour, found.at.minute) == (10, 0)
    later = hearing_of("ORDER: hearing reset to January 22, 2027 at 2:30 p.m. before Judge X")
    assert later is not None and later.on == date(2027, 1, 22) and later.at is not None
    assert (later.at.hour, later.at.minute) == (14, 30)
    assert hearing_of("NOTICE of appearance") is None


def test_docket_numbers_normalized() -> None:
    assert normalize("CACD", "5:25-CV-1234-SP").number == "5:25-cv-01234"
    assert normalize("cacd", "EDCV 25-01234").number == "5:25-cv-01234"
    assert normalize("cacd", "25cv1234").number == "25-cv-01234"
    assert normalize("ca9", "25-01234").number == "25-1234"
    assert normalize("ca9", "25-1234").core == normalize("cacd", "5:25-cv-01234").core == "2501234"
    with pytest.raises(ValidationError, match="court of appeals"):
        normalize("ca9", "5:25-cv-01234")
    with pytest.raises(ValidationError, match="court id"):
        normalize("C.D. Cal.", "5:25-cv-01234")
    keys = parse_cases("cacd 5:25-cv-01234; ca9 25-1234 ;cacd EDCV 25-1234")
    assert [str(k) for k in keys] == ["cacd 5:25-cv-01234", "ca9 25-1234"]
    with pytest.raises(ValidationError, match="court id and the docket number"):
        parse_cases("5:25-cv-01234")


# ------------------------------------------------------------------------------ linking


def test_link_resolves_with_a_baseline_and_unknown_is_kept(
    engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    with SmtpSink() as sink:
        client_id, docket = _wire(engine, sink, replica)
    with session_scope(engine) as s:
        (case,) = s.exec(select(FederalCase)).all()
        assert case.docket_number == "5:25-cv-01234" and case.state == "linked"
        (entry,) = s.exec(select(FederalEntry)).all()
        assert entry.via == "link" and entry.description.startswith("PETITION")
    assert _events(engine) == []  # the baseline is shown, never alerted
    assert (
        any(r.startswith("POST /api/rest/v4/docket-alerts/") for r in replica.state.requests)
        is False
    )
    # an unknown docket is said plainly and kept; the next check finds it once it exists
    state, message = link_now(engine, _settings(replica), client_id, normalize("ca9", "25-77"))
    assert state == "not_found" and "CourtListener has no ca9 docket 25-77" in message
    appeal = replica.add_docket("ca9", "25-77", "Doe v. Bondi")
    replica.add_entry(appeal, "PETITION FOR REVIEW filed by Petitioner.")
    report = check(engine, _settings(replica), START)
    assert report.ok, report.message
    with session_scope(engine) as s:
        states = {c.docket_number: c.state for c in s.exec(select(FederalCase))}
    assert states == {"5:25-cv-01234": "linked", "25-77": "linked"}
    assert sorted(replica.state.alerts.values()) == sorted([docket, appeal])  # alerts made
    assert _events(engine) == []


def test_roster_column_links_and_unlinked_dockets_lose_their_alert(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    from storage.federal_dockets import unlink

    with SmtpSink() as sink:
        client_id, docket = _wire(sqlite_engine, sink, replica)
    other = replica.add_docket("ca9", "26-5", "Doe v. Bondi")
    from storage.models import Client

    with session_scope(sqlite_engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        client.federal_cases = "ca9 26-5"
    assert check(sqlite_engine, _settings(replica), START).ok
    assert sorted(replica.state.alerts.values()) == sorted([docket, other])
    with session_scope(sqlite_engine) as s:
        client = s.get(Client, client_id)
        assert client is not None
        assert unlink(s, client, normalize("ca9", "26-5")) and client.federal_cases == ""
    assert check(sqlite_engine, _settings(replica), START).ok
    assert list(replica.state.alerts.values()) == [docket]  # nobody links it: alert deleted


# ------------------------------------------------------------------------------ webhooks


def test_webhooks_secret_replay_unconfirmed_and_unlinked(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    with SmtpSink() as sink:
        client_id, docket = _wire(sqlite_engine, sink, replica)
        assert check(sqlite_engine, _settings(replica), START).ok  # the docket alert is made
        server = web_server(
            sqlite_engine,
            "ack-secret",
            0,
            federal_dockets_url=f"{replica.url}/api/rest/v4",
            federal_dockets_webhook_secret=SECRET,
        )
        try:
            base = f"http://127.0.0.1:{server.port}"
            hook = f"{base}/hooks/federal_dockets/courtlistener/{SECRET}"
            body = replica.webhook_body([])
            # no secret, a wrong one: refused, nothing kept
            for url in (
                f"{base}/hooks/federal_dockets/courtlistener/wrong",
                f"{base}/hooks/federal_dockets/courtlistener/",
            ):
                answer = httpx.post(url, json=body, headers={"Idempotency-Key": "k0"})
                assert answer.status_code in (404, 405)
            # an order to show cause arrives as CourtListener sends it, and is confirmed
            replica.state.webhook_url = hook
            entry = replica.add_entry(docket, OSC)
            wait_until(lambda: _events(sqlite_engine), 20, "the OSC alert")
            (osc,) = _events(sqlite_engine)
            assert osc.kind == "federal_order_to_show_cause" and osc.client_id == client_id
            assert osc.severity == "urgent"
            assert any(
                r == f"GET /api/rest/v4/docket-entries/{entry['id']}/?"
                for r in replica.state.requests
            )
            # the same event again (CourtListener's retry after a lost answer): dropped
            key = replica.state.deliveries[-1].key
            again = httpx.post(
                hook, json=replica.webhook_body([entry]), headers={"Idempotency-Key": key}
            )
            assert again.text == "duplicate"
            # an entry the API does not confirm (forged or withdrawn): not alerted
            forged = {**entry, "id": 999_999, "description": "ORDER GRANTING PETITION. (JS-6)"}
            replica.send_webhook([forged], wait=True)
            # an event about a docket nobody links: ignored
            stranger = replica.add_docket("cacd", "2:26-cv-00001", "Roe v. Warden")
            replica.send_webhook([{**entry, "id": 1, "docket": stranger}], wait=True)

            def settled() -> bool:
                with session_scope(sqlite_engine) as s:
                    rows = s.exec(select(FederalWebhook)).all()
                    return len(rows) == 3 and all(r.state == "done" for r in rows)

            wait_until(settled, 20, "the webhook events processed")
        finally:
            server.stop()
        with session_scope(sqlite_engine) as s:
            notes = [
                w.note for w in s.exec(select(FederalWebhook).order_by(col(FederalWebhook.id)))
            ]
        assert notes[0] == "confirmed"
        assert "not confirmed by the API" in notes[1] and "is not linked" in notes[2]
        assert [e.kind for e in _events(sqlite_engine)] == ["federal_order_to_show_cause"]
        # the attorney's alert says what happened, names the client as alerts do
        dispatcher(sqlite_engine, Clock(datetime.now(UTC))).run_once()  # the web app's clock
        (mail,) = sink.to("ana@example.org")
        text = mail.text()
        assert "ORDER TO SHOW CAUSE" in text and "cacd 5:25-cv-01234" in text
        assert "912345678" not in text and "DOE, JANE" not in text


# ------------------------------------------------------------------------------ polling


def test_polling_after_a_webhook_outage_alerts_every_entry_once(
    engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    replica.state.page_size = 2  # the cursor pages are followed
    with SmtpSink() as sink:
        client_id, docket = _wire(engine, sink, replica)
    texts = [
        "ORDER GRANTING Ex Parte Application for Temporary Restraining Order. Respondents are "
        "enjoined from transferring Petitioner. Signed by Judge X. (mz)",
        "MINUTES: Hearing on the Order to Show Cause re Preliminary Injunction set for "
        "12/18/2026 at 10:00 AM. (mz)",
        "TRAVERSE filed by Petitioner Jane Doe. (Attachments: # 1 Declaration of Jane Doe)",
    ]
    for text in texts:  # the webhook is lost (the web app was down)
        replica.add_entry(docket, text, notify=False)
    report = check(engine, _settings(replica), START)
    assert report.ok, report.message
    kinds = [e.kind for e in _events(engine)]
    assert kinds == ["federal_tro_decided", "federal_hearing_set", "federal_entry_filed"]
    said = json.dumps([e.payload for e in _events(engine)])
    assert "filed by Petitioner [client]" in said and "Jane" not in said  # named as alerts do
    pages = [r for r in replica.state.requests if "docket-entries/?" in r and "cursor=" in r]
    assert pages  # the second page came through the cursor
    # the late webhook of an entry polled already, and the next poll: nothing twice
    assert check(engine, _settings(replica), START + timedelta(minutes=30)).ok
    assert len(_events(engine)) == 3
    with session_scope(engine) as s:
        assert all(e.client_id == client_id for e in s.exec(select(Event)))


def test_429_is_honored_before_asking_again(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    with SmtpSink() as sink:
        _wire(sqlite_engine, sink, replica)
    replica.throttle(120)
    first = check(sqlite_engine, _settings(replica), START)
    assert first.outcome == "blocked" and "retry after 120" in first.message
    asked = len(replica.state.requests)
    soon = check(sqlite_engine, _settings(replica), START + timedelta(seconds=60))
    assert soon.outcome == "blocked" and "wait" in soon.message
    assert len(replica.state.requests) == asked  # not one request before Retry-After
    later = check(sqlite_engine, _settings(replica), START + timedelta(seconds=121))
    assert later.ok, later.message
    assert len(replica.state.requests) > asked
    with session_scope(sqlite_engine) as s:
        outcomes = [r.outcome for r in s.exec(select(CrawlRun).order_by(col(CrawlRun.id)))]
    assert outcomes[-3:] == ["blocked", "blocked", "ok"]
    assert _events(sqlite_engine) == []  # upstream trouble never alerts an attorney


def test_request_budget_stops_polling_and_resumes(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    with SmtpSink() as sink:
        _, docket = _wire(sqlite_engine, sink, replica)
    replica.add_entry(docket, "NOTICE OF APPEARANCE by AUSA.", notify=False)
    tight = _settings(replica, federal_dockets_requests_per_hour=1)
    report = check(sqlite_engine, tight, START)  # one request: the docket alert, no poll
    assert report.ok and "budget is spent" in report.message
    assert list(replica.state.alerts.values()) == [docket]
    assert _events(sqlite_engine) == []
    assert check(sqlite_engine, tight, START + timedelta(hours=1, minutes=1)).ok
    assert [e.kind for e in _events(sqlite_engine)] == ["federal_entry_filed"]


# ------------------------------------------------------------------------------ the calendar


def test_calendar_feed_moves_with_a_reset_hearing(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    from icalendar import Calendar

    from monitor.calendar import feed
    from storage.models import Staff

    with SmtpSink() as sink:
        _, docket = _wire(sqlite_engine, sink, replica)
    replica.add_entry(
        docket, "MINUTES: Hearing on the Petition set for 1/15/2027 at 10:00 AM.", notify=False
    )
    assert check(sqlite_engine, _settings(replica), START).ok

    def federal_events() -> list[Any]:
        with session_scope(sqlite_engine) as s:
            staff = s.exec(select(Staff).where(Staff.email == "ana@example.org")).one()
            cal = Calendar.from_ical(feed(s, staff, START))
        return [c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("federal-")]

    (first,) = federal_events()
    assert first["dtstart"].dt.isoformat() == "2027-01-15T18:00:00+00:00"  # 10:00 in LA
    assert int(first["sequence"]) == 0
    replica.add_entry(
        docket,
        "ORDER: the hearing on the Petition is reset to January 22, 2027 at 2:30 PM.",
        notify=False,
    )
    assert check(sqlite_engine, _settings(replica), START + timedelta(hours=1)).ok
    (moved,) = federal_events()
    assert moved["uid"] == first["uid"] and int(moved["sequence"]) == 1
    assert moved["dtstart"].dt.isoformat() == "2027-01-22T22:30:00+00:00"
    assert "5:25-cv-01234" in str(moved["summary"]) and "912345678" not in str(moved["summary"])
    kinds = [e.kind for e in _events(sqlite_engine)]
    assert kinds == ["federal_hearing_set", "federal_hearing_set"]


# ------------------------------------------------------------------------------ the client's page


def test_client_page_links_a_federal_case_in_chromium(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox, page: Any
) -> None:
    """An attorney links the client's habeas case on the client's page (real Chromium); the
    docket and its baseline entries show there, for the coordinator and the admin too; another
    attorney's request for the page or the form is 404."""
    from storage.passwords import set_password
    from storage.people import add_staff
    from tests.support.web import PASSWORD, accessible

    with SmtpSink() as sink:
        org = make_org(sqlite_engine, sink, START)
        with session_scope(sqlite_engine) as s:
            set_token(s, TOKEN)
            add_staff(s, name="Dan Wu", email="dan@example.org", role="attorney")
            for email in (org.attorney, org.coordinator, org.admin, "dan@example.org"):
                set_password(s, email, PASSWORD)
    docket = replica.add_docket("cacd", "5:25-cv-01234", "Doe v. Warden", ["Jane Doe"])
    replica.add_entry(docket, PETITION, "2026-12-01")
    replica.add_entry(docket, OSC, "2026-12-02", notify=False)
    server = web_server(
        sqlite_engine,
        "web-secret",
        0,
        federal_dockets_url=f"{replica.url}/api/rest/v4",
        federal_dockets_webhook_secret=SECRET,
    )
    base = f"http://127.0.0.1:{server.port}"
    client_page = f"{base}/clients/{org.client_id}"

    def sign_in(email: str) -> None:
        page.context.clear_cookies()
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    try:
        sign_in(org.attorney)
        page.goto(client_page)
        assert "No federal case is linked." in page.inner_text("#federal ~ *")
        page.get_by_label("Court").fill("cacd")
        page.get_by_label("Docket number").fill("EDCV 25-1234")
        page.get_by_role("button", name="Link a federal case").click()
        page.wait_for_load_state()
        assert "Linked." in page.get_by_role("status").first.inner_text()

        def watched() -> bool:
            with session_scope(sqlite_engine) as s:
                return s.exec(select(FederalCase)).one().state == "linked"

        wait_until(watched, 20, "the link resolved")
        page.goto(client_page)
        section = page.locator("section", has=page.locator("#federal")).inner_text()
        assert "cacd 5:25-cv-01234" in section and "Doe v. Warden" in section
        assert "ORDER TO SHOW CAUSE" in section and "on the docket when linked" in section
        assert "Watched: every new entry alerts the attorneys." in section
        accessible(page)
        for email in (org.coordinator, org.admin):  # the other roles that reach the page
            sign_in(email)
            page.goto(client_page)
            assert "cacd 5:25-cv-01234" in page.locator("#federal").locator("..").inner_text()
        sign_in("dan@example.org")  # not his client
        assert page.goto(client_page).status == 404
        sign_in(org.attorney)
        page.goto(client_page)
        page.get_by_role("button", name="Stop watching this case").click()
        page.wait_for_load_state()
        assert "Not watched any more." in page.get_by_role("status").first.inner_text()
    finally:
        server.stop()
    assert _events(sqlite_engine) == []  # the baseline alerts nobody
    with session_scope(sqlite_engine) as s:
        assert s.exec(select(FederalCase)).one().active is False


# ------------------------------------------------------------------------------ the command line


def test_the_command_line_links_suggests_and_lists(
    tmp_path: Path, replica: FederalDocketsSandbox
) -> None:
    from tests.support.cli import run_cli

    env = {"DOCKETWATCH_FEDERAL_DOCKETS_URL": f"{replica.url}/api/rest/v4"}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    added = run_cli(
        "clients",
        "add",
        "912345678",
        "--name",
        "DOE, JANE",
        "--nationality",
        "HO",
        cwd=tmp_path,
        env=env,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    no_token = run_cli(
        "federal_dockets",
        "link",
        "912345678",
        "--court",
        "cacd",
        "--docket-number",
        "5:25-cv-01234",
        cwd=tmp_path,
        env=env,
    )
    assert no_token.returncode == 1 and "federal_dockets token" in no_token.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("not a token")
    refused = run_cli("federal_dockets", "token", "--token-file", str(bad), cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "not a CourtListener API token" in refused.stderr
    good = tmp_path / "token.txt"
    good.write_text(TOKEN + "\n")
    stored = run_cli("federal_dockets", "token", "--token-file", str(good), cwd=tmp_path, env=env)
    assert stored.returncode == 0, stored.stderr
    docket = replica.add_docket("cacd", "5:25-cv-01234", "Doe v. Warden", ["Jane Doe"])
    replica.add_docket("ca9", "25-1234", "Doe v. Bondi", ["Jane Doe"])
    replica.add_entry(docket, PETITION)
    suggested = run_cli("federal_dockets", "suggest", "912345678", "--json", cwd=tmp_path, env=env)
    assert suggested.returncode == 0, suggested.stderr
    found = json.loads(suggested.stdout)
    assert {(r["court"], r["docket_number"]) for r in found} == {
        ("cacd", "5:25-cv-01234"),
        ("ca9", "25-1234"),
    }
    listed = run_cli("federal_dockets", "list", "--json", cwd=tmp_path, env=env)
    assert json.loads(listed.stdout)[0]["state"] == "unresolved"  # suggest linked nothing
    linked = run_cli(
        "federal_dockets",
        "link",
        "912345678",
        "--court",
        "cacd",
        "--docket-number",
        "5:25-cv-1234",
        cwd=tmp_path,
        env=env,
    )
    assert linked.returncode == 0 and "cacd 5:25-cv-01234: linked" in linked.stdout
    rows = json.loads(run_cli("federal_dockets", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert [(r["state"], r["client"]) for r in rows] == [("linked", "***5678")]
    assert rows[0]["newest_entry"].startswith("1 ")
    help_text = run_cli("federal_dockets", "--help", cwd=tmp_path).stdout
    for command in ("link", "unlink", "list", "suggest", "check", "token"):
        assert command in help_text


def test_a_second_link_to_a_watched_docket_takes_no_entry_from_its_watchers(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    """Two clients on one docket (a family's joint petition): an entry that arrives before the
    second link is resolved alerts the first client's attorneys, and is the second's baseline."""
    from storage.people import add_client, assign

    with SmtpSink() as sink:
        first, docket = _wire(sqlite_engine, sink, replica)
    with session_scope(sqlite_engine) as s:
        second = add_client(s, a_number="912345679", name="DOE, JOHN", nationality="HO")
        assign(s, "912345679", "ana@example.org", "primary")
        assert second.id is not None
        second_id = second.id
    replica.add_entry(docket, OSC, notify=False)
    state, _ = link_now(
        sqlite_engine, _settings(replica), second_id, normalize("cacd", "5:25-cv-1234")
    )
    assert state == "linked"
    assert [(e.kind, e.client_id) for e in _events(sqlite_engine)] == [
        ("federal_order_to_show_cause", first)
    ]
    replica.add_entry(docket, "NOTICE OF APPEARANCE by AUSA.", notify=False)
    assert check(sqlite_engine, _settings(replica), START).ok
    plain = {e.client_id for e in _events(sqlite_engine, "federal_entry_filed")}
    assert plain == {first, second_id}  # from now on, each client's attorneys hear of it


def test_every_kind_arrives_from_real_entry_text_over_http(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    """One real entry of each kind (the fixtures), filed on a linked docket at the replica and
    polled: each becomes its own event for the client, the rest plain new entries."""
    entries = json.loads(FIXTURES.read_text())
    chosen: dict[str, str] = {}
    for entry in entries:
        key = entry["kinds"][0] if entry["kinds"] else PLAIN
        if len(entry["kinds"]) <= 1:
            chosen.setdefault(key, entry["description"])
    assert len(chosen) == 7
    with SmtpSink() as sink:
        client_id, docket = _wire(sqlite_engine, sink, replica)
    for text in chosen.values():
        replica.add_entry(docket, text, notify=False)
    assert check(sqlite_engine, _settings(replica), START).ok
    got = _events(sqlite_engine)
    assert sorted(e.kind for e in got) == sorted(chosen)
    assert {e.client_id for e in got} == {client_id}
    urgent = {e.kind for e in got if e.severity == "urgent"}
    assert urgent == {
        "federal_order_to_show_cause",
        "federal_tro_decided",
        "federal_stay_decided",
        "federal_habeas_decided",
    }


def test_the_token_is_sealed_at_rest_and_rekeyed(sqlite_engine: sa.Engine) -> None:
    from storage.federal_dockets import account
    from storage.secrets import keyring_of, rotate

    with session_scope(sqlite_engine) as s:
        set_token(s, TOKEN)
    raw = "SELECT token FROM federal_account"
    with sqlite_engine.connect() as c:
        before = c.execute(sa.text(raw)).scalar_one()
    assert TOKEN not in before and keyring_of(sqlite_engine.dialect).open(before) == TOKEN
    rotate(sqlite_engine)
    with sqlite_engine.connect() as c:
        after = c.execute(sa.text(raw)).scalar_one()
    assert after != before and TOKEN not in after
    with session_scope(sqlite_engine) as s:
        assert account(s).token == TOKEN  # opened with the new key


def test_a_webhook_missed_while_the_web_app_was_down_comes_again_once(
    sqlite_engine: sa.Engine, replica: FederalDocketsSandbox
) -> None:
    """CourtListener retries a webhook it could not deliver, with the same Idempotency-Key:
    the web app, back up, takes it once."""
    from sandbox.mail import free_port

    with SmtpSink() as sink:
        _, docket = _wire(sqlite_engine, sink, replica)
    assert check(sqlite_engine, _settings(replica), START).ok  # the docket alert is made
    port = free_port()
    replica.state.webhook_url = (
        f"http://127.0.0.1:{port}/hooks/federal_dockets/courtlistener/{SECRET}"
    )
    replica.add_entry(docket, OSC)  # nothing listens there yet
    wait_until(lambda: replica.state.deliveries[-1].attempts, 10, "a first try that failed")
    server = web_server(
        sqlite_engine,
        "ack-secret",
        port,
        federal_dockets_url=f"{replica.url}/api/rest/v4",
        federal_dockets_webhook_secret=SECRET,
    )
    try:
        wait_until(lambda: _events(sqlite_engine), 30, "the retried webhook's alert")
        attempts = replica.state.deliveries[-1].attempts
        assert attempts[0] == 0 and attempts[-1] == 200
    finally:
        server.stop()
    assert [e.kind for e in _events(sqlite_engine)] == ["federal_order_to_show_cause"]
    with session_scope(sqlite_engine) as s:
        assert len(s.exec(select(FederalWebhook)).all()) == 1
