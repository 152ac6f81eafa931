"""The web app in real Chromium (Debian's, through Playwright) over real HTTP, on SQLite, for
every role: sign-in and sign-out, sessions that expire, CSRF refusal, a client outside an
attorney's scope (404), acknowledging from the inbox (which stops escalation), reveal audited,
check now, the caseload with a formula-safe CSV, Spanish pages, and axe-core on every page."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from sandbox.acis_data import Case
from sandbox.acis_data import Hearing as AcisHearing
from sandbox.eoir_foia_release import generate
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope, upgrade
from storage.eoir_foia import load_release
from storage.models import AuditEntry, CheckRequest, Client, Delivery, Event, FoiaLookup, Staff
from storage.passwords import set_password
from storage.people import add_client, add_staff, assign
from storage.reference_data import load_reference_data
from tests.support.acis import look
from tests.support.alerting import (
    Clock,
    Org,
    dispatcher,
    emit_one,
    hearing_moved,
    make_org,
    web_server,
)
from tests.support.routes import signed_in_pages
from tests.support.web import PASSWORD, accessible

pytestmark = pytest.mark.slow  # one worker runs it whole (tests/conftest.py: ONE_WORKER)
DAN = "dan@example.org"
EVE = "eve@example.org"  # her sign-in is throttled by a test: nobody else's may be
SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
EDITIONS = sorted(
    (Path(__file__).parent / "fixtures/detention_stats/ice_xlsx").glob("FY2[45]*.xlsx")
)


@dataclass
class Site:
    base: str
    engine: sa.Engine
    org: Org
    sink: SmtpSink
    other_client: int
    clock: dict[str, datetime] = field(default_factory=dict)


@pytest.fixture(
    scope="module",
    # Every page on SQLite in the fast tier, and on PostgreSQL in the scale tier.
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.scale)],
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    from contextlib import ExitStack

    tmp = tmp_path_factory.mktemp("web")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'dw.db'}"
        else:
            from sandbox import pgserver as pg

            url = stack.enter_context(pg.fresh_database(request.getfixturevalue("pg_admin_url")))
        yield from _site(url, tmp)


def _site(url: str, tmp: Path) -> Iterator[Site]:
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    with SmtpSink() as sink:
        org = make_org(engine, sink, now - timedelta(days=3))
        with session_scope(engine) as s:
            for name, email in (("Dan Wu", DAN), ("Eve Ng", EVE)):
                add_staff(s, name=name, email=email, role="attorney", channels=[sink.url(email)])
            other = add_client(s, a_number="912000002", name="ROE, JUAN", nationality="MX")
            assign(s, "912000002", DAN, "primary")
            assert other.id is not None
            other_id = other.id
            for email in (org.attorney, org.backup, org.coordinator, org.admin, DAN, EVE):
                set_password(s, email, PASSWORD)
        soon = date.today() + timedelta(days=30)
        case = Case(org.a_number, "HO", hearing=AcisHearing(on=soon))
        look(engine, org.client_id, case, now - timedelta(days=2))
        case.hearing = AcisHearing(on=soon - timedelta(days=9), judge="Lee, Ann", judge_code="ALE")
        look(engine, org.client_id, case, now - timedelta(days=1))
        release = generate(tmp / "r1.zip", 4000, seed=5, as_of=date(2026, 10, 1))
        load_release(
            engine, release.path, courts=["ADL"], as_of=release.as_of, work_dir=tmp / "work"
        )
        with session_scope(engine) as s:  # a label that a spreadsheet would run as a formula
            s.execute(
                sa.update(FoiaLookup)
                .where(col(FoiaLookup.table_name) == "nationality", col(FoiaLookup.code) == "MX")
                .values(label='=HYPERLINK("http://x.example/?"&A1)')
            )
        from spiders.detention_stats import parse_workbook
        from storage.detention_stats import store_edition
        from storage.files import sha256_of

        with session_scope(engine) as s:
            for path in EDITIONS:
                store_edition(s, parse_workbook(path), url=path.name, sha256=sha256_of(path))
        clock = {"now": now}
        # Four rows a page: the small synthetic caseload spans several pages.
        # One program, whose mail server is on its own machine (the loopback SMTP server).
        server = web_server(
            engine,
            "web-secret",
            0,
            clock=lambda: clock["now"],
            page_size=4,
            web_channels_private=True,
        )
        try:
            yield Site(f"http://127.0.0.1:{server.port}", engine, org, sink, other_id, clock)
        finally:
            server.stop()
            engine.dispose()


def sign_in(page: Any, site: Site, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{site.base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shot(page: Any, name: str) -> None:
    """Screenshots for the README, kept when DOCKETWATCH_SCREENSHOTS is set."""
    import os

    if os.environ.get("DOCKETWATCH_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_wrong_then_right_home_and_sign_out(site: Site, page: Any) -> None:
    page.goto(f"{site.base}/")
    assert page.url.startswith(f"{site.base}/login")  # not signed in: the sign-in page
    accessible(page)
    shot(page, "sign-in")
    sign_in(page, site, site.org.attorney, "not the password!")
    assert page.get_by_role("alert").inner_text().startswith("That email and password")
    sign_in(page, site, site.org.attorney)
    assert page.get_by_role("heading", name="My clients").is_visible()
    body = page.inner_text("main")
    assert "J.D. •••-•••-5678" in body  # initials and the last four digits
    assert "DOE" not in body and "912345678" not in body  # never the full name or number
    assert "Lee, Ann" in body  # the judge of the current hearing
    assert "R.J." not in body  # Dan's client is not Ana's
    assert page.get_by_role("button", name="Acknowledge alert").count() >= 1
    cookie = next(c for c in page.context.cookies() if c["name"] == "dw_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    accessible(page)
    shot(page, "attorney-home")
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.inner_text("main")
    page.goto(f"{site.base}/alerts")
    assert page.url.startswith(f"{site.base}/login")  # the old session is gone
    with session_scope(site.engine) as s:
        actions = [a.action for a in s.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert "sign_in_failed" in actions and "sign_in" in actions


def test_roles_and_scope(site: Site, page: Any) -> None:
    sign_in(page, site, DAN)
    response = page.goto(f"{site.base}/clients/{site.org.client_id}")  # Ana's client, by URL
    assert response.status == 404 and "Not found" in page.inner_text("main")
    assert page.goto(f"{site.base}/clients/{site.other_client}").status == 200
    assert page.goto(f"{site.base}/caseload").status == 403  # coordinators and admins only
    assert page.goto(f"{site.base}/sources").status == 403  # admins only
    assert page.get_by_role("link", name="Caseload").count() == 0  # and not offered
    page.goto(f"{site.base}/alerts?ack=all")
    assert "Hearing moved earlier" not in page.inner_text("main")  # Ana's client's alerts
    page.context.clear_cookies()
    sign_in(page, site, site.org.coordinator)
    assert page.goto(f"{site.base}/clients/{site.org.client_id}").status == 200
    assert page.goto(f"{site.base}/sources").status == 403
    page.context.clear_cookies()
    sign_in(page, site, site.org.admin)
    assert page.goto(f"{site.base}/sources").status == 200
    text = page.inner_text("main")
    assert "acis" in text and "eoir_foia" in text
    assert "not scheduled (is the service running?)" in text  # no service has run here
    channels = page.get_by_role("table", name="Alert channels").inner_text()
    assert site.org.attorney in channels and "mailto://" in channels
    releases = page.get_by_role("table", name="FOIA releases").locator("tbody tr").all_inner_texts()
    assert len(releases) == 1 and "loaded" in releases[0] and "2026-10-01" in releases[0]
    accessible(page)
    shot(page, "admin-sources")


def test_a_form_without_the_sessions_token_is_refused(site: Site, page: Any) -> None:
    event = emit_one(
        site.engine, hearing_moved(site.org, site.clock["now"], key="csrf"), site.clock["now"]
    )
    assert event is not None and event.id is not None
    sign_in(page, site, site.org.attorney)
    page.goto(f"{site.base}/alerts")
    form = page.locator(f"form[action='/alerts/{event.id}/ack']")
    form.locator("input[name=csrf_token]").evaluate("e => e.value = 'forged'")
    form.get_by_role("button").click()
    page.wait_for_load_state()
    assert "Form expired" in page.inner_text("main")
    # A cross-site form post carries the cookie but cannot know the token.
    answer = page.request.post(f"{site.base}/alerts/{event.id}/ack", form={"back": "/"})
    assert answer.status == 403
    with session_scope(site.engine) as s:
        stored = s.get(Event, event.id)
        assert stored is not None and stored.acknowledged_at is None


def test_sessions_expire(site: Site, page: Any) -> None:
    from web.auth import ABSOLUTE, IDLE

    sign_in(page, site, site.org.attorney)
    start = site.clock["now"]
    try:
        site.clock["now"] = start + IDLE - timedelta(minutes=5)
        assert page.goto(f"{site.base}/").url == f"{site.base}/"  # used: extended
        site.clock["now"] += IDLE - timedelta(minutes=5)
        assert page.goto(f"{site.base}/").url == f"{site.base}/"
        site.clock["now"] += IDLE + timedelta(minutes=1)  # idle too long
        page.goto(f"{site.base}/alerts")
        assert page.url.startswith(f"{site.base}/login?next=%2Falerts")
        sign_in(page, site, site.org.attorney)
        for _ in range(int(ABSOLUTE / (IDLE / 2)) + 1):  # busy all day: ends anyway
            site.clock["now"] += IDLE / 2
            page.goto(f"{site.base}/")
        assert page.url.startswith(f"{site.base}/login")
    finally:
        site.clock["now"] = start


def test_acknowledging_from_the_inbox_stops_escalation(site: Site, page: Any) -> None:
    now = site.clock["now"]
    clock = Clock(now)
    send = dispatcher(site.engine, clock, escalation_minutes=60)
    acked = emit_one(site.engine, hearing_moved(site.org, now, key="inbox"), now)
    ignored = emit_one(site.engine, hearing_moved(site.org, now, key="ignored"), now)
    assert acked is not None and ignored is not None
    send.run_once()
    sign_in(page, site, site.org.attorney)
    page.goto(f"{site.base}/alerts")
    accessible(page)
    shot(page, "alerts-inbox")
    page.get_by_role("button", name=f"Acknowledge alert {acked.id}", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name=f"Acknowledge alert {acked.id}", exact=True).count() == 0
    clock.advance(minutes=61)
    send.run_once()
    with session_scope(site.engine) as s:
        escalated = s.exec(
            select(Delivery.event_id)
            .join(Staff, col(Staff.id) == col(Delivery.staff_id))
            .where(
                Staff.email == site.org.backup,
                col(Delivery.escalation_level) > 0,
                col(Delivery.event_id).in_([acked.id, ignored.id]),
            )
        ).all()
    assert escalated == [ignored.id]  # to the backup attorney: the ignored one only
    with session_scope(site.engine) as s:
        done = s.get(Event, acked.id)
        other = s.get(Event, ignored.id)
        assert done is not None and done.acknowledged_by == site.org.attorney
        assert done.escalation_level == 0
        assert other is not None and other.escalation_level == 1


def test_client_page_reveal_is_audited_and_check_now_queues(site: Site, page: Any) -> None:
    sign_in(page, site, site.org.attorney)
    page.goto(f"{site.base}/clients/{site.org.client_id}")
    main = page.inner_text("main")
    assert "912345678" not in main and "DOE" not in main
    assert "Hearings over time" in main and "Lee, Ann" in main and "ACIS lookups" in main
    accessible(page)
    shot(page, "client")
    page.get_by_role("button", name="Reveal name and A-number").click()
    page.wait_for_load_state()
    assert "DOE, JANE" in page.inner_text("main") and "912-345-678" in page.inner_text("main")
    page.goto(f"{site.base}/clients/{site.org.client_id}")
    page.get_by_role("button", name="Check ACIS now").click()
    page.wait_for_load_state()
    assert "Queued" in page.get_by_role("status").first.inner_text()
    page.get_by_role("button", name="Check ACIS now").click()  # twice: still one request
    page.wait_for_load_state()
    with session_scope(site.engine) as s:
        reveals = s.exec(
            select(AuditEntry).where(
                AuditEntry.action == "reveal", AuditEntry.client_id == site.org.client_id
            )
        ).all()
        requests = s.exec(
            select(CheckRequest).where(
                CheckRequest.client_id == site.org.client_id, col(CheckRequest.done_at).is_(None)
            )
        ).all()
    assert len(reveals) >= 1 and reveals[0].ip == "127.0.0.1"
    assert len(requests) == 1 and requests[0].source == "acis"


def test_caseload_and_its_csv_are_formula_safe(site: Site, page: Any) -> None:
    sign_in(page, site, site.org.coordinator)
    page.goto(f"{site.base}/caseload?court=ADL&by=nationality")
    text = page.inner_text("main")
    assert "unrepresented pending proceeding(s) at ADL" in text
    assert page.locator("svg.chart").count() == 1  # the trend, with its table beside it
    accessible(page)
    shot(page, "caseload")
    page.goto(f"{site.base}/caseload?court=ADL")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["case", "proceeding", "nationality"] and len(rows) > 5
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    mexican = [row[2] for row in rows[1:] if row[2].endswith("(MX)")]
    assert mexican and all(n.lower().startswith("'=hyperlink(") for n in mexican)


def test_spanish_pages(site: Site, page: Any) -> None:
    sign_in(page, site, site.org.backup)  # Beto: Spanish, backup attorney of Ana's client
    assert page.get_by_role("heading", name="Mis clientes").is_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "suplente" in page.inner_text("main")  # his role for that client
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()
    accessible(page)
    shot(page, "home-es")
    page.goto(f"{site.base}/clients/{site.org.client_id}")
    assert "Audiencias a lo largo del tiempo" in page.inner_text("main")
    assert page.goto(f"{site.base}/reports").status == 403  # an attorney: not his page
    page.context.clear_cookies()
    with session_scope(site.engine) as s:
        from storage.people import update_staff

        update_staff(s, site.org.coordinator, language="es")
    try:
        sign_in(page, site, site.org.coordinator)
        page.goto(f"{site.base}/reports")
        text = page.inner_text("main")
        assert "Clientes vigilados" in text and "Audiencia ADELANTADA" in text
        assert "Hearing moved EARLIER" not in text
        accessible(page)
    finally:
        with session_scope(site.engine) as s:
            update_staff(s, site.org.coordinator, language="en")


def test_sign_in_attempts_are_limited(site: Site, browser: Any) -> None:
    context = browser.new_context()
    tab = context.new_page()
    try:
        for _ in range(5):
            sign_in(tab, site, EVE, "wrong password, again")
            assert "do not match" in tab.inner_text("main")
        sign_in(tab, site, EVE)  # the right password, too late
        assert "Too many failed attempts" in tab.inner_text("main")
        assert tab.get_by_role("heading", name="My clients").count() == 0
    finally:
        context.close()


def _get(base: str, path: str, headers: dict[str, str]) -> Any:
    import http.client

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer
    finally:
        conn.close()


def test_behind_the_https_proxy_cookies_are_secure(site: Site) -> None:
    """The proxy (trusted: loopback) says the visitor came over HTTPS: cookies are Secure.
    Without that header, or from an address not trusted, they are not (plain loopback HTTP)."""
    behind = _get(
        site.base, "/login", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Secure" in behind.getheader("set-cookie") and "HttpOnly" in behind.getheader(
        "set-cookie"
    )
    direct = _get(site.base, "/login", {})
    assert "Secure" not in direct.getheader("set-cookie")
    for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy"):
        assert direct.getheader(header)
    untrusted = web_server(site.engine, "web-secret", 0, web_trusted_proxies="10.9.9.9")
    try:
        spoofed = _get(
            f"http://127.0.0.1:{untrusted.port}", "/login", {"X-Forwarded-Proto": "https"}
        )
        assert "Secure" not in spoofed.getheader("set-cookie")
    finally:
        untrusted.stop()


def test_sign_in_never_redirects_off_the_site(site: Site, page: Any) -> None:
    for target in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/%09/evil.example",
        "/%2F%2Fevil.example",
    ):
        page.goto(f"{site.base}/login?next={target}")
        page.get_by_label("Email").fill(site.org.coordinator)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert page.url == f"{site.base}/"
        page.context.clear_cookies()


def test_caseload_filters_sorting_pages_and_xlsx(site: Site, page: Any) -> None:
    from openpyxl import load_workbook

    sign_in(page, site, site.org.admin)
    page.goto(f"{site.base}/caseload?court=ADL")
    every = int(page.locator("#caseload-title").inner_text().split()[0])
    nationality = page.locator("#nationality option").nth(1)
    code = nationality.get_attribute("value")
    page.select_option("#nationality", code)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    title = page.locator("#caseload-title").inner_text()
    narrowed = int(title.split()[0])
    assert f"nationality {code}" in title and 0 < narrowed <= every
    cells = page.locator("table").first.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert len(cells) == narrowed and all(c.endswith(f"({code})") for c in cells)
    page.goto(f"{site.base}/caseload?court=ADL&sort=case&desc=1")
    cases: list[int] = []
    while True:  # page by page, through the Next links
        first = page.locator("table").first
        cases += [int(c) for c in first.locator("tbody tr td:nth-child(1)").all_inner_texts()]
        if page.get_by_role("link", name="Next", exact=True).count() == 0:
            break
        page.get_by_role("link", name="Next", exact=True).click()
        page.wait_for_load_state()
    assert every > 4 and "Page 2 of" in page.inner_text("main")
    assert cases == sorted(cases, reverse=True) and len(cases) == every
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    saved = Path(download.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(saved)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("case", "proceeding") and len(rows) == every + 2
    (cell,) = [row[2] for row in sheet.iter_rows(min_row=3) if str(row[2].value).endswith("(MX)")][
        :1
    ]
    assert cell.data_type == "s" and str(cell.value).startswith("=")  # text, never a formula
    accessible(page)


def test_hearings_by_day_and_facilities(site: Site, page: Any) -> None:
    sign_in(page, site, site.org.coordinator)
    page.goto(f"{site.base}/caseload/hearings?court=ADL&from=2026-10-01&to=2026-12-31")
    days = page.locator("main h2").all_inner_texts()
    assert days == sorted(days) and len(days) >= 1
    assert all(d.startswith("2026-1") for d in days)
    accessible(page)
    shot(page, "hearings-by-day")
    bad = page.goto(f"{site.base}/caseload/hearings?from=2026-12-31&to=2026-10-01")
    assert bad.status == 400
    page.goto(f"{site.base}/facilities")
    assert page.locator("svg circle").count() >= len(EDITIONS)
    rows = page.locator("tbody tr").all_inner_texts()
    assert any("ADELANTO" in r.upper() for r in rows) and any(
        "DESERT VIEW" in r.upper() for r in rows
    )
    accessible(page)
    shot(page, "facilities")


def test_roster_upload_preview_rejects_and_import(site: Site, page: Any, tmp_path: Path) -> None:
    roster = tmp_path / "export.csv"
    roster.write_text(
        "A-Number,Client Name,Nationality\n"
        '912300001,"PEREZ, LUIS",MX\n'
        '912300002,"LOPEZ, ANA",GT\n'
        '12,"SHORT, NUMBER",MX\n'  # not nine digits
        '912300004,=HYPERLINK("http://x.example"),ZZ\n'  # no such nationality
    )
    sign_in(page, site, site.org.attorney)
    assert page.goto(f"{site.base}/roster").status == 403  # coordinators and admins only
    page.context.clear_cookies()
    sign_in(page, site, site.org.coordinator)
    page.goto(f"{site.base}/roster")
    accessible(page)
    page.set_input_files("#file", str(roster))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert [page.inner_text(f"#{k}") for k in ("created", "rejected")] == ["2", "2"]
    lines = page.locator("table").nth(1).locator("tbody tr td:first-child").all_inner_texts()
    assert lines == ["4", "5"]
    accessible(page)
    shot(page, "roster-preview")
    with session_scope(site.engine) as s:  # a preview stores nothing
        assert s.exec(select(Client).where(Client.a_number == "912300001")).first() is None
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    rejects = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert [r[0] for r in rejects[1:]] == ["4", "5"]
    assert not any(c.startswith("=") for r in rejects for c in r)
    with session_scope(site.engine) as s:  # rows with names and A-numbers: the view is audited
        assert s.exec(
            select(AuditEntry).where(AuditEntry.action == "roster_rejects_download")
        ).first()
    page.get_by_role("button", name="Import the accepted rows").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Imported"
    with session_scope(site.engine) as s:
        names = {
            c.name for c in s.exec(select(Client).where(col(Client.a_number).startswith("9123000")))
        }
    assert names == {"PEREZ, LUIS", "LOPEZ, ANA"}


def test_admin_adds_staff_edits_and_test_sends(site: Site, page: Any) -> None:
    sign_in(page, site, site.org.coordinator)
    assert page.goto(f"{site.base}/staff").status == 403
    page.context.clear_cookies()
    sign_in(page, site, site.org.admin)
    page.goto(f"{site.base}/staff")
    accessible(page)
    page.get_by_label("Name").fill("Fay Ortiz")
    page.get_by_label("Email").fill("fay@example.org")
    page.select_option("#role", "attorney")
    page.get_by_label("Alert channel").fill(site.sink.url("fay@example.org"))
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Added."
    assert "pass=" not in page.inner_text("main")  # the channel's secrets stay masked
    page.select_option("#language", "es")
    page.get_by_label("Quiet hours").fill("21:00-07:00")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Saved."
    page.get_by_role("button", name="Send a test message").click()
    page.wait_for_load_state()
    assert ": sent" in page.get_by_role("status").inner_text()
    accessible(page)
    shot(page, "staff")
    (message,) = site.sink.to("fay@example.org")
    assert "Si lo recibe" in message.text()  # in her language, saved just before
    with session_scope(site.engine) as s:
        fay = s.exec(select(Staff).where(Staff.email == "fay@example.org")).one()
        assert (fay.language, fay.quiet_start, fay.role) == ("es", time(21, 0), "attorney")
    page.goto(f"{site.base}/staff")
    page.get_by_label("Name").fill("Fay Again")
    page.get_by_label("Email").fill("fay@example.org")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    assert "exists already" in page.inner_text("main")  # a clear error, nothing changed


def test_a_one_time_link_sets_the_password(site: Site, page: Any, tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    env = {
        "DATABASE_URL": str(site.engine.url),
        "DOCKETWATCH_WEB_BASE_URL": site.base,
        "DOCKETWATCH_ACK_SECRET": "web-secret",
    }
    with session_scope(site.engine) as s:
        add_staff(s, name="Gil Roa", email="gil@example.org", role="coordinator")
    refused = run_cli("staff", "password", "gil@example.org", cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "--stdin, or use --link" in refused.stderr
    issued = run_cli("staff", "password", "gil@example.org", "--link", cwd=tmp_path, env=env)
    assert issued.returncode == 0, issued.stderr
    link = issued.stdout.split(": ", 1)[1].strip()
    assert link.startswith(f"{site.base}/welcome/")
    page.goto(link)
    assert page.get_by_role("heading", name="Welcome, Gil Roa").is_visible()
    accessible(page)
    page.get_by_label("New password").fill("a long new password")
    page.get_by_label("The same password again").fill("a different password")
    page.get_by_role("button", name="Set the password and sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == "The two passwords differ."
    page.get_by_label("New password").fill("a long new password")
    page.get_by_label("The same password again").fill("a long new password")
    page.get_by_role("button", name="Set the password and sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Clients").is_visible()  # signed in
    assert page.goto(link).status == 404  # once only
    page.context.clear_cookies()
    sign_in(page, site, "gil@example.org", "a long new password")
    assert page.get_by_role("heading", name="Clients").is_visible()


def test_calendar_feed_from_the_home_page_follows_a_moved_hearing(site: Site, page: Any) -> None:
    from icalendar import Calendar

    sign_in(page, site, site.org.attorney)
    page.get_by_role("button", name="Get a new calendar address").click()
    page.wait_for_load_state()
    address = page.get_by_label("Your calendar address").input_value()
    assert address.startswith(f"{site.base}/calendar/") and address.endswith(".ics")
    accessible(page)

    def hearings() -> dict[str, Any]:
        answer = page.request.get(address)
        assert answer.status == 200
        feed = Calendar.from_ical(answer.body())
        return {str(e["UID"]): e for e in feed.walk("VEVENT") if e.get("STATUS") != "CANCELLED"}

    (event,) = hearings().values()
    assert "J.D." in str(event["SUMMARY"]) and "DOE" not in str(event["SUMMARY"])
    before = event.decoded("DTSTART")
    moved_to = before.date() - timedelta(days=3)
    when = site.clock["now"]
    case = Case(
        site.org.a_number,
        "HO",
        hearing=AcisHearing(on=moved_to, judge="Lee, Ann", judge_code="ALE"),
    )
    look(site.engine, site.org.client_id, case, when)
    (moved,) = hearings().values()
    assert moved.decoded("DTSTART").date() == moved_to
    assert str(moved["UID"]) == str(event["UID"])  # the same calendar event, updated
    page.goto(f"{site.base}/")
    page.get_by_role("button", name="Revoke my calendar address").click()
    page.wait_for_load_state()
    assert page.request.get(address).status == 404


PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}


def _fits_and_accessible(page: Any, where: str, axe: bool = True) -> None:
    """No sideways scrolling at the viewport's width, and (``axe``) no axe violation."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    if width > viewport:
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth + 0.5).slice(0, 5).map(e => e.tagName + '.' + e.className + ' '"
            " + Math.round(e.getBoundingClientRect().right))"
        )
        raise AssertionError(f"{where}: {width} px wide in a {viewport} px viewport: {wide}")
    if axe:
        accessible(page)


