"""The outbox's ``staff_alert`` kind: an event for one staff member on one of their channels.

Right before sending: the pending deliveries to the same channel of the other events of its group
(one lookup of one client) join it in one message; normal and info alerts wait out the staff
member's quiet hours; a failing channel is tried once per back-off period, not once per delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.messages import render
from monitor.outbox import Context, DeliveryHandler, Outgoing, claim, register
from monitor.route import emit
from monitor.timing import backoff, quiet_until
from storage.models import Client, Delivery, DeliveryStatus, Event, Severity, Staff, StaffChannel


@register
class StaffAlert(DeliveryHandler):
    kind = "staff_alert"

    def prepare(self, ctx: Context, session: Session, row: Delivery) -> Outgoing | None:
        event = session.get(Event, row.event_id)
        staff = session.get(Staff, row.staff_id)
        channel = session.get(StaffChannel, row.channel_id)
        assert event is not None and staff is not None and channel is not None
        rows = [(row, event), *self._group(session, row, event)]
        defer_to = self._defer_to(ctx, rows, staff, channel)
        if defer_to is not None:
            for held, _ in rows:
                held.next_attempt_at = defer_to
                session.add(held)
            ctx.report.deferred += len(rows)
            return None
        # Each delivery of the group is claimed on its own: one another process took stays its.
        claimed = [(m.id, e) for m, e in rows if m.id is not None and claim(session, m.id, ctx.now)]
        if not claimed:
            return None
        client = session.get(Client, event.client_id) if event.client_id else None
        message = render(
            [e for _, e in claimed],
            client,
            channel,
            staff.language,
            escalation_level=row.escalation_level,
            base_url=ctx.settings.web_base_url,
            ack_secret=ctx.ack_secret,
        )
        if channel.failing and channel.id is not None:
            ctx.probed.add(channel.id)
        return Outgoing(
            [i for i, _ in claimed],
            channel.url,
            message,
            events=[e for _, e in claimed],
            channel_id=channel.id,
        )

    @staticmethod
    def _group(session: Session, row: Delivery, event: Event) -> list[tuple[Delivery, Event]]:
        """The other pending deliveries of the event's group to the same channel."""
        if not event.group_key:
            return []
        found = session.exec(
            select(Delivery, Event)
            .join(Event, col(Event.id) == Delivery.event_id)
            .where(
                Event.group_key == event.group_key,
                Delivery.channel_id == row.channel_id,
                Delivery.escalation_level == row.escalation_level,
                Delivery.status == DeliveryStatus.pending.value,
                col(Delivery.id) != row.id,
            )
            .order_by(col(Delivery.id))
        )
        return list(found.all())

    @staticmethod
    def _defer_to(
        ctx: Context, rows: list[tuple[Delivery, Event]], staff: Staff, channel: StaffChannel
    ) -> datetime | None:
        """Until when the message waits: the staff member's quiet hours (not for urgent
        alerts), or a failing channel's back-off."""
        now = ctx.now
        if not any(e.severity == Severity.urgent.value for _, e in rows):
            quiet = quiet_until(now, staff.quiet_start, staff.quiet_end, ctx.settings.timezone)
            if quiet is not None:
                return quiet
        waiting = channel.retry_at is not None and channel.retry_at > now
        if channel.failing and (channel.id in ctx.probed or waiting):
            # A failing channel gets one probe per back-off period, not one per delivery.
            if channel.retry_at is not None and waiting:
                return channel.retry_at
            return now + backoff(ctx.settings, channel.consecutive_failures)
        return None

    def uncertain(self, session: Session, delivery: Delivery, now: datetime) -> None:
        line = note(
            "delivery_uncertain",
            delivery=delivery.id,
            alert=delivery.event_id,
            staff=delivery.staff_id,
        )
        emit(session, uncertain_event(delivery, line, now), now)


def uncertain_event(delivery: Delivery, line: dict[str, object], now: datetime) -> EventInput:
    """The admins' event for a send a dead process left unfinished."""
    return EventInput(
        kind="delivery_uncertain",
        subject_type="delivery",
        subject_key=str(delivery.id),
        dedup_key=f"delivery_uncertain:{delivery.id}",
        payload={"notes": [line]},
        occurred_at=now,
    )
