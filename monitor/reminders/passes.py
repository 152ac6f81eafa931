"""The reminder pass: which reminders are due, confirmed on ACIS, deferred or told to the
attorney instead (the rules: :mod:`monitor.reminders`); and what the attorney sees."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import client_event, note
from monitor.reminder_texts import Language
from monitor.reminders.consent import end_reminder, languages, not_ready, switched_on
from monitor.route import emit
from monitor.timing import quiet_until as window
from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import (
    AcisLookup,
    Client,
    Court,
    Delivery,
    DeliveryStatus,
    Hearing,
    HearingLocation,
    Reminder,
    ReminderContact,
    ReminderStatus,
    ReminderVia,
)
from storage.settings import Settings
from storage.snapshots import CASE_OUTCOMES, Outcome, clock_of

log = logging.getLogger(__name__)

MOVED, CANCELLED = "moved", "cancelled"


# -- the hearing as ACIS last showed it ---------------------------------------------------------


@dataclass
class Known:
    """What the newest case lookup of a client says: ``outcome`` ok with a hearing (``hearing``),
    ok with none (``hearing`` None), or another case outcome (not_found ...: nothing known)."""

    lookup_id: int | None = None
    outcome: str = ""
    observed_at: datetime | None = None
    hearing: dict[str, Any] | None = None
    starts_at: datetime | None = None
    verified: bool = False  # the Hearing row is verified (no court closure pending)

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.ok.value


def hearing_key(h: dict[str, Any]) -> str:
    """What the client must know of a hearing: a change of judge or type is not a move."""
    medium = "video" if _video(h) else "in_person"
    return "|".join(
        [
            str(h.get("date", "")),
            str(h.get("time", "")).upper(),
            str(h.get("court", "")),
            str(h.get("location", "")),
            medium,
        ]
    )[:140]


def _video(h: dict[str, Any]) -> bool:
    medium = str(h.get("medium", "")).lower()
    return "video" in medium or "internet" in medium or "webex" in medium


def known_states(session: Session, client_ids: list[int]) -> dict[int, Known]:
    """The newest case lookup of each client, with its Hearing row (one query each)."""
    if not client_ids:
        return {}
    newest = (
        select(AcisLookup.client_id, sa.func.max(AcisLookup.id).label("last_id"))
        .where(col(AcisLookup.client_id).in_(client_ids))
        .where(col(AcisLookup.outcome).in_([o.value for o in CASE_OUTCOMES]))
        .group_by(col(AcisLookup.client_id))
        .subquery()
    )
    rows = (
        session.connection()
        .execute(
            sa.select(
                col(AcisLookup.client_id),
                col(AcisLookup.id),
                col(AcisLookup.outcome),
                col(AcisLookup.observed_at),
                col(AcisLookup.hearing),
                col(Hearing.starts_at),
                col(Hearing.verified),
            )
            .join(newest, newest.c.last_id == col(AcisLookup.id))
            .outerjoin(Hearing, col(Hearing.lookup_id) == col(AcisLookup.id))
        )
        .all()
    )
    out: dict[int, Known] = {}
    for client_id, lookup_id, outcome, observed_at, hearing, starts_at, verified in rows:
        out[client_id] = Known(
            lookup_id,
            outcome,
            observed_at,
            hearing if outcome == "ok" else None,
            starts_at,
            bool(verified) if hearing else outcome == "ok",
        )
    return out


def still_true(row: Reminder, known: Known) -> bool | None:
    """Does the newest lookup still show what ``row`` would tell? None: it says nothing (the
    case was not found, no lookup yet)."""
    if not known.ok:
        return None
    if row.rule == CANCELLED:
        return known.hearing is None
    return known.hearing is not None and hearing_key(known.hearing) == hearing_key(row.hearing)


def confirmed(row: Reminder, known: Known, settings: Settings, now: datetime) -> bool:
    """``row`` may go now: its hearing confirmed by a lookup recent enough (module doc, 2):
    one of the last ``reminder_recheck_minutes``, or, once a fresh one was awaited for
    ``reminder_recheck_wait_minutes`` in vain, one of the last ``reminder_verify_hours``."""
    if still_true(row, known) is not True or known.observed_at is None or not known.verified:
        return False
    if known.observed_at < now - timedelta(hours=settings.reminder_verify_hours):
        return False
    if known.observed_at >= now - timedelta(minutes=settings.reminder_recheck_minutes):
        return True
    waited = timedelta(minutes=settings.reminder_recheck_wait_minutes)
    return row.lookup_requested_at is not None and now >= row.lookup_requested_at + waited


@dataclass(frozen=True)
class Wanted:
    """A client who wants reminders now (consent, not paused): what the pass reads of them."""

    client_id: int
    language: str
    timezone: str


def zone_of(
    contact: ReminderContact | Wanted, hearing: dict[str, Any] | None, settings: Settings
) -> str:
    return contact.timezone or (hearing or {}).get("timezone") or settings.timezone


def quiet_until(now: datetime, settings: Settings, zone: str) -> datetime | None:

    start, end = (int(x) for x in settings.reminder_quiet_hours.split("-"))
    return window(now, time(start), time(end), zone)


def place_of(session: Session, h: dict[str, Any], lang: Language) -> str:
    if _video(h):
        return lang.texts["video"]
    where = session.get(HearingLocation, str(h.get("location", ""))) if h.get("location") else None
    if where is None and h.get("court"):
        where = session.get(Court, str(h.get("court")))  # type: ignore[assignment]
    if where is not None:
        return f"{where.address}, {where.city}, {where.state} {where.zip}".strip(", ")
    return str(h.get("location") or h.get("court_name") or h.get("court") or "?")


def text_of(session: Session, row: Reminder, lang: Language, settings: Settings) -> str:
    h = row.hearing
    return lang.render(
        row.rule,
        day=date.fromisoformat(str(h["date"])[:10]),
        clock=clock_of(str(h.get("time", ""))),
        place=place_of(session, h, lang),
        phone=settings.program_phone.strip(),
    )


def gateway_url(settings: Settings, contact: ReminderContact) -> str:
    assert settings.reminder_gateway_url is not None
    base = settings.reminder_gateway_url.get_secret_value().rstrip("/")
    target = ("w:" if contact.via == ReminderVia.whatsapp.value else "") + contact.phone
    return f"{base}/{target}"


# -- the pass ---------------------------------------------------------------------------------


@dataclass
class PassReport:
    created: int = 0
    queued: int = 0
    waiting: int = 0
    deferred: int = 0
    lookups_requested: int = 0
    superseded: int = 0
    to_attorney: int = 0
    expired: int = 0
    notes: list[str] = field(default_factory=list)


def _due_at(hearing_on: date, days: int, hour: int, zone: str) -> datetime:
    local = datetime.combine(hearing_on - timedelta(days=days), time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def day_rule(
    hearing: dict[str, Any],
    starts_at: datetime | None,
    zone: str,
    settings: Settings,
    now: datetime,
) -> tuple[str, datetime] | None:
    """The day rule (``7d``, ``1d``) whose turn it is for ``hearing`` at ``now``, with when it
    came due; None between turns."""
    day = date.fromisoformat(str(hearing["date"])[:10])
    end = starts_at or datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    rules = sorted(settings.reminder_days, reverse=True)
    dues = [_due_at(day, n, settings.reminder_send_hour, zone) for n in rules]
    for i, n in enumerate(rules):
        turn_ends = dues[i + 1] if i + 1 < len(rules) else end
        if dues[i] <= now < turn_ends and now < end:
            return f"{n}d", dues[i]
    return None


def run_pass(engine: sa.Engine, settings: Settings, now: datetime | None = None) -> PassReport:
    """One pass over every client with consent (module doc). Idempotent: a second pass at the
    same moment changes nothing."""
    now = now or datetime.now(UTC)
    report = PassReport()
    why = not_ready(settings)
    if why is not None:
        raise ValidationError(f"client reminders are not set up: {why}")
    with session_scope(engine) as session:
        # Only what the pass needs: the sealed numbers stay sealed until a reminder is sent.
        contacts = {
            cid: Wanted(cid, language, zone)
            for cid, language, zone in session.exec(
                select(
                    ReminderContact.client_id, ReminderContact.language, ReminderContact.timezone
                )
                .join(Client, col(Client.id) == ReminderContact.client_id)
                .where(
                    col(ReminderContact.consent).is_(True),
                    col(ReminderContact.paused).is_(False),
                    col(Client.active).is_(True),
                )
            )
        }
        ids = sorted(contacts)
        states = known_states(session, ids)
        last_told = _last_told(session, ids)
        maker = _Maker.of(session, ids, now, report)
        for client_id in ids:
            contact, known = contacts[client_id], states.get(client_id, Known())
            _make_due(maker, contact, known, last_told.get(client_id), settings)
        session.flush()
        on = switched_on(session, settings)
        waiting = list(
            session.exec(
                select(Reminder)
                .where(Reminder.status == ReminderStatus.waiting.value)
                .order_by(col(Reminder.id))
            )
        )
        need = sorted({row.client_id for row in waiting} & set(ids))
        clients = {c.id: c for c in session.exec(select(Client).where(col(Client.id).in_(need)))}
        for row in waiting:
            wanted = contacts.get(row.client_id)
            if wanted is None:
                end_reminder(session, row, ReminderStatus.stopped, "no consent, or paused", now)
                continue
            known = states.get(row.client_id, Known())
            _advance(session, row, wanted, clients[row.client_id], known, on, settings, now, report)
    return report


def _last_told(session: Session, ids: list[int]) -> dict[int, Reminder]:
    """Each client's latest reminder that went out."""
    out: dict[int, Reminder] = {}
    if not ids:
        return out
    latest = (
        select(Reminder.client_id, sa.func.max(Reminder.sent_at).label("last"))
        .where(col(Reminder.client_id).in_(ids), Reminder.status == ReminderStatus.sent.value)
        .group_by(col(Reminder.client_id))
        .subquery()
    )
    for row in session.exec(
        select(Reminder)
        .join(
            latest,
            sa.and_(latest.c.client_id == Reminder.client_id, latest.c.last == Reminder.sent_at),
        )
        .where(Reminder.status == ReminderStatus.sent.value)
        .order_by(col(Reminder.id))
    ):
        out[row.client_id] = row
    return out