def _an_event_id(site: Site) -> int:
    with session_scope(site.engine) as s:
        event = s.exec(select(Event).where(Event.client_id == site.org.client_id)).first()
        assert event is not None and event.id is not None
        return event.id


@pytest.mark.parametrize(
    "axe_everywhere",
    # The fast tier runs axe-core on each page as the phone shows it (and on the refusal page
    # once); the scale tier runs it again at the desktop's size, and on every refusal.
    [
        pytest.param(False, id="axe-on-phones"),
        pytest.param(True, marks=pytest.mark.scale, id="axe-everywhere"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("who", ["attorney", "coordinator", "admin"])
def test_every_page_for_every_role(
    site: Site, page: Any, who: str, lang: str, axe_everywhere: bool
) -> None:
    """Each page answers each role as its role allows, and every page a role opens, in each
    language, reads on a phone (390 x 844) and on a desktop (1280 x 800) without sideways
    scrolling and passes axe-core; so do the pages anyone with a link opens (ack, not
    found)."""
    from storage.people import update_staff

    email = {
        "attorney": site.org.attorney,
        "coordinator": site.org.coordinator,
        "admin": site.org.admin,
    }[who]
    pages = signed_in_pages()
    assert len(pages) >= 10 and "/sources" in pages
    everyone = ("attorney", "coordinator", "admin")
    pages[f"/clients/{site.org.client_id}"] = everyone  # the attorney's own client
    pages[f"/alerts/{_an_event_id(site)}"] = everyone
    with session_scope(site.engine) as s:
        update_staff(s, email, language=lang)
    try:
        sign_in(page, site, email)
        assert page.locator("html").get_attribute("lang") == lang
        refusals = 0
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            for path, roles in pages.items():
                answer = page.goto(f"{site.base}{path}")
                assert answer.status == (200 if who in roles else 403), (who, path)
                refusals += answer.status == 403
                axe = axe_everywhere or (size is PHONE and (answer.status == 200 or refusals == 1))
                _fits_and_accessible(page, f"{path} at {size['width']} px, {lang}, {who}", axe)
        assert page.goto(f"{site.base}/clients/999999").status == 404
        accessible(page)
        malformed = page.goto(f"{site.base}/clients/not-a-number")
        assert malformed.status == 400
        assert "not-a-number" not in page.inner_text("main")
    finally:
        with session_scope(site.engine) as s:
            update_staff(s, email, language="es" if email == site.org.backup else "en")
    if who == "admin" and lang == "en":
        from monitor.messages import ack_link

        event = emit_one(
            site.engine, hearing_moved(site.org, site.clock["now"], key="axe"), site.clock["now"]
        )
        assert event is not None and event.id is not None
        link = ack_link(site.base, "web-secret", event.id, event.created_at)
        assert link is not None
        page.context.clear_cookies()  # an ack link needs no sign-in
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            assert page.goto(link).status == 200
            _fits_and_accessible(page, f"the ack link at {size['width']} px")
        page.get_by_role("button", name="Acknowledge").click()
        page.wait_for_load_state()
        assert f"Alert #{event.id} acknowledged" in page.inner_text("main")
        accessible(page)


def test_on_a_phone_the_hearing_comes_first_and_an_alerts_link_is_one_tap(
    site: Site, page: Any
) -> None:
    """Issue 31: a client's page leads with the next hearing, custody and the alerts to
    acknowledge, before the actions; an alert's link from a message opens onto that alert
    after sign-in, and acknowledging it there is one tap."""
    page.set_viewport_size(PHONE)
    event = emit_one(
        site.engine, hearing_moved(site.org, site.clock["now"], key="phone"), site.clock["now"]
    )
    assert event is not None and event.id is not None
    page.goto(f"{site.base}/alerts/{event.id}")  # as the message's "Open" link does
    assert page.url.startswith(f"{site.base}/login")
    sign_in_here = page.get_by_label("Email")
    sign_in_here.fill(site.org.attorney)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.url == f"{site.base}/alerts/{event.id}"  # back to the alert
    assert "Hearing moved EARLIER" in page.inner_text("main")
    shot(page, "phone-alert")
    page.get_by_role("button", name="Acknowledge").click()  # one tap
    page.wait_for_load_state()
    assert page.url == f"{site.base}/alerts/{event.id}"
    assert "Acknowledged" in page.inner_text("main")
    with session_scope(site.engine) as s:
        stored = s.get(Event, event.id)
        assert stored is not None and stored.acknowledged_by == site.org.attorney

    weights: dict[str, int] = {}
    page.on("response", lambda r: weights.__setitem__(r.url, len(r.body())))
    page.goto(f"{site.base}/")
    page.wait_for_load_state("networkidle")
    html = sum(n for url, n in weights.items() if "/static/" not in url)
    css = sum(n for url, n in weights.items() if "/static/style.css" in url)
    assert css > 0 and html + css < 30_000, weights  # a page and its stylesheet: under 30 KB
    assert not [u for u in weights if not u.startswith(site.base)]  # nothing from elsewhere
    if os.environ.get("DOCKETWATCH_SCREENSHOTS"):
        print(f"page weight: home {html} bytes + stylesheet {css} bytes")
    shot(page, "phone-home")
    page.goto(f"{site.base}/clients/{site.org.client_id}")
    court = page.locator("#in-court").bounding_box()
    actions = page.locator("#actions").bounding_box()
    history = page.locator("#hearings").bounding_box()
    assert court is not None and actions is not None and history is not None
    assert court["y"] < history["y"] < actions["y"]  # the hearing, then history, then actions
    main = page.inner_text("main")
    assert main.index("Judge") < main.index("Check ACIS now")
    assert main.index("Lee, Ann") < main.index("Reveal name and A-number")
    shot(page, "phone-client")


def test_representation_report_page_and_its_files(site: Site, page: Any) -> None:
    """The representation report from the loaded release, for a coordinator: every figure
    on the page, the files it links to, and the reason when a court cannot be reported."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    sign_in(page, site, site.org.coordinator)
    page.goto(f"{site.base}/reports")
    page.get_by_role("link", name="Representation report (EOIR FOIA data)").click()
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "representation at the ADL immigration court" in main
    assert "2025-10 to 2026-09" in main  # the twelve months before the release's
    assert page.locator("main table").count() == 7
    assert "Pending detained caseload" in main and "By nationality" in main
    assert "<10" in main  # a small court in this release: small cells suppressed
    accessible(page)
    shot(page, "representation")
    page.get_by_label("From (YYYY-MM)").fill("2026-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "2026-01 to 2026-09" in page.inner_text("main")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    pdf = " ".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Completed proceedings by outcome" in pdf and "By case type" in pdf
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename == "representation-ADL-2026-01-2026-09.xlsx"
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert "By language" in book.sheetnames and "Definitions" in book.sheetnames
    page.goto(f"{site.base}/reports/representation?court=LOS")
    assert "complete history of ADL only" in page.inner_text("main")
    accessible(page)


def test_reports_page_and_its_files(site: Site, page: Any) -> None:
    from pypdf import PdfReader

    month = f"{site.clock['now']:%Y-%m}"
    sign_in(page, site, site.org.coordinator)
    page.goto(f"{site.base}/reports?from={month}&to={month}")
    tables = page.locator("main table")
    assert tables.count() == 5 and "Clients watched" in page.inner_text("main")
    assert "<10" in page.inner_text("main")  # this small program's counts are suppressed
    accessible(page)
    shot(page, "reports")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    reader = PdfReader(download.value.path())
    assert "How fast attorneys heard" in " ".join(p.extract_text() for p in reader.pages)
    report = page.request.get(f"{site.base}/reports/program.html?from={month}&to={month}")
    assert report.status == 200 and "<script" not in report.text()
    assert "default-src 'none'" in report.headers["content-security-policy"]
    page.goto(f"{site.base}/reports/program.html?from={month}&to={month}")
    assert page.locator("table").count() == 5  # the file a funder receives, in Chromium


def test_client_reminders_consent_pause_withdraw_for_every_role(site: Site, page: Any) -> None:
    """The client page's reminders: consent recorded by the attorney (only languages switched
    on are offered), the reminders sent listed, pause and resume, withdraw; coordinators and
    admins see and use the same section. Every change is audited."""
    from monitor import reminders as r
    from storage.models import Reminder, ReminderContact
    from storage.settings import Settings

    now = site.clock["now"]
    with session_scope(site.engine) as s:
        r.review_language(s, Settings(), "es", "Rita Reviewer", now)
        r.review_language(s, Settings(), "ht", "Rita Reviewer", now)
    sign_in(page, site, site.org.attorney)
    page.goto(f"{site.base}/clients/{site.org.client_id}")
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Reminders to the client")
    )
    assert "No consent on record" in section.inner_text()
    options = page.get_by_label("Reminder language").locator("option").all_inner_texts()
    assert options == ["Español (Spanish)", "Kreyòl ayisyen (Haitian Creole)"]
    accessible(page)
    page.get_by_label("Mobile number").fill("555-01")  # a number cut short: said, not stored
    with page.expect_navigation():  # the form's answer, not the page before it
        page.get_by_role("button", name="Record consent").click()
    problem = page.get_by_role("alert").inner_text()
    assert problem.startswith("Consent not recorded:") and "not a valid phone number" in problem
    assert "555-01" not in problem
    assert page.get_by_role("button", name="Record consent").is_visible()
    accessible(page)
    page.get_by_label("Mobile number").fill("(213) 555-0123")
    page.get_by_label("Send by").select_option("whatsapp")
    page.get_by_label("Reminder language").select_option("ht")
    page.get_by_label("The client consented").select_option("phone")
    with page.expect_navigation():  # the form's answer, not the page before it
        page.get_by_role("button", name="Record consent").click()
    # (another test of this module may have queued a check: its status shows too)
    assert "Consent recorded." in page.get_by_role("status").all_inner_texts()
    text = section.inner_text()
    assert "***0123" in text and "whatsapp" in text and "Kreyòl ayisyen" in text
    assert "555-0123" not in page.content() and site.org.attorney in text
    with session_scope(site.engine) as s:
        contact = s.get(ReminderContact, site.org.client_id)
        assert contact is not None and contact.consent and contact.consent_how == "phone"
        s.add(
            Reminder(
                client_id=site.org.client_id,
                rule="7d",
                hearing_key="k",
                hearing={"date": "2026-12-10", "time": "8:30 AM"},
                status="sent",
                due_at=now,
                created_at=now,
                updated_at=now,
                sent_at=now,
            )
        )
    page.reload()
    rows = page.locator("section table tbody tr", has_text="2026-12-10").all_inner_texts()
    assert any("7 day(s) before" in x and "sent" in x for x in rows)
    accessible(page)
    shot(page, "client-reminders")
    with page.expect_navigation():  # the form's answer, not the page before it
        page.get_by_role("button", name="Pause reminders").click()
    assert "Paused by ana@example.org" in section.inner_text()
    with page.expect_navigation():  # the form's answer, not the page before it
        page.get_by_role("button", name="Resume reminders").click()
    assert "Reminders resumed." in page.get_by_role("status").all_inner_texts()
    for who in (site.org.coordinator, site.org.admin):
        page.context.clear_cookies()
        sign_in(page, site, who)
        page.goto(f"{site.base}/clients/{site.org.client_id}")
        assert "***0123" in section.inner_text()
        accessible(page)
    with page.expect_navigation():  # the form's answer, not the page before it
        page.get_by_role("button", name="Withdraw consent").click()
    assert "Consent withdrawn" in section.inner_text()
    assert page.get_by_role("button", name="Record consent").is_visible()
    with session_scope(site.engine) as s:
        actions = [
            a.action
            for a in s.exec(
                select(AuditEntry)
                .where(AuditEntry.client_id == site.org.client_id)
                .order_by(col(AuditEntry.id))
            )
        ]
    assert actions[-4:] == [
        "reminder_consent",
        "reminders_pause",
        "reminders_resume",
        "reminders_withdraw",
    ]
    # Dan, another attorney, cannot touch this client's reminders.
    page.context.clear_cookies()
    sign_in(page, site, DAN)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(
        f"{site.base}/clients/{site.org.client_id}/reminders/pause",
        form={"csrf_token": token or ""},
    )
    assert answer.status == 404


def test_the_accessibility_check_can_fail(page: Any) -> None:
    """The check every page passes is not one that passes anything: an image without a text
    alternative (critical) and faint grey text (serious) fail it; mended, the page passes."""
    broken = (
        '<!doctype html><html lang="en"><title>t</title><main><h1>t</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p style="color:#ccc">faint</p>'
        "</main></html>"
    )
    page.set_content(broken)
    with pytest.raises(AssertionError) as failed:
        accessible(page)
    assert "'image-alt', 'critical'" in str(failed.value)
    assert "'color-contrast', 'serious'" in str(failed.value)
    page.set_content(broken.replace("<img ", '<img alt="a dot" ').replace("#ccc", "#333"))
    accessible(page)
