"""Clients' consent to reminders, the languages switched on, and replies that stop them
(STOP, ALTO ...). Nothing here is ever assumed: consent is recorded by a person or withdrawn."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import client_event, note
from monitor.reminder_texts import Language, registry
from monitor.route import emit
from storage.errors import NotFoundError, ValidationError
from storage.models import (
    Client,
    Delivery,
    DeliveryStatus,
    InboundReply,
    Reminder,
    ReminderContact,
    ReminderLanguage,
    ReminderStatus,
)
from storage.reminders import Consent, check_consent, normalize_phone, store_consent
from storage.settings import Settings

log = logging.getLogger(__name__)

OPEN = (ReminderStatus.waiting.value, ReminderStatus.queued.value)
STOP_WORDS = frozenset(
    {
        "stop",
        "alto",
        "parar",
        "pare",
        "para",
        "cancel",
        "cancelar",
        "unsubscribe",
        "end",
        "quit",
        "kanpe",
        "sispann",
        "стоп",
        "ਰੋਕੋ",
        "ਬੰਦ",
    }
)


# -- settings and languages ---------------------------------------------------------------------


def not_ready(settings: Settings) -> str | None:
    """Why reminders cannot be sent with these settings, or None."""
    if settings.reminder_gateway_url is None:
        return "reminder_gateway_url is not set (the SMS/WhatsApp gateway's Apprise URL)"
    if not settings.program_phone.strip():
        return "program_phone is not set (the number every reminder gives)"
    return None


def languages(settings: Settings) -> dict[str, Language]:
    return registry(settings.reminder_texts_dir)


def switched_on(session: Session, settings: Settings) -> dict[str, Language]:
    """The languages whose current texts a person reviewed."""
    known = languages(settings)
    reviewed = {r.code: r for r in session.exec(select(ReminderLanguage))}
    return {
        code: lang
        for code, lang in known.items()
        if code in reviewed and reviewed[code].texts_sha256 == lang.sha256
    }


def review_language(
    session: Session, settings: Settings, code: str, by: str, now: datetime
) -> Language:
    """Switch a language on: ``by`` read its texts (as they are now)."""
    known = languages(settings)
    if code not in known:
        raise ValidationError(
            f"no reminder language {code!r} (the registry has: {', '.join(known)})"
        )
    if not by.strip():
        raise ValidationError("say who reviewed the texts (--by NAME)")
    lang = known[code]
    row = session.get(ReminderLanguage, code)
    if row is None:
        row = ReminderLanguage(code=code, reviewed_by=by, reviewed_at=now, texts_sha256="")
    row.reviewed_by, row.reviewed_at, row.texts_sha256 = by.strip()[:200], now, lang.sha256
    session.add(row)
    return lang


def switch_off(session: Session, code: str) -> bool:
    row = session.get(ReminderLanguage, code)
    if row is None:
        return False
    session.delete(row)
    return True


# -- consent --------------------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    return f"***{phone[-4:]}" if len(phone) > 4 else "***"


def record_consent(
    session: Session, settings: Settings, client: Client, consent: Consent, now: datetime
) -> ReminderContact:
    """Record a client's consent to reminders (new, or given again after a withdrawal: a
    person asked the client), in a language switched on."""
    assert client.id is not None
    checked = check_consent(consent, set(switched_on(session, settings)))
    store_consent(session, client.id, checked, now)
    contact = session.get(ReminderContact, client.id)
    assert contact is not None
    return contact


def withdraw_consent(session: Session, client_id: int, how: str, now: datetime) -> bool:
    """Consent withdrawn: nothing more goes to the client; what was queued is voided."""
    contact = session.get(ReminderContact, client_id)
    if contact is None or not contact.consent:
        return False
    contact.consent, contact.withdrawn_at, contact.withdrawn_how = False, now, how[:200]
    contact.updated_at = now
    session.add(contact)
    close_open(session, client_id, ReminderStatus.stopped, f"consent withdrawn ({how})"[:300], now)
    return True


def set_paused(session: Session, client_id: int, paused: bool, by: str, now: datetime) -> bool:
    contact = session.get(ReminderContact, client_id)
    if contact is None:
        raise NotFoundError(f"client #{client_id} has no reminder consent on record")
    if contact.paused == paused:
        return False
    contact.paused, contact.paused_by, contact.paused_at = paused, by[:200], now
    contact.updated_at = now
    session.add(contact)
    if paused:
        close_open(session, client_id, ReminderStatus.stopped, f"paused by {by}"[:300], now)
    return True


def close_open(
    session: Session, client_id: int, status: ReminderStatus, why: str, now: datetime
) -> None:
    for row in session.exec(
        select(Reminder).where(Reminder.client_id == client_id, col(Reminder.status).in_(OPEN))
    ):
        end_reminder(session, row, status, why, now)


def end_reminder(
    session: Session, row: Reminder, status: ReminderStatus, why: str, now: datetime
) -> None:
    """End a reminder without sending it; its queued delivery (if any) is voided."""
    row.status, row.note, row.updated_at = status.value, why[:300], now
    session.add(row)
    session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.reminder_id) == row.id,
            col(Delivery.status).in_([DeliveryStatus.pending.value, DeliveryStatus.held.value]),
        )
        .values(status=DeliveryStatus.void.value, last_error=why[:2000])
        .execution_options(synchronize_session=False)
    )


def find_by_phone(session: Session, phone: str) -> list[ReminderContact]:
    from storage.secrets import keyring_of

    keyring = keyring_of(session.get_bind().dialect)
    if not keyring.exists():
        return []
    digest = keyring.digest(normalize_phone(phone, "the reply's sender"))
    return list(session.exec(select(ReminderContact).where(ReminderContact.phone_digest == digest)))


#: words that stop reminders only as the whole reply ("para" is also "for", "end" a word)
WHOLE_ONLY = frozenset({"para", "pare", "end", "quit", "ਬੰਦ", "kanpe"})


def is_stop(body: str) -> bool:
    """A reply that withdraws consent: a stop word as the whole reply, or an unambiguous one
    (STOP, ALTO, PARAR, CANCELAR, СТОП ...) as its first word."""
    words = body.strip().lower().replace("!", " ").replace(".", " ").replace("¡", " ").split()
    if not words:
        return False
    if len(words) == 1:
        return words[0] in STOP_WORDS
    return words[0] in STOP_WORDS - WHOLE_ONLY


def stop_reply(
    session: Session, phone: str, word: str, now: datetime, message_sid: str = ""
) -> list[int]:
    """A STOP/ALTO reply from ``phone``: consent withdrawn for every client of that number, and
    each client's attorney told. Returns the clients' ids. A reply whose ``message_sid`` was
    acted on before (the same request sent again) changes nothing."""
    if message_sid:
        if session.get(InboundReply, message_sid[:64]) is not None:
            log.warning("a reply already acted on came again (a replay?): ignored")
            return []
        session.add(InboundReply(message_sid=message_sid[:64], received_at=now))
    stopped = []
    for contact in find_by_phone(session, phone):
        if withdraw_consent(session, contact.client_id, f"replied {word!r}", now):
            stopped.append(contact.client_id)
            emit(
                session,
                client_event(
                    "reminders_stopped",
                    contact.client_id,
                    now.isoformat(),
                    now,
                    notes=[note("reminders_stopped", word=word[:20], at=f"{now:%Y-%m-%d %H:%M}")],
                ),
                now,
            )
    return stopped