@dataclass
class _Maker:
    """Makes the due reminders of one pass, knowing those made before (one query)."""

    session: Session
    made: set[tuple[int, str, str]]
    now: datetime
    report: PassReport

    @classmethod
    def of(cls, session: Session, ids: list[int], now: datetime, report: PassReport) -> _Maker:
        made: set[tuple[int, str, str]] = set()
        if ids:
            rows = session.exec(
                select(Reminder.client_id, Reminder.rule, Reminder.hearing_key).where(
                    col(Reminder.client_id).in_(ids)
                )
            )
            made = {(c, rule, key) for c, rule, key in rows}
        return cls(session, made, now, report)

    def ensure(
        self,
        client_id: int,
        rule: str,
        key: str,
        hearing: dict[str, Any],
        starts_at: datetime | None,
        due_at: datetime,
    ) -> None:
        if (client_id, rule, key) in self.made:
            return
        self.made.add((client_id, rule, key))
        self.session.add(
            Reminder(
                client_id=client_id,
                rule=rule,
                hearing_key=key,
                hearing=hearing,
                hearing_starts_at=starts_at,
                due_at=due_at,
                created_at=self.now,
                updated_at=self.now,
            )
        )
        self.report.created += 1


def _make_due(
    maker: _Maker,
    contact: Wanted,
    known: Known,
    told: Reminder | None,
    settings: Settings,
) -> None:
    if not known.ok:
        return  # nothing known about the case: nothing to remind of, nothing to correct
    cid, now = contact.client_id, maker.now
    current = known.hearing
    if told is not None and told.rule != CANCELLED:
        told_starts = told.hearing_starts_at
        upcoming = told_starts is None or told_starts > now
        told_key = hearing_key(told.hearing)
        if upcoming and current is None:
            maker.ensure(cid, CANCELLED, told_key, told.hearing, told_starts, now)
        elif upcoming and current is not None and hearing_key(current) != told_key:
            new_key = f"{told_key}>{hearing_key(current)}"
            maker.ensure(cid, MOVED, new_key, current, known.starts_at, now)
    if current is not None:
        zone = zone_of(contact, current, settings)
        turn = day_rule(current, known.starts_at, zone, settings, now)
        if turn is not None:
            rule, due = turn
            maker.ensure(cid, rule, hearing_key(current), current, known.starts_at, due)


