"""Who must know: an event's recipients, and its Delivery rows (the outbox).

* client kinds go to the client's primary attorney; when the client has none (or that attorney
  has no active channel), to the backup attorney; failing both, to the coordinators, so an
  alert never goes nowhere;
* coordinator kinds go to every active coordinator; source and channel kinds to admins only,
  never to attorneys;
* an event about a client goes to the client's program's staff only; one about public data (a
  court closure, a source's health) to the staff of every program;
* each staff member's filters (lowest severity, muted kinds) apply; a staff member in digest
  mode gets non-urgent alerts held for the daily digest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from monitor.events import Audience, EventInput, kind
from monitor.outbox import handlers
from storage.models import (
    Client,
    Delivery,
    DeliveryStatus,
    Event,
    Reminder,
    Severity,
    Staff,
    StaffChannel,
    StaffRole,
)
from storage.tenancy import ALL

SEVERITY_RANK = {Severity.info.value: 0, Severity.normal.value: 1, Severity.urgent.value: 2}


def _active_channels(session: Session, staff_ids: Sequence[int]) -> dict[int, list[StaffChannel]]:
    if not staff_ids:
        return {}
    out: dict[int, list[StaffChannel]] = {}
    rows = session.exec(
        select(StaffChannel)
        .where(StaffChannel.staff_id.in_(staff_ids))  # type: ignore[attr-defined]
        .where(StaffChannel.active == True)  # noqa: E712
        .order_by(StaffChannel.id)  # type: ignore[arg-type]
    )
    for channel in rows:
        out.setdefault(channel.staff_id, []).append(channel)
    return out


def _by_role(session: Session, role: StaffRole, organization_id: int | None) -> list[Staff]:
    """Active staff with ``role``: of one program, or (public events) of every program."""
    query = select(Staff).where(Staff.role == role.value, Staff.active == True)  # noqa: E712
    if organization_id is not None:
        query = query.where(Staff.organization_id == organization_id)
    return list(session.exec(query.order_by(Staff.id)))  # type: ignore[arg-type]


log = logging.getLogger(__name__)


def recipients(session: Session, event: Event, escalation_level: int = 0) -> list[Staff]:
    """The staff who must hear of ``event`` at this escalation level (before filters)."""
    audience = kind(event.kind).audience
    client = session.get(Client, event.client_id) if event.client_id is not None else None
    # an event about a program's data is that program's alone; one about public data (a
    # court, a source) is every program's
    org = event.organization_id
    if audience is Audience.admins:
        return _by_role(session, StaffRole.admin, org)
    if audience is Audience.coordinators or client is None or escalation_level >= 2:
        return _by_role(session, StaffRole.coordinator, org)
    if escalation_level == 1:
        order = [client.backup_attorney_id]
    else:
        order = [client.primary_attorney_id, client.backup_attorney_id]
    ids = [i for i in order if i is not None]
    reachable = _active_channels(session, ids)
    for staff_id in ids:
        staff = session.get(Staff, staff_id)
        if staff is not None and staff.active and reachable.get(staff_id):
            return [staff]
    return _by_role(session, StaffRole.coordinator, org)


def wants(staff: Staff, event: Event) -> bool:
    """The staff member's own filters."""
    if event.kind in (staff.muted_kinds or []):
        return False
    return SEVERITY_RANK[event.severity] >= SEVERITY_RANK.get(staff.min_severity, 0)


def route(session: Session, event: Event, now: datetime, escalation_level: int = 0) -> int:
    """Write one Delivery per (event, recipient, channel); return how many were new."""
    assert event.id is not None
    staff = [s for s in recipients(session, event, escalation_level) if wants(s, event)]
    channels = _active_channels(session, [s.id for s in staff if s.id is not None])
    existing = set(
        session.exec(select(Delivery.channel_id).where(Delivery.event_id == event.id)).all()
    )
    created = 0
    for member in staff:
        assert member.id is not None
        held = member.digest and event.severity != Severity.urgent.value
        for channel in channels.get(member.id, []):
            if channel.id is None or channel.id in existing:
                continue
            session.add(
                Delivery(
                    kind="staff_alert",
                    event_id=event.id,
                    staff_id=member.id,
                    channel_id=channel.id,
                    status=(DeliveryStatus.held if held else DeliveryStatus.pending).value,
                    digest=held,
                    next_attempt_at=None if held else now,
                    created_at=now,
                    escalation_level=escalation_level,
                )
            )
            created += 1
    if escalation_level == 0 and staff:  # other kinds' deliveries of it (a case note)
        created += sum(h.routed(session, event, staff, now) for h in handlers().values())
    session.flush()
    return created


def pending_count(session: Session) -> int:
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(Delivery)
            .where(
                Delivery.status.in_(  # type: ignore[attr-defined]
                    [DeliveryStatus.pending.value, DeliveryStatus.held.value]
                )
            )
        ).one()
    )


def _program_of(session: Session, event: EventInput) -> int | None:
    """The program an event is about, from its client, channel, delivery or staff member;
    None for public data (a court, a source, a FOIA release)."""
    staff_id: int | None = None
    if event.client_id is not None:
        client = session.get(Client, event.client_id, execution_options=ALL)
        return client.organization_id if client is not None else None
    key = int(event.subject_key) if event.subject_key.isdigit() else None
    if key is None:
        return None
    if event.subject_type == "channel":
        channel = session.get(StaffChannel, key, execution_options=ALL)
        staff_id = channel.staff_id if channel is not None else None
    elif event.subject_type == "delivery":
        delivery = session.get(Delivery, key, execution_options=ALL)
        if delivery is not None and delivery.reminder_id is not None:
            reminder = session.get(Reminder, delivery.reminder_id, execution_options=ALL)
            client = (
                session.get(Client, reminder.client_id, execution_options=ALL)
                if reminder is not None
                else None
            )
            return client.organization_id if client is not None else None
        staff_id = delivery.staff_id if delivery is not None else None
    elif event.subject_type == "staff":
        staff_id = key
    if staff_id is None:
        return None
    staff = session.get(Staff, staff_id, execution_options=ALL)
    return staff.organization_id if staff is not None else None


def emit(session: Session, event: EventInput, now: datetime) -> Event | None:
    """Write ``event`` and its deliveries in the session's transaction.

    Returns the new Event, or None when an event with the same dedup key exists already.
    """
    existing = session.exec(
        select(Event.id).where(Event.dedup_key == event.dedup_key).execution_options(**ALL)
    ).first()
    if existing is not None:
        return None
    row = Event(
        organization_id=event.organization_id
        if event.organization_id is not None
        else _program_of(session, event),
        kind=event.kind,
        severity=(event.severity or kind(event.kind).severity).value,
        subject_type=event.subject_type,
        subject_key=event.subject_key,
        client_id=event.client_id,
        payload=event.payload,
        dedup_key=event.dedup_key,
        group_key=event.group_key,
        occurred_at=event.occurred_at,
        created_at=now,
    )
    session.add(row)
    session.flush()
    deliveries = route(session, row, now)
    log.info("event %s #%s (%s) -> %d deliveries", row.kind, row.id, row.severity, deliveries)
    return row
