"""Sixty days (fifteen in the fast tier) of hearing reminders for 200 clients whose hearings
move, get cancelled and come back, with ACIS answering a captcha one lookup in ten.

Each simulated hour: the world changes (EOIR reschedules), ACIS is looked up (each client about
once a day, and every early check the reminders asked for), then one reminder pass and one
dispatcher pass run, as in the service. The lookups go through the real parsing and storage of
ACIS answers; the sends through the real dispatcher, with a sender that records what it was given
(the gateway itself is covered, intercepted, in test_reminders.py).

What must hold:

- no reminder ever tells a hearing that was no longer the client's, in the world, when it went;
- every hearing that docketwatch had seen before a rule's turn, and that stayed put from then
  until after the turn, got that rule's reminder exactly once; no hearing got a rule twice;
- a client reminded of a hearing that then moved or was cancelled was told;
- nothing went out in quiet hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from monitor import reminders as r
from monitor.dispatch import Dispatcher, SendResult
from monitor.messages import Message
from monitor.planner import ClientState, mark_done, tier
from monitor.reminder_texts import registry
from sandbox.acis_data import Case
from sandbox.acis_data import Hearing as AcisHearing
from storage.db import session_scope
from storage.models import CheckRequest, Reminder
from storage.people import add_client, add_staff, assign
from tests.support.acis import look
from tests.support.reminders import GATEWAY, settings

LA = ZoneInfo("America/Los_Angeles")
START = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # midnight in Los Angeles
CLIENTS = 200
TIMES = ("8:30 AM", "9:00 AM", "10:30 AM", "1:00 PM", "2:30 PM")
AREAS = (213, 323, 310, 562, 714, 909)


@dataclass
class Truth:
    """A client's hearing in the world (what ACIS shows), and its history."""

    case: Case
    history: list[tuple[datetime, AcisHearing | None]] = field(default_factory=list)

    def at(self, when: datetime) -> AcisHearing | None:
        current = None
        for since, hearing in self.history:
            if since <= when:
                current = hearing
        return current


def _hearing(rng: random.Random, day: date) -> AcisHearing:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return AcisHearing(on=day, time=rng.choice(TIMES))


def _starts(h: AcisHearing) -> datetime:
    clock = datetime.strptime(h.time, "%I:%M %p").time()
    return datetime.combine(h.on, clock, tzinfo=LA).astimezone(UTC)


class Recorder:
    """The gateway: what each number was sent, and when."""

    def __init__(self, clock: dict[str, datetime]) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str, str]] = []
        self.staff_alerts = 0  # the attorney's alerts of the same changes, beside

    def __call__(self, url: str, message: Message) -> SendResult:
        if url.startswith(GATEWAY):
            self.sent.append((self.clock["now"], url.rsplit("/", 1)[1], message.text))
        else:
            self.staff_alerts += 1
        return SendResult(True)


