"""Two programs on one deployment: each sees its own data only, over every page (real Chromium,
every role) and every command; public data is both programs'; a person both programs watch is
looked up once (counted at the ACIS replica, with real Chromium) and each program's attorney is
alerted by their own channel, with their own client's name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from checks.acis import check as run_acis_check
from monitor.dispatch import Dispatcher
from sandbox.acis import AcisSandbox
from sandbox.acis_data import Case, Hearing
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope
from storage.errors import ValidationError
from storage.models import AcisLookup, AuditEntry, Client, Event, Organization, Staff
from storage.passwords import set_password
from storage.people import add_client, add_staff, assign, get_client
from storage.reminders import Consent, store_consent
from storage.settings import Settings
from tests.support.acis import look
from tests.support.alerting import web_server
from tests.support.cli import run_cli
from tests.support.db import migrated_sqlite
from tests.support.web import PASSWORD, accessible

SHARED = "933333333"
#: what of program B's may never show to program A: its name, its client's name and A-number
#: (the shared client's B-side name too), its staff's addresses
B_MARKS = ("Bravo", "BRAVO", "7777", "bravo.example.org")
A_MARKS = ("Alpha", "ALPHA", "1111", "alpha.example.org")


@dataclass
class Program:
    slug: str
    id: int
    attorney: str
    coordinator: str
    admin: str
    client_id: int = 0  # its own client
    shared_id: int = 0  # its client whom the other program watches too
    staff_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


def _program(s: Session, org_id: int, slug: str, own: str, sink: SmtpSink) -> Program:
    word = slug.capitalize()
    p = Program(
        slug,
        org_id,
        f"atty@{slug}.example.org",
        f"coord@{slug}.example.org",
        f"admin@{slug}.example.org",
    )
    for role, email in (
        ("attorney", p.attorney),
        ("coordinator", p.coordinator),
        ("admin", p.admin),
    ):
        staff = add_staff(
            s,
            name=f"{word} {role.title()}",
            email=email,
            role=role,
            channels=[sink.url(email)],
            organization_id=org_id,
        )
        assert staff.id is not None
        p.staff_ids.append(staff.id)
        set_password(s, email, PASSWORD)
    for number, name in ((own, f"{word.upper()}, OWN"), (SHARED, f"SHARED, {word.upper()} SIDE")):
        c = add_client(s, a_number=number, name=name, nationality="MX", organization_id=org_id)
        s.flush()
        c.primary_attorney_id = p.staff_ids[0]
        s.add(c)
        assert c.id is not None
        if number == own:
            p.client_id = c.id
        else:
            p.shared_id = c.id
    return p


@dataclass
class Network:
    engine: sa.Engine
    url: str
    sink: SmtpSink
    a: Program
    b: Program
    base: str = ""


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    tmp = tmp_path_factory.mktemp("orgs")
    url = migrated_sqlite(tmp / "dw.db")
    engine = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    with SmtpSink() as sink:
        with session_scope(engine) as s:
            default = s.get(Organization, 1)
            assert default is not None
            default.slug, default.name = "alpha", "Alpha Defenders"
            bravo = Organization(slug="bravo", name="Bravo Defenders", created_at=now)
            s.add(bravo)
            s.flush()
            assert bravo.id is not None
            a = _program(s, 1, "alpha", "911111111", sink)
            b = _program(s, bravo.id, "bravo", "922227777", sink)
        soon = date.today() + timedelta(days=30)
        for p in (a, b):  # each client: a hearing, then it moves (one event each)
            for client_id in (p.client_id, p.shared_id):
                number = SHARED if client_id == p.shared_id else None
                with Session(engine) as s:
                    row = s.get(Client, client_id)
                    assert row is not None
                    number = row.a_number
                case = Case(number, "MX", hearing=Hearing(on=soon))
                look(engine, client_id, case, now - timedelta(days=2))
                case.hearing = Hearing(on=soon + timedelta(days=9))
                look(engine, client_id, case, now - timedelta(days=1))
        with session_scope(engine) as s:
            for p in (a, b):
                store_consent(
                    s,
                    p.client_id,
                    Consent(
                        phone="+12135550123", language="es", how="phone", by=p.attorney, at=now
                    ),
                    now,
                )
            p_events = s.exec(select(Event.id, Event.organization_id)).all()
            a.event_ids = [i for i, o in p_events if o == a.id and i is not None]
            b.event_ids = [i for i, o in p_events if o == b.id and i is not None]
        Dispatcher(engine, Settings(database_url=url)).run_once()
        server = web_server(engine, "web-secret", 0)
        try:
            yield Network(engine, url, sink, a, b, f"http://127.0.0.1:{server.port}")
        finally:
            server.stop()
            engine.dispose()


def _clean(text: str, marks: tuple[str, ...], where: str) -> None:
    found = [m for m in marks if m in text]
    assert not found, f"{where} shows the other program's {found}"


def test_alerts_went_to_each_programs_own_staff(network: Network) -> None:
    for mine, theirs, marks in ((network.a, network.b, B_MARKS), (network.b, network.a, A_MARKS)):
        mails = network.sink.to(mine.attorney)
        assert len(mails) == 2, [m.subject for m in mails]  # their own client and the shared one
        for mail in mails:
            _clean(mail.text() + mail.subject, marks, f"{mine.attorney}'s mail")
        for address in (theirs.attorney, theirs.coordinator, theirs.admin):
            for mail in network.sink.to(address):  # nothing of this program's in theirs
                _clean(
                    mail.text() + mail.subject,
                    ("ALPHA",) if mine is network.a else ("BRAVO",),
                    f"{address}'s mail",
                )
    assert len(network.a.event_ids) == 2 and len(network.b.event_ids) == 2


PAGES = [
    "/",
    "/alerts",
    "/caseload",
    "/caseload/hearings",
    "/facilities",
    "/reports",
    "/reports/representation",
    "/sources",
    "/staff",
    "/roster",
]


def _sign_in(page: Any, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("role", ["attorney", "coordinator", "admin"])
def test_every_page_shows_one_program(network: Network, page: Any, role: str) -> None:
    """Every page a role of program A reaches shows nothing of program B's; B's client, staff
    member and alert are not found by their numbers; A's own are."""
    a, b = network.a, network.b
    _sign_in(page, network.base, getattr(a, role))
    reached = 0
    own = [
        f"/clients/{a.client_id}",
        f"/clients/{a.shared_id}",
        *([f"/staff/{i}" for i in a.staff_ids] if role == "admin" else []),
    ]
    for path in PAGES + own:
        response = page.goto(network.base + path)
        assert response is not None
        if response.status == 403:  # not this role's page
            continue
        assert response.status == 200, (path, response.status)
        _clean(page.content(), B_MARKS, f"{path} for A's {role}")
        reached += 1
    assert reached >= 4
    month = f"{date.today():%Y-%m}"
    for fmt in ("csv", "xlsx"):  # the report's files, fetched with the browser's session
        answer = page.request.get(f"{network.base}/reports/program.{fmt}?from={month}&to={month}")
        if answer.status == 403:
            continue
        assert answer.status == 200, (fmt, answer.status)
        if fmt == "csv":
            _clean(answer.text(), B_MARKS, f"program.{fmt} for A's {role}")
    page.goto(f"{network.base}/clients/{a.shared_id}")
    assert "3333" in page.content()  # A's own client of that A-number
    page.goto(f"{network.base}/alerts?ack=all")
    assert page.content().count("3333") >= 1 and "1111" in page.content()
    accessible(page)
    theirs = [
        f"/clients/{b.client_id}",
        f"/clients/{b.shared_id}",
        *(f"/staff/{i}" for i in b.staff_ids),
    ]
    for path in theirs:
        response = page.goto(network.base + path)
        assert response is not None and response.status in (403, 404), (path, response.status)
        _clean(page.content(), B_MARKS, f"{path} for A's {role}")
    # an acknowledgement of B's alert, with A's own form token: refused, and B's alert untouched
    page.goto(f"{network.base}/alerts")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(
        f"{network.base}/alerts/{b.event_ids[0]}/ack",
        form={"csrf_token": token or ""},
        max_redirects=0,
    )
    assert answer.status == 404
    with Session(network.engine) as s:
        event = s.get(Event, b.event_ids[0])
        assert event is not None and event.acknowledged_at is None