def deadline_of(row: Reminder, settings: Settings) -> datetime:
    """When an unconfirmed reminder goes to the attorney instead: ``reminder_deadline_hours``
    after it came due (or after the quiet hours it came due in), at the latest two hours before
    the hearing."""
    start = max(row.created_at, row.deferred_until or row.created_at)
    deadline = start + timedelta(hours=settings.reminder_deadline_hours)
    if row.hearing_starts_at is not None and row.rule != CANCELLED:
        deadline = min(deadline, row.hearing_starts_at - timedelta(hours=2))
    return deadline


def _advance(
    session: Session,
    row: Reminder,
    contact: Wanted,
    client: Client,
    known: Known,
    on: dict[str, Language],
    settings: Settings,
    now: datetime,
    report: PassReport,
) -> None:
    """Move one waiting reminder on: superseded, expired, to the attorney, or queued."""
    from monitor.views import request_check

    true_now = still_true(row, known)
    if true_now is False:
        end_reminder(
            session, row, ReminderStatus.superseded, "the hearing changed before it went", now
        )
        report.superseded += 1
        return
    if row.hearing_starts_at is not None and row.hearing_starts_at <= now:
        end_reminder(session, row, ReminderStatus.expired, "the hearing's time came first", now)
        report.expired += 1
        return
    zone = zone_of(contact, row.hearing, settings)
    quiet = quiet_until(now, settings, zone)
    if quiet is not None:  # nothing asked of ACIS, nothing sent; the wait starts again after
        if row.deferred_until != quiet or row.lookup_requested_at is not None:
            row.deferred_until, row.lookup_requested_at, row.updated_at = quiet, None, now
            session.add(row)
        report.deferred += 1
        return
    if not confirmed(row, known, settings, now):
        if now >= deadline_of(row, settings):
            to_attorney(session, row, "not confirmed on ACIS in time", now)
            report.to_attorney += 1
            return
        if request_check(
            session,
            client,
            "acis",
            "reminders",
            now,
            reason=f"confirm the hearing before reminder #{row.id}",
        ):
            report.lookups_requested += 1
        if row.lookup_requested_at is None:
            row.lookup_requested_at = now
        row.updated_at = now
        session.add(row)
        report.waiting += 1
        return
    if contact.language not in on:
        to_attorney(session, row, f"the language {contact.language!r} is switched off", now)
        report.to_attorney += 1
        return
    row.status, row.verified_lookup_id = ReminderStatus.queued.value, known.lookup_id
    row.language, row.updated_at = contact.language, now
    session.add(row)
    session.add(
        Delivery(
            kind="client_reminder",
            reminder_id=row.id,
            status=DeliveryStatus.pending.value,
            next_attempt_at=now,
            created_at=now,
        )
    )
    report.queued += 1


