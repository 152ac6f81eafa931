"""Queries and actions behind ``docketwatch alerts``: the delivery log, retry, test messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.dispatch import AppriseSender, Sender, SendResult
from monitor.events import kind
from monitor.messages import Message
from storage.errors import NotFoundError, ValidationError
from storage.identifiers import parse_a_number, redact_a_number
from storage.models import Client, Delivery, DeliveryStatus, Event, Staff, StaffChannel
from storage.people import get_staff
from storage.settings import mask_channel


def delivery_log(
    session: Session,
    *,
    client: str | None = None,
    staff: str | None = None,
    kind_name: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Deliveries, newest first, joined with their event, staff and channel; client reminders
    (kind ``client_reminder``) and case notes (``case_note``) among them, unless a staff member
    is asked for."""
    query = (
        select(Delivery, Event, Staff, StaffChannel)
        .join(Event, col(Event.id) == Delivery.event_id)
        .join(Staff, col(Staff.id) == Delivery.staff_id)
        .join(StaffChannel, col(StaffChannel.id) == Delivery.channel_id)
        .order_by(col(Delivery.id).desc())
        .limit(limit)
    )
    found: int | None = None
    if client:
        number = parse_a_number(client)
        found = session.exec(select(Client.id).where(Client.a_number == number)).first()
        if found is None:
            raise NotFoundError("no client with that A-number")
        query = query.where(Event.client_id == found)
    if staff:
        query = query.where(Staff.id == get_staff(session, staff).id)
    if kind_name and kind_name not in (REMINDER_KIND, CASE_NOTE_KIND):
        kind(kind_name)
        query = query.where(Event.kind == kind_name)
    elif kind_name:
        query = query.where(sa.false())
    if status:
        if status not in DeliveryStatus.__members__:
            raise ValidationError(
                f"status {status!r} is not one of {', '.join(DeliveryStatus.__members__)}"
            )
        query = query.where(Delivery.status == status)
    clients = {cid: a for cid, a in session.exec(select(Client.id, Client.a_number))}
    rows = []
    for delivery, event, member, channel in session.exec(query):
        rows.append(
            _log_row(
                delivery,
                event.client_id,
                clients,
                alert=event.id,
                kind=event.kind,
                severity=event.severity,
                staff=member.email,
                channel=mask_channel(channel.url),
                acknowledged=bool(event.acknowledged_at),
            )
        )
    if not staff and kind_name in (None, REMINDER_KIND):
        rows += _reminder_rows(session, found, status, limit, clients)
    if not staff and kind_name in (None, CASE_NOTE_KIND):
        rows += _case_note_rows(session, found, status, limit, clients)
    rows.sort(key=lambda r: -int(r["delivery"] or 0))
    return rows[:limit]


REMINDER_KIND = "client_reminder"
CASE_NOTE_KIND = "case_note"


def _log_row(
    delivery: Delivery, client_id: int | None, clients: dict[int | None, str], **what: Any
) -> dict[str, Any]:
    """One line of the delivery log: the outbox row's own columns, and ``what`` it carried."""
    return {
        "delivery": delivery.id,
        "alert": "",
        "kind": "",
        "severity": "",
        "client": redact_a_number(clients[client_id]) if client_id else "",
        "staff": "",
        "channel": "",
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at.isoformat(timespec="seconds"),
        "sent_at": delivery.sent_at.isoformat(timespec="seconds") if delivery.sent_at else "",
        "acknowledged": False,
        "escalation": delivery.escalation_level,
        "error": delivery.last_error,
        **what,
    }


def _outbox_page(
    query: Any, owner: Any, client_id: int | None, status: str | None, limit: int
) -> Any:
    """The newest ``limit`` outbox rows of ``query``: of one client (``owner`` is the column
    that names it), of one status, when asked."""
    if client_id is not None:
        query = query.where(owner == client_id)
    if status:
        query = query.where(Delivery.status == status)
    return query.order_by(col(Delivery.id).desc()).limit(limit)