@pytest.mark.parametrize("days", [8, pytest.param(60, marks=pytest.mark.scale)])
def test_days_of_reminders_for_two_hundred_clients(sqlite_engine: sa.Engine, days: int) -> None:
    """Eight days in the fast tier (every rule, move and cancellation happens in them; more days
    only repeat them); the sixty days in the scale tier (about 100 s)."""
    engine = sqlite_engine
    rng = random.Random(20261201)
    config = settings(reminder_recheck_minutes=30)  # a lookup of this simulated hour is fresh
    languages = list(registry())
    with session_scope(engine) as s:
        add_staff(
            s,
            name="Ana Ruiz",
            email="ana@example.org",
            role="attorney",
            channels=["json://127.0.0.1:9/ana"],
        )
        for code in languages:
            r.review_language(s, config, code, "Rita Reviewer", START)
    truths: dict[int, Truth] = {}
    phones: dict[str, int] = {}
    last: dict[int, datetime] = {}  # each client's last lookup
    shown: dict[int, date | None] = {}  # the hearing day the last good lookup showed
    with session_scope(engine) as s:
        for i in range(CLIENTS):
            a_number = f"9{i:08d}"
            client = add_client(s, a_number=a_number, name=f"CLIENT, NUMBER {i}", nationality="MX")
            assert client.id is not None
            assign(s, a_number, "ana@example.org", "primary")
            phone = f"+1{AREAS[i % len(AREAS)]}555{100 + i // len(AREAS):04d}"
            via = "whatsapp" if i % 5 == 0 else "sms"
            consent = r.Consent(
                phone=phone,
                via=via,
                language=languages[i % len(languages)],
                how="in_person",
                by="coord@example.org",
            )
            r.record_consent(s, config, client, consent, START)
            phones[phone] = client.id
            first = _hearing(rng, START.date() + timedelta(days=rng.randint(3, 50)))
            truths[client.id] = Truth(Case(a_number, "MX", hearing=first), [(START, first)])
            last[client.id] = START - timedelta(hours=rng.randrange(24 * 3))
            shown[client.id] = first.on
    answers: dict[int, list[tuple[datetime, AcisHearing | None]]] = {}  # good lookups
    for cid, truth in truths.items():  # what docketwatch knew when the simulation starts
        look(engine, cid, truth.case, last[cid])
        answers[cid] = [(last[cid], truth.case.hearing)]
    # The world's changes, drawn in advance: moves (earlier or later), cancellations, and the
    # next hearing scheduled after one is held or cancelled.
    changes: dict[int, list[tuple[int, AcisHearing | None]]] = {}
    hours = days * 24
    for cid, truth in truths.items():
        hearing: AcisHearing | None = truth.history[0][1]
        hour = 0
        while hour < hours:
            hour += rng.randint(20, 400)
            if hour >= hours:
                break
            when = START + timedelta(hours=hour)
            new: AcisHearing | None
            if hearing is not None and _starts(hearing) <= when:
                new = _hearing(rng, when.date() + timedelta(days=rng.randint(10, 45)))
            elif hearing is None or rng.random() < 0.2:
                new = (
                    None
                    if hearing is not None
                    else _hearing(rng, when.date() + timedelta(days=rng.randint(4, 40)))
                )
            else:
                shift = rng.choice([-6, -3, -2, -1, 1, 2, 5, 9, 14, 21])
                day = max(hearing.on + timedelta(days=shift), when.date() + timedelta(days=1))
                new = _hearing(rng, day)
            changes.setdefault(hour, []).append((cid, new))
            truth.history.append((when, new))
            hearing = new

    clock = {"now": START}
    recorder = Recorder(clock)
    dispatcher = Dispatcher(engine, config, sender=recorder, clock=lambda: clock["now"])
    captcha = random.Random(7)
    lookups = failed_lookups = 0
    for hour in range(hours):
        now = START + timedelta(hours=hour)
        clock["now"] = now
        for cid, new in changes.get(hour, []):
            truths[cid].case.hearing = new
        with session_scope(engine) as s:
            asked = set(
                s.exec(
                    select(CheckRequest.client_id).where(
                        CheckRequest.source == "acis", col(CheckRequest.done_at).is_(None)
                    )
                )
            )
        # The planner's tiers: daily with a hearing within 7 days, every 3 days within 30,
        # weekly otherwise; requests first.
        due = [
            cid
            for cid in truths
            if cid in asked
            or now - last[cid]
            >= tier(ClientState(cid, next_hearing=shown.get(cid)), now, now.astimezone(LA).date())[
                0
            ]
        ]
        for cid in due:
            lookups += 1
            last[cid] = now
            if captcha.random() < 0.1:
                failed_lookups += 1
                look(engine, cid, "captcha", now)
                continue
            look(engine, cid, truths[cid].case, now)
            showing = truths[cid].case.hearing
            answers[cid].append((now, showing))
            shown[cid] = showing.on if showing is not None else None
            with session_scope(engine) as s:
                mark_done(s, "acis", [cid], now)
        r.run_pass(engine, config, now)
        dispatcher.run_once()

    with session_scope(engine) as s:
        rows = list(s.exec(select(Reminder).order_by(col(Reminder.id))))
    sent = [x for x in rows if x.status == "sent"]
    statuses: dict[str, int] = {}
    for x in rows:
        statuses[x.status] = statuses.get(x.status, 0) + 1
    print(
        f"\n{len(rows)} reminders: {statuses}; {len(recorder.sent)} messages; {lookups} lookups "
        f"({failed_lookups} captcha); {recorder.staff_alerts} staff alerts"
    )

    # Every message is one sent reminder, and each went to its client's number.
    assert len(recorder.sent) == len(sent) > 8 * days
    by_phone: dict[int, list[tuple[datetime, str]]] = {}
    for when, target, text in recorder.sent:
        by_phone.setdefault(phones[target.removeprefix("w:")], []).append((when, text))

    # 1. Never a hearing that was no longer scheduled when it went.
    for x in sent:
        assert x.sent_at is not None
        world = truths[x.client_id].at(x.sent_at)
        if x.rule == "cancelled":  # the hearing it calls off is indeed not the client's now
            gone = world is None or (world.on.isoformat(), world.time) != (
                x.hearing["date"],
                x.hearing["time"],
            )
            assert gone, (x.id, x.sent_at)
        else:
            assert world is not None, (x.id, x.rule, x.sent_at)
            told = (x.hearing["date"], x.hearing["time"])
            assert told == (world.on.isoformat(), world.time), (x.id, x.rule, x.sent_at)
        # ...and nothing in quiet hours (21:00-8:00 in Los Angeles).
        local = x.sent_at.astimezone(LA).time()
        assert time(8) <= local < time(21), (x.id, local)

    # 2. Each rule once per hearing; every hearing that stayed put around a turn got it.
    seen: set[tuple[int, str, str, str]] = set()
    for x in sent:
        if x.rule in ("7d", "1d"):
            key = (x.client_id, x.rule, x.hearing["date"], x.hearing["time"])
            assert key not in seen, key
            seen.add(key)
    expected = 0
    for cid, truth in truths.items():
        for since, hearing in truth.history:
            if hearing is None:
                continue
            for days in (7, 1):
                turn = datetime.combine(hearing.on - timedelta(days=days), time(10), tzinfo=LA)
                turn_utc = turn.astimezone(UTC)
                end = turn_utc + timedelta(hours=8)
                if not (turn_utc > START and end < START + timedelta(hours=hours)):
                    continue
                # Expected when docketwatch's last good lookup before the turn showed this
                # hearing and the world kept it from then until after the turn.
                before = [(t, h) for t, h in answers[cid] if t <= turn_utc]
                if not before or before[-1][1] != hearing:
                    continue
                since_seen = before[-1][0]
                steady = all(
                    truth.at(since_seen + timedelta(hours=h)) == hearing
                    for h in range(int((end - since_seen).total_seconds() // 3600) + 1)
                )
                if steady:
                    expected += 1
                    key = (cid, f"{days}d", hearing.on.isoformat(), hearing.time)
                    assert key in seen, (key, since)
    assert expected > 4 * days

    # 3. A reminded hearing that docketwatch then saw moved or cancelled, half a day or more
    # before it was to be held: the client was told (moved or cancelled) after that lookup.
    corrections = [x for x in sent if x.rule in ("moved", "cancelled")]
    assert len(corrections) > days // 3
    checked = 0
    for cid in truths:
        reminded = [x for x in sent if x.client_id == cid]
        for x in reminded:
            if x.rule == "cancelled" or x.hearing_starts_at is None or x.sent_at is None:
                continue
            told = (x.hearing["date"], x.hearing["time"])
            seen_change, new = next(
                (
                    (t, h)
                    for t, h in answers[cid]
                    if t > x.sent_at and (h is None or (h.on.isoformat(), h.time) != told)
                ),
                (None, None),
            )
            if seen_change is None or seen_change > x.hearing_starts_at - timedelta(hours=12):
                continue
            if new is not None and _starts(new) < seen_change + timedelta(hours=12):
                continue  # moved to a time already (nearly) past when it was seen
            if seen_change > START + timedelta(hours=hours - 12):
                continue
            checked += 1
            told_after = [
                y
                for y in reminded
                if y.rule in ("moved", "cancelled")
                and y.sent_at is not None
                and y.sent_at >= seen_change
            ]
            assert told_after, (x.id, seen_change)
    assert checked >= len(corrections) // 2