def test_audit_rows_are_the_programs_own(network: Network, page: Any) -> None:
    a, b = network.a, network.b
    for p in (a, b):
        _sign_in(page, network.base, p.admin)
    with Session(network.engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.action == "sign_in")).all()
        by_org = {(r.staff_id, r.organization_id) for r in rows}
    assert (a.staff_ids[2], a.id) in by_org and (b.staff_ids[2], b.id) in by_org
    with session_scope(network.engine, a.id) as s:
        assert {r.organization_id for r in s.exec(select(AuditEntry))} == {a.id}


COMMANDS = [
    ["clients", "list", "--all"],
    ["clients", "list", "--all", "--json"],
    ["clients", "show", SHARED],
    ["staff", "list"],
    ["alerts", "log"],
    ["alerts", "pending"],
    ["reminders", "list"],
    ["acis", "blocked"],
    ["schedule", "plan", "--source", "acis"],
    [
        "report",
        "program",
        "--from",
        f"{date.today():%Y-%m}",
        "--to",
        f"{date.today():%Y-%m}",
        "--format",
        "csv",
        "--output",
        "program.csv",
        "--unsuppressed",
    ],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_every_command_shows_one_program(network: Network, args: list[str], tmp_path: Path) -> None:
    env = {"DATABASE_URL": network.url}
    result = run_cli("--org", "alpha", *args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout + result.stderr
    if args[0] == "report":
        text += (tmp_path / "program.csv").read_text()
    _clean(text, B_MARKS, " ".join(args))
    if args[:2] in (["clients", "list"], ["clients", "show"], ["staff", "list"]):
        assert "ALPHA" in text or "alpha.example.org" in text, text
    # without --org, a command about one program's data asks which
    unscoped = run_cli(*args, cwd=tmp_path, env=env)
    if args[0] not in ("schedule",):
        assert unscoped.returncode == 2, unscoped.stdout
        assert "--org" in unscoped.stderr and "2 programs" in unscoped.stderr


def test_commands_refuse_the_other_programs_records(network: Network, tmp_path: Path) -> None:
    env = {"DATABASE_URL": network.url}
    shown = run_cli("--org", "alpha", "clients", "show", "922227777", cwd=tmp_path, env=env)
    assert shown.returncode == 2 and "no client with that A-number" in shown.stderr
    assign_b = run_cli(
        "--org", "alpha", "staff", "assign", "911111111", network.b.attorney, cwd=tmp_path, env=env
    )
    assert assign_b.returncode == 2
    unknown = run_cli("--org", "charlie", "clients", "list", cwd=tmp_path, env=env)
    assert unknown.returncode == 2 and "alpha, bravo" in unknown.stderr
    listed = run_cli("orgs", "list", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0 and '"bravo"' in listed.stdout and '"alpha"' in listed.stdout


def test_a_new_client_needs_its_program(network: Network) -> None:
    with session_scope(network.engine) as s, pytest.raises(ValidationError, match="--org"):
        add_client(s, a_number="944444444", name="NEW, ONE", nationality="MX")
    with session_scope(network.engine, network.b.id) as s:
        c = add_client(s, a_number="911111111", name="SAME NUMBER, OTHER PROGRAM", nationality="MX")
        assert c.organization_id == network.b.id
        s.rollback()
    with session_scope(network.engine) as s, pytest.raises(ValidationError, match="--org"):
        get_client(s, SHARED)  # two programs' clients: which one is meant must be said


def test_a_person_two_programs_watch_is_looked_up_once(tmp_path: Path) -> None:
    """Real Chromium against the ACIS replica: the person both programs watch is asked about
    once per check, and both programs' attorneys hear of the moved hearing, each of their own
    client; the other person is asked about as before."""
    url = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(url)
    soon = date.today() + timedelta(days=30)
    with AcisSandbox() as acis, SmtpSink() as sink:
        with session_scope(engine) as s:
            s.add(Organization(slug="bravo", name="Bravo", created_at=datetime.now(UTC)))
            s.flush()
            for org, who in ((1, "atty@alpha.example.org"), (2, "atty@bravo.example.org")):
                add_staff(
                    s,
                    name=who,
                    email=who,
                    role="attorney",
                    channels=[sink.url(who)],
                    organization_id=org,
                )
            for org, name in ((1, "SHARED, ALPHA SIDE"), (2, "SHARED, BRAVO SIDE")):
                add_client(s, a_number=SHARED, name=name, nationality="MX", organization_id=org)
            add_client(
                s, a_number="911111111", name="ALPHA, OWN", nationality="MX", organization_id=1
            )
        with session_scope(engine, 1) as s:
            assign(s, SHARED, "atty@alpha.example.org")
        with session_scope(engine, 2) as s:
            assign(s, SHARED, "atty@bravo.example.org")
        acis.set_case(Case(SHARED, "MX", hearing=Hearing(on=soon)))
        acis.set_case(Case("911111111", "MX", case_id=10000002, hearing=Hearing(on=soon)))
        settings = Settings(
            database_url=url, acis_base_url=acis.url, acis_pace_seconds=0, browser_timeout_seconds=5
        )

        def check() -> Any:
            with Session(engine) as s:
                clients = list(s.exec(select(Client).order_by(col(Client.id))))
            report = run_acis_check(engine, settings, clients)
            Dispatcher(engine, settings).run_once()
            return report

        first = check()
        assert acis.state.asked == 2  # two people, three clients
        assert first.outcome == "ok" and sum(first.outcomes.values()) == 3
        acis.set_case(Case(SHARED, "MX", hearing=Hearing(on=soon + timedelta(days=9))))
        second = check()
        assert acis.state.asked == 4
        assert second.events == {"hearing_moved_later": 2}
        with Session(engine) as s:
            lookups = s.exec(select(AcisLookup.client_id)).all()
            assert sorted(lookups) == [1, 1, 2, 2, 3, 3]
            events = s.exec(select(Event.client_id, Event.organization_id)).all()
            assert sorted(events) == [(1, 1), (2, 2)]
        for who, theirs in (
            ("atty@alpha.example.org", "BRAVO"),
            ("atty@bravo.example.org", "ALPHA"),
        ):
            mails = sink.to(who)
            assert len(mails) == 1, [m.subject for m in mails]
            assert "moved" in mails[0].subject.lower() or "hearing" in mails[0].subject.lower()
            assert theirs not in mails[0].text()
    engine.dispose()


def test_public_data_is_every_programs(network: Network) -> None:
    """A court's event (public) is in both programs' view; a client's is in its program's."""
    from monitor.events import EventInput
    from monitor.route import emit

    now = datetime.now(UTC)
    with session_scope(network.engine) as s:
        event = emit(
            s,
            EventInput(
                kind="court_judges_changed",
                subject_type="court",
                subject_key="ADL",
                dedup_key=f"judges:ADL:{now.isoformat()}",
                payload={"court": "ADL"},
                occurred_at=now,
            ),
            now,
        )
        assert event is not None and event.organization_id is None
        public = event.id
    for p in (network.a, network.b):
        with session_scope(network.engine, p.id) as s:
            seen = set(s.exec(select(Event.id)).all())
            assert public in seen
            assert set(p.event_ids) <= seen
            other = network.b if p is network.a else network.a
            assert not (set(other.event_ids) & seen)
            assert {x.organization_id for x in s.exec(select(Staff))} == {p.id}


def test_each_program_gets_its_own_monthly_report(network: Network) -> None:
    import scheduler

    settings = Settings(database_url=network.url)
    first = datetime.now(UTC).replace(day=1, hour=17, minute=0)  # past: its alerts are due
    if first > datetime.now(UTC):
        first = (first - timedelta(days=1)).replace(day=1)
    assert scheduler.monthly_report(network.engine, settings, first)
    assert not scheduler.monthly_report(network.engine, settings, first + timedelta(hours=1))
    with Session(network.engine) as s:
        reports = s.exec(select(Event.organization_id).where(Event.kind == "monthly_report")).all()
    assert sorted(x for x in reports if x is not None) == [network.a.id, network.b.id]
    Dispatcher(network.engine, settings).run_once()
    for p in (network.a, network.b):
        mails = [m for m in network.sink.to(p.coordinator) if "report" in m.subject.lower()]
        assert len(mails) == 1, [m.subject for m in network.sink.to(p.coordinator)]


def _b_delivery(network: Network) -> str:
    from storage.models import Delivery

    with Session(network.engine) as s:
        found = s.exec(
            select(Delivery.id).where(col(Delivery.staff_id).in_(network.b.staff_ids))
        ).first()
    assert found is not None
    return str(found)


CHANGES = [
    lambda n: ["staff", "set", n.b.attorney, "--digest"],
    lambda n: ["staff", "calendar", n.b.attorney],
    lambda n: ["alerts", "test", n.b.attorney],
    lambda n: ["alerts", "ack", str(n.b.event_ids[0])],
    lambda n: ["alerts", "retry", _b_delivery(n)],
    lambda n: ["clients", "deactivate", "922227777"],
    lambda n: ["reminders", "pause", "922227777", "--by", n.a.attorney],
    lambda n: ["reminders", "withdraw", "922227777", "--by", n.a.attorney],
]


@pytest.mark.parametrize(
    "change",
    CHANGES,
    ids=[
        "staff set",
        "staff calendar",
        "alerts test",
        "alerts ack",
        "alerts retry",
        "clients deactivate",
        "reminders pause",
        "reminders withdraw",
    ],
)
def test_no_command_changes_the_other_programs_records(
    network: Network, change: Any, tmp_path: Path
) -> None:
    """Program A's commands, given B's staff member, alert, delivery or client: not found, and
    B's records as they were."""
    from storage.models import Delivery, ReminderContact

    def state() -> tuple[Any, ...]:
        with Session(network.engine) as s:
            staff = s.get(Staff, network.b.staff_ids[0])
            client = s.get(Client, network.b.client_id)
            event = s.get(Event, network.b.event_ids[0])
            contact = s.get(ReminderContact, network.b.client_id)
            sent = s.exec(select(Delivery.status).order_by(col(Delivery.id))).all()
            assert staff and client and event and contact
            return (
                staff.digest,
                staff.calendar_token_digest,
                client.active,
                event.acknowledged_at,
                contact.consent,
                contact.paused,
                tuple(sent),
            )

    before = state()
    mails = len(network.sink.messages)
    args = change(network)
    result = run_cli("--org", "alpha", *args, cwd=tmp_path, env={"DATABASE_URL": network.url})
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert "no " in result.stderr.lower() or "not found" in result.stderr.lower(), result.stderr
    assert state() == before
    assert len(network.sink.messages) == mails
