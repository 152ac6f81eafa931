"""The outbox's ``client_reminder`` kind: one reminder to a client, by SMS or WhatsApp.

Right before sending, once more: the client still consents and is not paused, the hearing's
time has not come, the hearing is still the one ACIS last showed and was confirmed recently
enough (else the reminder waits for the next pass to confirm it anew), the client's quiet hours
are over, and the reminder's language is still switched on. A failed send's error may name the
number: it is masked before it is stored or logged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from monitor.events import note
from monitor.messages import Message
from monitor.outbox import Context, DeliveryHandler, Outgoing, SendResult, claim, register
from monitor.reminders.consent import end_reminder, mask_phone, switched_on
from monitor.reminders.passes import (
    Known,
    body_digest,
    failed,
    gateway_url,
    known_states,
    quiet_until,
    still_true,
    text_of,
    to_attorney,
    zone_of,
)
from monitor.route import emit
from monitor.staff_alerts import uncertain_event
from storage.models import Client, Delivery, DeliveryStatus, Reminder, ReminderContact
from storage.models import ReminderStatus as Status


@register
class ClientReminder(DeliveryHandler):
    kind = "client_reminder"
    noun = "reminder delivery"

    def prepare(self, ctx: Context, session: Session, row: Delivery) -> Outgoing | None:
        now = ctx.now
        reminder = session.get(Reminder, row.reminder_id)
        assert reminder is not None
        contact = session.get(ReminderContact, reminder.client_id)
        client = session.get(Client, reminder.client_id)
        wanted = contact is not None and contact.consent and not contact.paused
        if contact is None or not wanted or client is None or not client.active:
            end_reminder(session, reminder, Status.stopped, "no consent, or paused", now)
            return None
        if reminder.hearing_starts_at is not None and reminder.hearing_starts_at <= now:
            end_reminder(session, reminder, Status.expired, "the hearing's time came first", now)
            return None
        known = known_states(session, [reminder.client_id]).get(reminder.client_id, Known())
        if still_true(reminder, known) is False:
            why = "the hearing changed before it went"
            end_reminder(session, reminder, Status.superseded, why, now)
            return None
        verify = timedelta(hours=ctx.settings.reminder_verify_hours)
        if known.observed_at is None or known.observed_at < now - verify or not known.verified:
            # Aged in the outbox (retries): back to waiting; the next reminder pass asks ACIS
            # again and queues it anew once confirmed.
            row.status, row.last_error = DeliveryStatus.void.value, "to be confirmed again"
            reminder.status, reminder.updated_at = Status.waiting.value, now
            reminder.lookup_requested_at = None  # the wait for a fresh lookup starts again
            session.add_all([row, reminder])
            return None
        quiet = quiet_until(now, ctx.settings, zone_of(contact, reminder.hearing, ctx.settings))
        if quiet is not None:
            row.next_attempt_at = quiet
            session.add(row)
            ctx.report.deferred += 1
            return None
        language = switched_on(session, ctx.settings).get(contact.language)
        if language is None:
            why = f"the language {contact.language!r} is switched off"
            to_attorney(session, reminder, why, now)
            return None
        body = text_of(session, reminder, language, ctx.settings)
        assert row.id is not None
        if not claim(session, row.id, now):
            return None
        reminder.language, reminder.body_sha256 = contact.language, body_digest(body)
        session.add(reminder)
        phone = contact.phone
        message = Message(title="", text=body, html=body, markdown=body)
        return Outgoing(
            [row.id],
            gateway_url(ctx.settings, contact),
            message,
            scrub=lambda error: error.replace(phone, mask_phone(phone)),
        )

    def sent(self, session: Session, delivery: Delivery, now: datetime, result: SendResult) -> None:
        reminder = session.get(Reminder, delivery.reminder_id)
        assert reminder is not None
        reminder.status, reminder.sent_at, reminder.updated_at = Status.sent.value, now, now
        session.add(reminder)

    def given_up(
        self, session: Session, delivery: Delivery, result: SendResult, now: datetime
    ) -> None:
        reminder = session.get(Reminder, delivery.reminder_id)
        assert reminder is not None
        failed(session, reminder, delivery.attempts, result.error, now)

    def uncertain(self, session: Session, delivery: Delivery, now: datetime) -> None:
        reminder = session.get(Reminder, delivery.reminder_id)
        assert reminder is not None
        reminder.status, reminder.updated_at = Status.failed.value, now
        reminder.note = "the service stopped while sending it: it may have gone out"
        session.add(reminder)
        line = note(
            "reminder_uncertain",
            delivery=delivery.id,
            reminder=reminder.id,
            client=reminder.client_id,
        )
        emit(session, uncertain_event(delivery, line, now), now)