def to_attorney(session: Session, row: Reminder, why: str, now: datetime) -> None:
    """The client is not reminded: the attorney hears why, with the hearing."""
    event = emit(
        session,
        client_event(
            "reminder_unverified",
            row.client_id,
            "",
            now,
            dedup_key=f"reminder_unverified:{row.id}",
            hearing=row.hearing,
            notes=[note("reminder_unverified", rule=row.rule, why=why)],
        ),
        now,
    )
    end_reminder(session, row, ReminderStatus.attorney, why, now)
    row.event_id = event.id if event is not None else None
    session.add(row)


def failed(session: Session, row: Reminder, attempts: int, error: str, now: datetime) -> None:
    """The outbox gave up on ``row``: the attorney is told."""
    event = emit(
        session,
        client_event(
            "reminder_failed",
            row.client_id,
            "",
            now,
            dedup_key=f"reminder_failed:{row.id}",
            hearing=row.hearing,
            notes=[note("reminder_failed", rule=row.rule, attempts=attempts, error=error[:200])],
        ),
        now,
    )
    row.status, row.note, row.updated_at = ReminderStatus.failed.value, error[:300], now
    row.event_id = event.id if event is not None else row.event_id
    session.add(row)


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


# -- what the attorney sees ---------------------------------------------------------------------


@dataclass
class ClientReminders:
    contact: ReminderContact | None
    reminders: list[Reminder]
    languages: dict[str, Language]
    switched_on: set[str]


def client_reminders(session: Session, settings: Settings, client_id: int) -> ClientReminders:
    rows = list(
        session.exec(
            select(Reminder)
            .where(Reminder.client_id == client_id)
            .order_by(col(Reminder.id).desc())
            .limit(100)
        )
    )
    try:
        langs = languages(settings)
        on = set(switched_on(session, settings))
    except ValidationError:
        langs, on = {}, set()
    return ClientReminders(session.get(ReminderContact, client_id), rows, langs, on)
