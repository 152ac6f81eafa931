"""Hearing reminders to clients: consent first, sent only for a hearing ACIS just confirmed, in
the client's language, through the outbox, with Twilio's API intercepted (third-party SaaS)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
import sqlalchemy as sa
from sqlmodel import col, select

from monitor import reminders as r
from monitor.dispatch import Dispatcher
from monitor.reminder_texts import FORBIDDEN, load_file, registry
from sandbox.acis_data import Case
from sandbox.acis_data import Hearing as AcisHearing
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import (
    CheckRequest,
    Client,
    Delivery,
    DeliveryAttempt,
    Event,
    Reminder,
    ReminderContact,
)
from storage.settings import Settings
from tests.support.acis import look
from tests.support.alerting import Clock, Org, make_org
from tests.support.reminders import GATEWAY, SID, TOKEN, settings

TWILIO = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{SID}/Messages\.json")
PHONE = "+12135550123"
HEARING_DAY = date(2026, 12, 10)  # a Thursday, 8:30 AM at Adelanto
SEVEN_DAYS = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles, 7 days before
ONE_DAY = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)


@dataclass
class World:
    engine: sa.Engine
    org: Org
    sink: SmtpSink
    clock: Clock
    settings: Settings
    case: Case

    def look(self, **delta: float) -> None:
        """An ACIS lookup of the client now (after advancing the clock by ``delta``)."""
        if delta:
            self.clock.advance(**delta)
        look(self.engine, self.org.client_id, self.case, self.clock.now)

    def blocked(self) -> None:
        look(self.engine, self.org.client_id, "captcha", self.clock.now)

    def run(self, at: datetime | None = None) -> r.PassReport:
        if at is not None:
            self.clock.now = at
        report = r.run_pass(self.engine, self.settings, self.clock.now)
        Dispatcher(self.engine, self.settings, clock=self.clock).run_once()
        return report

    def reminders(self) -> list[Reminder]:
        with session_scope(self.engine) as s:
            return list(s.exec(select(Reminder).order_by(col(Reminder.id))))


def _sms_bodies() -> list[dict[str, str]]:
    out = []
    for call in responses.calls:
        if TWILIO.match(call.request.url or ""):
            body = call.request.body
            text = body.decode() if isinstance(body, bytes) else str(body)
            out.append({k: v[0] for k, v in parse_qs(text).items()})
    return out


@pytest.fixture
def twilio() -> Iterator[responses.RequestsMock]:
    with responses.mock as mock:  # the default mock: responses.calls lists what it caught
        mock.add(responses.POST, TWILIO, json={"sid": "SM1", "status": "queued"}, status=201)
        mock.add_passthru("http://127.0.0.1")
        yield mock


def review_all(engine: sa.Engine, config: Settings, now: datetime) -> None:
    with session_scope(engine) as s:
        for code in registry():
            r.review_language(s, config, code, "Rita Reviewer", now)


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[World]:
    start = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    config = settings()
    with SmtpSink() as sink:
        org = make_org(engine, sink, start)
        review_all(engine, config, start)
        with session_scope(engine) as s:
            client = s.get(Client, org.client_id)
            assert client is not None
            r.record_consent(
                s,
                config,
                client,
                r.Consent(
                    phone="(213) 555-0123", language="es", how="in_person", by="coord@example.org"
                ),
                start,
            )
        case = Case(org.a_number, "HO", hearing=AcisHearing(on=HEARING_DAY))
        w = World(engine, org, sink, Clock(start), config, case)
        w.look()  # the hearing, known a week before its first reminder
        yield w


def test_seven_and_one_day_reminders_only_after_a_fresh_acis_lookup(
    world: World, twilio: responses.RequestsMock
) -> None:
    assert world.run(SEVEN_DAYS - timedelta(minutes=1)).created == 0  # not yet its turn
    report = world.run(SEVEN_DAYS)
    # Due, but the last lookup is 8 days old: ACIS first (an early check is requested).
    assert (report.created, report.queued, report.lookups_requested) == (1, 0, 1)
    assert _sms_bodies() == []
    with session_scope(world.engine) as s:
        (request,) = s.exec(select(CheckRequest).where(col(CheckRequest.done_at).is_(None)))
        assert request.source == "acis" and "reminder" in request.reason
    world.look(minutes=20)  # the planner serves the request
    assert world.run().queued == 1
    (sms,) = _sms_bodies()
    assert sms["To"] == PHONE and sms["From"] == "+12135550100"
    body = sms["Body"]
    assert "jueves, 10 de diciembre de 2026" in body and "8:30" in body
    assert "Adelanto" in body and "(213) 555-0100" in body
    for secret in ("912345678", "912-345-678", "5678", "DOE", "JANE", "deport"):
        assert secret.lower() not in body.lower()
    (sent,) = world.reminders()
    assert (sent.rule, sent.status, sent.language) == ("7d", "sent", "es")
    with session_scope(world.engine) as s:
        (delivery,) = s.exec(select(Delivery).where(Delivery.reminder_id == sent.id))
        attempts = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id))
        assert delivery.status == "sent" and [a.ok for a in attempts] == [True]
    assert world.run(SEVEN_DAYS + timedelta(hours=5)).created == 0  # once per rule
    assert len(_sms_bodies()) == 1
    # The day before: a lookup made this morning (within the hour) confirms it at once.
    world.clock.now = ONE_DAY - timedelta(minutes=30)
    world.look()
    assert world.run(ONE_DAY).queued == 1
    assert [x.rule for x in world.reminders()] == ["7d", "1d"]
    assert len(_sms_bodies()) == 2
    assert world.run(ONE_DAY + timedelta(hours=10)).created == 0


def test_a_hearing_moved_in_acis_sends_the_new_date_never_the_old(
    world: World, twilio: responses.RequestsMock
) -> None:
    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()  # the 7-day reminder of 10 December goes out
    # ACIS moves it to 17 December: the client hears at once, with the new date.
    world.case.hearing = AcisHearing(on=date(2026, 12, 17), time="1:00 PM")
    world.look(hours=30)
    report = world.run()
    assert report.queued == 1
    moved = _sms_bodies()[-1]["Body"]
    assert "17 de diciembre" in moved and "13:00" in moved and "10 de diciembre" not in moved
    # The 1-day rule of the old date never fires; the new date gets its own.
    world.clock.now = ONE_DAY - timedelta(minutes=20)
    world.look()
    world.run(ONE_DAY)
    rules = [(x.rule, x.hearing["date"], x.status) for x in world.reminders()]
    assert ("1d", "2026-12-10", "sent") not in rules
    assert rules == [("7d", "2026-12-10", "sent"), ("moved", "2026-12-17", "sent")]
    # Queued for the new date, then ACIS moves it again before the dispatcher sends: the
    # outbox checks once more and sends nothing about a date no longer on the calendar.
    new_one_day = datetime(2026, 12, 16, 18, 0, tzinfo=UTC)
    world.clock.now = new_one_day - timedelta(minutes=10)
    world.look()
    sent_before = len(_sms_bodies())
    r.run_pass(world.engine, world.settings, new_one_day)  # queued, not yet sent
    world.case.hearing = AcisHearing(on=date(2027, 1, 7))
    world.clock.now = new_one_day + timedelta(minutes=1)
    world.look()
    Dispatcher(world.engine, world.settings, clock=world.clock).run_once()
    bodies = [b["Body"] for b in _sms_bodies()[sent_before:]]
    assert all("16 de diciembre" not in b and "17 de diciembre" not in b for b in bodies)
    with session_scope(world.engine) as s:
        one_day = s.exec(select(Reminder).where(Reminder.rule == "1d")).one()
        delivery = s.exec(select(Delivery).where(Delivery.reminder_id == one_day.id)).one()
    assert one_day.status == "superseded" and delivery.status == "void"
    world.run()  # the next pass tells the client of 7 January
    assert "7 de enero de 2027" in _sms_bodies()[-1]["Body"]


def test_unconfirmed_hearing_goes_to_the_attorney_not_the_client(
    world: World, twilio: responses.RequestsMock
) -> None:
    world.run(SEVEN_DAYS)
    for _ in range(3):  # ACIS answers with a captcha all morning
        world.clock.advance(hours=1)
        world.blocked()
        assert world.run().queued == 0
    world.clock.advance(hours=6)  # past the deadline (8 hours after it came due)
    report = world.run()
    assert report.to_attorney == 1 and _sms_bodies() == []
    (row,) = world.reminders()
    assert row.status == "attorney" and row.event_id is not None
    assert any("NOT reminded" in x.subject for x in world.sink.to(world.org.attorney))
    # A lookup that comes later does not revive it: the attorney is handling it.
    world.look(hours=1)
    assert world.run().queued == 0 and _sms_bodies() == []


def test_an_old_lookup_is_enough_only_after_waiting_for_a_fresh_one(
    world: World, twilio: responses.RequestsMock
) -> None:
    world.clock.now = SEVEN_DAYS - timedelta(hours=20)
    world.look()  # 20 hours old when the reminder comes due: within the 24 hours
    world.run(SEVEN_DAYS)
    world.clock.advance(hours=1)
    world.blocked()  # the fresh lookup fails
    assert world.run().queued == 0
    world.clock.advance(hours=2, minutes=1)  # the 3-hour wait is over: 23 hours is enough
    assert world.run().queued == 1 and len(_sms_bodies()) == 1
    # ...but never one older than 24 hours.
    world.clock.now = ONE_DAY - timedelta(hours=25)
    world.look()
    world.run(ONE_DAY)
    world.clock.advance(hours=3, minutes=1)
    assert world.run().queued == 0 and len(_sms_bodies()) == 1


def test_quiet_hours_in_the_clients_zone_defer(
    world: World, twilio: responses.RequestsMock
) -> None:
    world.run(SEVEN_DAYS - timedelta(minutes=10))
    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()
    # Moved at 22:30 in Los Angeles (06:30 UTC): confirmed, but quiet hours run 21-8.
    world.case.hearing = AcisHearing(on=date(2026, 12, 11))
    world.clock.now = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
    world.look()
    report = world.run()
    assert report.deferred == 1 and report.queued == 0 and len(_sms_bodies()) == 1
    waiting = world.reminders()[-1]
    assert waiting.deferred_until == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 8:00 local
    world.clock.now = datetime(2026, 12, 4, 15, 59, tzinfo=UTC)
    world.run()
    assert len(_sms_bodies()) == 1
    world.clock.now = datetime(2026, 12, 4, 16, 1, tzinfo=UTC)
    report = world.run()  # 8:01: the lookup is 9.5 hours old; a fresh one is asked for first
    assert report.lookups_requested == 1 and len(_sms_bodies()) == 1
    world.look(minutes=30)
    world.run()
    assert len(_sms_bodies()) == 2 and "11 de diciembre" in _sms_bodies()[-1]["Body"]
    # A client in New York: 21:30 there is quiet even though it is 18:30 in Los Angeles.
    with session_scope(world.engine) as s:
        contact = s.get(ReminderContact, world.org.client_id)
        assert contact is not None
        contact.timezone = "America/New_York"
        s.add(contact)
    world.case.hearing = AcisHearing(on=date(2026, 12, 18))
    world.clock.now = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)
    world.look()
    assert world.run().deferred == 1 and len(_sms_bodies()) == 2


def test_consent_is_never_assumed(world: World, twilio: responses.RequestsMock) -> None:
    with session_scope(world.engine) as s:  # a second client, watched, without consent
        from storage.people import add_client

        other = add_client(s, a_number="912000003", name="ROE, ANA", nationality="MX")
        assert other.id is not None
        other_id = other.id
    look(
        world.engine,
        other_id,
        Case("912000003", "MX", hearing=AcisHearing(on=HEARING_DAY)),
        SEVEN_DAYS,
    )
    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()
    assert [x.client_id for x in world.reminders()] == [world.org.client_id]
    # Paused by the attorney: the 1-day reminder does not go; resumed, it does.
    with session_scope(world.engine) as s:
        assert r.set_paused(s, world.org.client_id, True, world.org.attorney, SEVEN_DAYS)
    world.clock.now = ONE_DAY
    world.look()
    world.run()
    assert len(_sms_bodies()) == 1 and len(world.reminders()) == 1
    with session_scope(world.engine) as s:
        r.set_paused(s, world.org.client_id, False, world.org.attorney, ONE_DAY)
    world.run()
    assert len(_sms_bodies()) == 2
    # A language not switched on cannot be chosen; an unknown number is refused, not stored.
    with session_scope(world.engine) as s:
        r.switch_off(s, "pt")
        client = s.get(Client, other_id)
        assert client is not None
        with pytest.raises(ValidationError, match="'pt' is not switched on"):
            r.record_consent(
                s,
                world.settings,
                client,
                r.Consent(phone=PHONE, language="pt", how="phone", by="x"),
                ONE_DAY,
            )
        with pytest.raises(ValidationError, match="not a valid phone number") as bad:
            r.record_consent(
                s,
                world.settings,
                client,
                r.Consent(phone="555-0199", language="es", how="phone", by="x"),
                ONE_DAY,
            )
        assert "555-0199" not in str(bad.value)
        with pytest.raises(ValidationError, match="in_person or phone"):
            r.record_consent(
                s,
                world.settings,
                client,
                r.Consent(phone=PHONE, language="es", how="assumed", by="x"),
                ONE_DAY,
            )
        assert s.get(ReminderContact, other_id) is None


def test_gateway_failures_retry_then_tell_the_attorney(world: World) -> None:
    with responses.mock as mock:
        mock.add(
            responses.POST,
            TWILIO,
            json={"message": f"The 'To' number {PHONE} is not reachable", "code": 21612},
            status=400,
        )
        mock.add_passthru("http://127.0.0.1")
        world.clock.now = SEVEN_DAYS
        world.look()
        world.run()
        for _ in range(4):
            world.clock.advance(minutes=5)
            Dispatcher(world.engine, world.settings, clock=world.clock).run_once()
        posts = [c for c in mock.calls if TWILIO.match(c.request.url or "")]
    assert len(posts) == 3  # delivery_max_attempts
    (row,) = world.reminders()
    assert row.status == "failed"
    with session_scope(world.engine) as s:
        delivery = s.exec(select(Delivery).where(Delivery.reminder_id == row.id)).one()
        assert delivery.status == "failed" and PHONE not in delivery.last_error
        assert "0123" in delivery.last_error  # masked, the last four kept
    assert any("NOT delivered" in x.subject for x in world.sink.to(world.org.attorney))
    from monitor.alerts import delivery_log

    with session_scope(world.engine) as s:  # the delivery log shows it beside staff alerts
        logged = [x for x in delivery_log(s, kind_name="client_reminder")]
        everything = delivery_log(s)
    assert [(x["kind"], x["status"], x["attempts"], x["channel"]) for x in logged] == [
        ("client_reminder:7d", "failed", 3, "sms")
    ]
    assert logged[0]["client"] == "***5678" and PHONE not in str(everything)
    assert {x["kind"] for x in everything} >= {"client_reminder:7d", "reminder_failed"}


def test_whatsapp_goes_through_the_same_gateway(
    world: World, twilio: responses.RequestsMock
) -> None:
    with session_scope(world.engine) as s:
        client = s.get(Client, world.org.client_id)
        assert client is not None
        whatsapp = r.Consent(phone=PHONE, via="whatsapp", language="ht", how="phone", by="ana")
        r.record_consent(s, world.settings, client, whatsapp, SEVEN_DAYS)
    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()
    (sms,) = _sms_bodies()
    assert sms["To"] == f"whatsapp:{PHONE}" and sms["From"] == "whatsapp:+12135550100"
    assert "jedi 10 desanm 2026" in sms["Body"]


# -- the texts ---------------------------------------------------------------------------------

SAMPLE: dict[str, Any] = {
    "day": date(2026, 12, 3),
    "phone": "(213) 555-0100",
    "place": "10400 Rancho Road, Adelanto, CA 92301",
}


@pytest.mark.parametrize("code", ["es", "en", "pt", "ht", "ru", "pa"])
def test_every_language_renders_and_is_safe_on_a_shared_phone(code: str) -> None:
    from datetime import time

    lang = registry()[code]
    for rule in ("7d", "1d", "moved", "cancelled"):
        for clock in (time(8, 30), time(13, 0), None):
            body = lang.render(rule, clock=clock, **SAMPLE)
            assert "(213) 555-0100" in body and "{" not in body and "}" not in body
            assert "2026" in body and "3" in body
            assert not any(w in body.lower() for w in FORBIDDEN)
            for secret in ("912345678", "DOE", "JANE", "A-"):
                assert secret not in body
            if rule != "cancelled":
                assert "Rancho Road" in body
    video = lang.render("1d", clock=time(8, 30), **{**SAMPLE, "place": lang.texts["video"]})
    assert lang.texts["video"] in video


def test_a_text_that_could_leak_or_frighten_is_refused(tmp_path: Path) -> None:
    good = (Path(r.__file__).parent.parent / "reminder_texts" / "en.toml").read_text()
    cases = {
        "{name}": "uses ['name']",
        "{a_number}": "uses ['a_number']",
        "deportation": "contains ['deport']",
        "{date": "malformed",
    }
    for bad, why in cases.items():
        path = tmp_path / "en.toml"
        path.write_text(good.replace("Please arrive early", f"Please arrive early {bad}"))
        with pytest.raises(ValidationError, match=re.escape(why)) as err:
            load_file(path)
        assert str(path) in str(err.value) and "'reminder'" in str(err.value)
    (tmp_path / "en.toml").write_text(good.replace('cancelled = "', 'cancelled_x = "'))
    with pytest.raises(ValidationError, match="'cancelled' is missing"):
        load_file(tmp_path / "en.toml")


def test_a_changed_text_switches_its_language_off_until_reviewed(
    world: World, tmp_path: Path, twilio: responses.RequestsMock
) -> None:
    extra = tmp_path / "texts"
    extra.mkdir()
    spanish = (Path(r.__file__).parent.parent / "reminder_texts" / "es.toml").read_text()
    (extra / "es.toml").write_text(spanish.replace("Llegue temprano", "Llegue muy temprano"))
    world.settings = settings(reminder_texts_dir=str(extra))
    with session_scope(world.engine) as s:
        assert "es" not in r.switched_on(s, world.settings)
    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()
    assert _sms_bodies() == [] and world.reminders()[0].status == "attorney"
    assert "switched off" in world.reminders()[0].note
    with session_scope(world.engine) as s:
        r.review_language(s, world.settings, "es", "Rita Reviewer", SEVEN_DAYS)
    world.clock.now = ONE_DAY
    world.look()
    world.run()
    assert "Llegue muy temprano" in _sms_bodies()[0]["Body"]


# -- STOP -----------------------------------------------------------------------------------


def _signed_post(base: str, form: dict[str, str], token: str = TOKEN) -> int:
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    url = f"{base}/hooks/reminders/twilio"
    signature = RequestValidator(token).compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urlencode(form).encode(), method="POST", headers={"X-Twilio-Signature": signature}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_stop_or_alto_withdraws_consent_and_tells_the_attorney(
    world: World, twilio: responses.RequestsMock
) -> None:
    from tests.support.alerting import web_server

    world.clock.now = SEVEN_DAYS
    world.look()
    world.run()
    r.run_pass(world.engine, world.settings, ONE_DAY)  # the next one is waiting for ACIS
    server = web_server(
        world.engine,
        "web-secret",
        0,
        clock=world.clock,
        reminder_gateway_url=GATEWAY,
        program_phone="(213) 555-0100",
    )
    base = f"http://127.0.0.1:{server.port}"
    try:
        reply = {"From": PHONE, "To": "+12135550100", "Body": "Alto", "MessageSid": "SM9"}
        assert _signed_post(base, reply, token="not-the-token") == 403  # forged: nothing
        with session_scope(world.engine) as s:
            contact = s.get(ReminderContact, world.org.client_id)
            assert contact is not None and contact.consent
        assert _signed_post(base, {**reply, "Body": "what time?"}) == 200  # not a STOP
        assert _signed_post(base, reply) == 200
    finally:
        server.stop()
    with session_scope(world.engine) as s:
        contact = s.get(ReminderContact, world.org.client_id)
        assert contact is not None and not contact.consent
        assert contact.withdrawn_how == "replied 'ALTO'"
        event = s.exec(select(Event).where(Event.kind == "reminders_stopped")).one()
        assert event.client_id == world.org.client_id
    statuses = [x.status for x in world.reminders()]
    assert statuses == ["sent", "stopped"]
    world.look(hours=1)
    world.run()  # the service's next pass: the attorney's alert goes out, nothing to the client
    assert any("stopped reminders" in x.subject for x in world.sink.to(world.org.attorney))
    assert len(_sms_bodies()) == 1  # nothing more, ever, without a new consent


@pytest.mark.parametrize(
    "body,stop",
    [
        ("STOP", True),
        ("alto", True),
        ("Stop.", True),
        ("PARAR", True),
        ("стоп", True),
        ("stop please", True),
        ("¡Alto!", True),
        ("para", True),
        ("para qué hora es?", False),
        ("end of the day?", False),
        ("see you there", False),
        ("", False),
    ],
)
def test_stop_words(body: str, stop: bool) -> None:
    assert r.is_stop(body) is stop


# -- the roster, the migration, the commands -------------------------------------------------


def test_roster_import_records_consent_and_never_overrides_a_stop(
    engine: sa.Engine, tmp_path: Path
) -> None:
    import csv

    from storage.roster import import_roster

    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    review_all(engine, settings(), now)
    header = [
        "A-Number",
        "Client Name",
        "Nationality",
        "Reminder Phone",
        "Reminder Language",
        "Reminder Via",
        "Reminder Consent By",
        "Reminder Consent Date",
        "Reminder Consent How",
    ]
    rows = [
        [
            "A012-345-671",
            "DOE, JANE",
            "MX",
            "213 555 0123",
            "es",
            "",
            "Cora Lee",
            "11/20/2026",
            "in person",
        ],
        ["012345672", "ROE, ANA", "HO", "", "", "", "", "", ""],  # no consent: none assumed
        [
            "012345673",
            "POE, LUZ",
            "GT",
            "(213) 555-0124",
            "pt",
            "whatsapp",
            "Cora Lee",
            "2026-11-21",
            "phone",
        ],
        ["012345674", "LEE, KIM", "MX", "(213) 555-0125", "es", "", "", "2026-11-21", "phone"],
        ["012345675", "KIM, LEO", "MX", "555-01", "es", "", "Cora", "2026-11-21", "phone"],
        ["012345676", "MAR, SOL", "MX", "(213) 555-0126", "xx", "", "Cora", "2026-11-21", "phone"],
        [
            "012345677",
            "SOL, MAR",
            "MX",
            "(213) 555-0127",
            "es",
            "",
            "Cora",
            "2026-11-21",
            "assumed",
        ],
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    on = frozenset(registry())
    report = import_roster(engine, path, now=now, reminder_languages=on)
    assert report.created == 3 and report.consents == {"created": 2}
    by_line = {x.line: (x.column, x.reason) for x in report.rejects}
    assert by_line[5][0] == "Reminder Consent By" and "missing" in by_line[5][1]
    assert by_line[6][0] == "Reminder Phone" and "555-01" not in by_line[6][1]
    assert by_line[7][0] == "Reminder Language" and "'xx' is not switched on" in by_line[7][1]
    assert by_line[8][0] == "Reminder Consent How"
    with session_scope(engine) as s:
        contacts = {c.client_id: c for c in s.exec(select(ReminderContact))}
        ids = {c.a_number: c.id or 0 for c in s.exec(select(Client))}
        jane = contacts[ids["012345671"]]
        assert (jane.phone, jane.via, jane.language, jane.consent_how, jane.consent_by) == (
            PHONE,
            "sms",
            "es",
            "in_person",
            "Cora Lee",
        )
        assert jane.consent_at == datetime(2026, 11, 20, 12, tzinfo=UTC)
        assert contacts[ids["012345673"]].via == "whatsapp"
        assert ids["012345672"] not in contacts
        # The phone number is sealed at rest: the table never holds it in the clear.
        raw = s.connection().execute(sa.text("SELECT phone FROM reminder_contact")).scalars()
        assert all(PHONE not in value and "2135550123" not in value for value in raw)
        r.stop_reply(s, "+1 213 555 0123", "STOP", now)
    again = import_roster(engine, path, now=now + timedelta(days=1), reminder_languages=on)
    assert again.consents == {"withdrawn": 1, "unchanged": 1}
    with session_scope(engine) as s:
        assert not s.get(ReminderContact, ids["012345671"]).consent  # type: ignore[union-attr]
    # A new consent, dated after the STOP, is stored.
    rows[0][7] = (now + timedelta(days=2)).strftime("%m/%d/%Y")
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    third = import_roster(engine, path, now=now + timedelta(days=2), reminder_languages=on)
    assert third.consents == {"updated": 1, "unchanged": 1}


def test_the_migration_keeps_every_delivery_and_attempt(tmp_path: Path) -> None:
    """0013 -> 0014 rebuilds the outbox on SQLite: nothing in it or its log is lost."""
    from storage.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0013")
    stamp = datetime(2026, 11, 1, 12, 0)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO staff (name, email, role, language, digest, min_severity, "
                "muted_kinds, active, created_at) VALUES ('A', 'a@example.org', 'attorney', "
                "'en', 0, 'info', '[]', 1, :t)"
            ),
            {"t": stamp},
        )
        c.execute(
            sa.text(
                "INSERT INTO staff_channel (staff_id, url, url_digest, allow_personal_data, "
                "active, failing, consecutive_failures) VALUES (1, 'x', 'd', 0, 1, 0, 0)"
            )
        )
        for i in range(1, 4):
            c.execute(
                sa.text(
                    "INSERT INTO event (kind, severity, subject_type, subject_key, payload, "
                    "dedup_key, occurred_at, created_at, acknowledged_by, escalation_level) VALUES "
                    "('test_message', 'info', 'source', 'x', '{}', :k, :t, :t, '', 0)"
                ),
                {"k": f"k{i}", "t": stamp},
            )
            c.execute(
                sa.text(
                    "INSERT INTO delivery (event_id, staff_id, channel_id, status, attempts, "
                    "last_error, created_at, escalation_level, digest, claimed_by) VALUES "
                    "(:i, 1, 1, 'sent', 1, '', :t, 0, 0, '')"
                ),
                {"i": i, "t": stamp},
            )
            c.execute(
                sa.text(
                    "INSERT INTO delivery_attempt (delivery_id, attempted_at, ok, error) VALUES "
                    "(:i, :t, 1, '')"
                ),
                {"i": i, "t": stamp},
            )
    upgrade(engine)
    with engine.begin() as c:
        assert c.execute(sa.text("SELECT count(*) FROM delivery")).scalar() == 3
        pairs = c.execute(sa.text("SELECT delivery_id FROM delivery_attempt ORDER BY 1")).all()
        assert [p[0] for p in pairs] == [1, 2, 3]
        assert c.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        with pytest.raises(sa.exc.IntegrityError, match="ck_delivery_recipient"):
            c.execute(
                sa.text(
                    "INSERT INTO delivery (staff_id, channel_id, status, attempts, last_error, "
                    "created_at, escalation_level, digest, claimed_by) VALUES "
                    "(1, 1, 'pending', 0, '', :t, 0, 0, '')"
                ),
                {"t": stamp},
            )
    engine.dispose()


def test_the_commands(tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    env = {
        "DOCKETWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}",
        "DOCKETWATCH_DATA_DIR": str(tmp_path / "data"),
    }
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    assert (
        run_cli(
            "clients",
            "add",
            "A-012-345-678",
            "--name",
            "DOE, JANE",
            "--nationality",
            "MX",
            cwd=tmp_path,
            env=env,
        ).returncode
        == 0
    )
    helped = run_cli("reminders", "--help", cwd=tmp_path, env=env)
    assert helped.returncode == 0
    assert all(c in helped.stdout for c in ("consent", "languages", "pause", "withdraw", "run"))
    consent = (
        "reminders",
        "consent",
        "012345678",
        "--phone",
        "(213) 555-0123",
        "--language",
        "es",
        "--how",
        "in_person",
        "--by",
        "Cora Lee",
    )
    refused = run_cli(*consent, cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "'es' is not switched on" in refused.stderr
    shown = run_cli("reminders", "languages", "--show", "pa", cwd=tmp_path, env=env)
    assert "ਯਾਦ-ਦਹਾਨੀ" in shown.stdout
    on = run_cli(
        "reminders", "languages", "--review", "es", "--by", "Rita Reviewer", cwd=tmp_path, env=env
    )
    assert on.returncode == 0 and "es (Spanish) switched on" in on.stdout
    listed = run_cli("reminders", "languages", cwd=tmp_path, env=env).stdout
    assert re.search(r"es\s+Spanish\s+Español\s+on\s+Rita Reviewer", listed)
    assert re.search(r"pt\s+Portuguese\s+Português\s+off \(not reviewed\)", listed)
    done = run_cli(*consent, cwd=tmp_path, env=env)
    assert done.returncode == 0 and "***0123" in done.stdout and "555-0123" not in done.stdout
    assert "***5678" in done.stdout and "012345678" not in done.stdout
    paused = run_cli("reminders", "pause", "012345678", "--by", "ana", cwd=tmp_path, env=env)
    assert "paused" in paused.stdout
    not_set = run_cli("reminders", "run", cwd=tmp_path, env=env)
    assert not_set.returncode == 2 and "reminder_gateway_url is not set" in not_set.stderr
    ran = run_cli(
        "reminders",
        "run",
        cwd=tmp_path,
        env={
            **env,
            "DOCKETWATCH_REMINDER_GATEWAY_URL": GATEWAY,
            "DOCKETWATCH_PROGRAM_PHONE": "(213) 555-0100",
        },
    )
    assert ran.returncode == 0 and "0 due" in ran.stdout
    withdrawn = run_cli("reminders", "withdraw", "012345678", "--by", "ana", cwd=tmp_path, env=env)
    assert "consent withdrawn" in withdrawn.stdout


def test_no_phone_number_reaches_the_log(world: World, twilio: responses.RequestsMock) -> None:
    """Apprise logs the recipient of each SMS; the redacting log keeps only its last four."""
    import io
    import logging

    from storage.logs import setup_logging

    stream = io.StringIO()
    setup_logging("DEBUG", stream)
    try:
        world.clock.now = SEVEN_DAYS
        world.look()
        world.run()
    finally:
        setup_logging("WARNING")
        logging.getLogger().setLevel(logging.WARNING)
    text = stream.getvalue()
    assert len(_sms_bodies()) == 1 and "***0123" in text  # the send was logged, redacted
    for shown in ("2135550123", "213-555-0123", "(213) 555-0123", "555-0123"):
        assert shown not in text


def test_rekey_seals_the_phone_numbers_again_and_a_stop_still_finds_its_client(
    sqlite_engine: sa.Engine,
) -> None:
    from storage.people import add_client
    from storage.secrets import keyring_of, rotate

    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    engine = sqlite_engine
    config = settings()
    review_all(engine, config, now)
    with session_scope(engine) as s:
        client = add_client(s, a_number="912000004", name="DOE, ANA", nationality="MX")
        r.record_consent(
            s, config, client, r.Consent(phone=PHONE, language="es", how="phone", by="ana"), now
        )
        client_id = client.id
    raw = "SELECT phone, phone_digest FROM reminder_contact"
    with engine.connect() as c:
        before = c.execute(sa.text(raw)).one()
    assert rotate(engine) == (0, 1)
    with engine.connect() as c:
        after = c.execute(sa.text(raw)).one()
    assert before[0] != after[0] and before[1] != after[1] and PHONE not in after[0]
    assert keyring_of(engine.dialect).open(after[0]) == PHONE
    with session_scope(engine) as s:
        assert r.stop_reply(s, "(213) 555-0123", "STOP", now) == [client_id]


def test_doctor_says_what_keeps_reminders_from_going(tmp_path: Path) -> None:
    import json

    from tests.support.cli import run_cli

    env = {
        "DOCKETWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}",
        "DOCKETWATCH_DATA_DIR": str(tmp_path / "data"),
    }
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0

    def doctor(**extra: str) -> dict[str, tuple[str, str]]:
        result = run_cli("doctor", "--json", cwd=tmp_path, env={**env, **extra})
        return {f["check"]: (f["status"], f["detail"]) for f in json.loads(result.stdout)}

    assert doctor()["reminders"] == ("ok", "off (reminder_gateway_url is not set)")
    found = doctor(DOCKETWATCH_REMINDER_GATEWAY_URL=GATEWAY)
    assert found["reminders"][0] == "fail" and "program_phone is not set" in found["reminders"][1]
    assert found["reminder languages"][0] == "warn"
    assert found["reminder replies"][0] == "warn"
    ready = {
        "DOCKETWATCH_REMINDER_GATEWAY_URL": GATEWAY,
        "DOCKETWATCH_PROGRAM_PHONE": "(213) 555-0100",
        "DOCKETWATCH_WEB_BASE_URL": "https://dw.example.org",
        "DOCKETWATCH_ACK_SECRET": "s3cret-s3cret",
    }
    run_cli("reminders", "languages", "--review", "pt", "--by", "Rita", cwd=tmp_path, env=env)
    run_cli(
        "clients",
        "add",
        "012345678",
        "--name",
        "DOE, JANE",
        "--nationality",
        "MX",
        cwd=tmp_path,
        env=env,
    )
    run_cli(
        "reminders",
        "consent",
        "012345678",
        "--phone",
        PHONE,
        "--language",
        "pt",
        "--how",
        "phone",
        "--by",
        "ana",
        cwd=tmp_path,
        env=env,
    )
    assert doctor(**ready)["reminders"] == ("ok", "on: 1 client(s) with consent; languages pt")
    run_cli("reminders", "languages", "--off", "pt", cwd=tmp_path, env=env)
    off = doctor(**ready)
    assert off["reminder consents"][0] == "warn" and "(pt)" in off["reminder consents"][1]


def test_a_lost_key_is_never_replaced_while_phone_numbers_are_sealed_with_it(
    sqlite_engine: sa.Engine,
) -> None:
    """No channel yet, a client's number sealed: the key gone, a new channel is refused rather
    than sealed with a new key that could never open the number."""
    from storage.people import add_client, add_staff
    from storage.secrets import SecretsKeyError, keyring_of

    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    review_all(sqlite_engine, settings(), now)
    with session_scope(sqlite_engine) as s:
        client = add_client(s, a_number="912000005", name="DOE, ANA", nationality="MX")
        r.record_consent(
            s, settings(), client, r.Consent(phone=PHONE, language="es", how="phone", by="ana"), now
        )
    from storage.db import make_engine

    keyring_of(sqlite_engine.dialect).path.unlink()
    later = make_engine(str(sqlite_engine.url))  # a process started after the key was lost
    with pytest.raises(SecretsKeyError, match="1 sealed value"), session_scope(later) as s:
        add_staff(
            s,
            name="Ana",
            email="ana@example.org",
            role="attorney",
            channels=["json://127.0.0.1:9/x"],
        )
    assert not keyring_of(later.dialect).path.exists()
    later.dispose()
