"""Storing a client's consent to hearing reminders (the rules of consent are in
:mod:`monitor.reminders`; the roster import and the commands both store through here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.errors import ValidationError
from storage.models import ConsentHow, ReminderContact, ReminderVia


class ConsentError(ValidationError):
    """A consent refused: ``field`` names the value at fault (phone, via, how, by, language,
    timezone, at)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_phone(text: str, where: str = "phone") -> str:
    """An E.164 number (+12135550123); a US number may be written without +1. The error never
    repeats the number (client data) beyond its last two digits."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text.strip(), "US")
    except phonenumbers.NumberParseException:
        raise ConsentError(
            "phone", f"{where}: {_masked_input(text)} is not a phone number"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ConsentError("phone", f"{where}: {_masked_input(text)} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _masked_input(text: str) -> str:
    digits = [c for c in text if c.isdigit()]
    return f"the number ending {''.join(digits[-2:])}" if len(digits) > 2 else "the value given"


@dataclass(frozen=True)
class Consent:
    phone: str
    via: str = ReminderVia.sms.value
    language: str = "es"
    how: str = ConsentHow.in_person.value
    by: str = ""
    at: datetime | None = None  # when the client consented (default: now)
    timezone: str = ""


def check_consent(consent: Consent, languages_on: set[str] | frozenset[str]) -> Consent:
    """The consent with its number normalized; a ConsentError names the field at fault."""
    phone = normalize_phone(consent.phone)
    if consent.via not in ReminderVia.__members__:
        raise ConsentError("via", f"via {consent.via!r}: use sms or whatsapp")
    if consent.how not in ConsentHow.__members__:
        raise ConsentError(
            "how", f"how the client consented {consent.how!r}: use in_person or phone"
        )
    if not consent.by.strip():
        raise ConsentError("by", "who recorded the consent is missing")
    if consent.language not in languages_on:
        raise ConsentError(
            "language",
            f"reminder language {consent.language!r} is not switched on (switched on: "
            f"{', '.join(sorted(languages_on)) or 'none'}; a person reviews a language's texts "
            "first: `docketwatch reminders languages`)",
        )
    if consent.timezone:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(consent.timezone)
        except (KeyError, ValueError):
            raise ConsentError("timezone", f"unknown time zone {consent.timezone!r}") from None
    return Consent(
        phone,
        consent.via,
        consent.language,
        consent.how,
        consent.by.strip()[:200],
        consent.at,
        consent.timezone,
    )


def store_consent(
    session: Session,
    client_id: int,
    consent: Consent,
    now: datetime,
    *,
    after_withdrawal: bool = True,
) -> str:
    """Store a checked consent: ``created``, ``updated``, ``unchanged``, or ``withdrawn`` when
    the client withdrew consent after the date of this one and ``after_withdrawal`` is False
    (a roster file carrying an old consent never overrides a STOP)."""
    given = consent.at or now
    if given > now:
        raise ConsentError("at", f"consent date {given:%Y-%m-%d} is in the future")
    contact = session.get(ReminderContact, client_id)
    if contact is None:
        contact = ReminderContact(
            client_id=client_id, phone=consent.phone, language=consent.language, updated_at=now
        )
        outcome = "created"
    else:
        withdrawn = contact.withdrawn_at if not contact.consent else None
        if withdrawn is not None and not after_withdrawal and given <= withdrawn:
            return "withdrawn"
        same = (
            contact.consent
            and contact.phone == consent.phone
            and contact.via == consent.via
            and contact.language == consent.language
            and contact.consent_how == consent.how
            and contact.timezone == consent.timezone
        )
        if same:
            return "unchanged"
        outcome = "updated"
    contact.phone, contact.via, contact.language = consent.phone, consent.via, consent.language
    contact.timezone = consent.timezone
    contact.consent, contact.consent_by, contact.consent_at = True, consent.by, given
    contact.consent_how = consent.how
    contact.withdrawn_at, contact.withdrawn_how = None, ""
    contact.updated_at = now
    session.add(contact)
    return outcome