def _case_note_rows(
    session: Session,
    client_id: int | None,
    status: str | None,
    limit: int,
    clients: dict[int | None, str],
) -> list[dict[str, Any]]:
    """The outbox rows of case notes (written on clients' LegalServer matters), in the log's
    shape."""
    query = (
        select(Delivery, Event)
        .join(Event, col(Event.id) == Delivery.event_id)
        .where(Delivery.kind == CASE_NOTE_KIND)
    )
    query = _outbox_page(query, Event.client_id, client_id, status, limit)
    return [
        _log_row(
            delivery,
            event.client_id,
            clients,
            alert=event.id,
            kind=f"{CASE_NOTE_KIND}:{event.kind}",
            severity=event.severity,
            staff="(the client's matter)",
            channel="LegalServer",
            acknowledged=bool(event.acknowledged_at),
        )
        for delivery, event in session.exec(query)
    ]


def _reminder_rows(
    session: Session,
    client_id: int | None,
    status: str | None,
    limit: int,
    clients: dict[int | None, str],
) -> list[dict[str, Any]]:
    """The outbox rows of client reminders, in the delivery log's shape (the number masked)."""
    from storage.models import Reminder, ReminderContact

    query = (
        select(Delivery, Reminder, ReminderContact.via)
        .join(Reminder, col(Reminder.id) == Delivery.reminder_id)
        .outerjoin(ReminderContact, col(ReminderContact.client_id) == Reminder.client_id)
    )
    query = _outbox_page(query, Reminder.client_id, client_id, status, limit)
    return [
        _log_row(
            delivery,
            reminder.client_id,
            clients,
            kind=f"{REMINDER_KIND}:{reminder.rule}",
            staff="(the client)",
            channel=via or "",
            escalation=0,
        )
        for delivery, reminder, via in session.exec(query)
    ]


def retry(session: Session, ids: list[int], all_failed: bool, now: datetime) -> int:
    """Queue failed or uncertain deliveries again."""
    if not ids and not all_failed:
        raise ValidationError("name delivery IDs to retry, or pass --all-failed")
    query = sa.update(Delivery).where(
        col(Delivery.status).in_([DeliveryStatus.failed.value, DeliveryStatus.uncertain.value])
    )
    if ids:
        known = set(session.exec(select(Delivery.id).where(col(Delivery.id).in_(ids))))
        missing = sorted(set(ids) - known)
        if missing:
            raise NotFoundError(f"no delivery {', '.join(f'#{i}' for i in missing)}")
        query = query.where(col(Delivery.id).in_(ids))
    result = session.execute(
        query.values(status=DeliveryStatus.pending.value, next_attempt_at=now, attempts=0)
    )
    return int(getattr(result, "rowcount", 0))


@dataclass
class TestOutcome:
    channel: str
    ok: bool
    error: str


def send_test(session: Session, email: str, sender: Sender | None = None) -> list[TestOutcome]:
    """Send a real test message to every active channel of a staff member."""
    staff = get_staff(session, email)
    channels = list(
        session.exec(
            select(StaffChannel).where(
                StaffChannel.staff_id == staff.id,
                StaffChannel.active == True,  # noqa: E712
            )
        )
    )
    if not channels:
        raise ValidationError(f"{staff.email} has no active alert channel")
    spec = kind("test_message")
    title = spec.es if staff.language == "es" else spec.en
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = (
        f"{title} ({stamp}). Si lo recibe, este canal funciona."
        if staff.language == "es"
        else f"{title} ({stamp}). If you can read this, this channel works."
    )
    message = Message(title=title, text=text, html=f"<p>{text}</p>", markdown=text)
    send = sender or AppriseSender()
    outcomes = []
    for channel in channels:
        result: SendResult = send(channel.url, message)
        outcomes.append(TestOutcome(mask_channel(channel.url), result.ok, result.error))
    return outcomes
