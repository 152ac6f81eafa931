"""Hearing reminders to clients: consent first, and only for hearings just confirmed on ACIS.

A client gets reminders only with a recorded consent (who recorded it, when, how), a phone number
(SMS or WhatsApp) and a reminder language that a person has reviewed and switched on. Consent is
withdrawn by a "STOP"/"ALTO" reply (the inbound webhook), by staff, and the attorney can pause a
client's reminders; none of this is ever assumed.

One pass (:func:`run_pass`, every ``reminder_pass_minutes`` in the service):

1. **Due**: for each client's current hearing (the newest successful ACIS lookup), a reminder per
   rule of ``reminder_days`` (7 and 1 days before) comes due at ``reminder_send_hour`` in the
   client's zone, until the next rule's turn (the last: until the hearing). A hearing the client
   was reminded of that **moved** (another hearing now) or was **cancelled** (no hearing now)
   makes a reminder at once.
2. **Verified**: a reminder goes only if an ACIS lookup confirms its hearing: the newest lookup
   that says something about the case shows this very hearing (date, time, court, place, format),
   is at most ``reminder_verify_hours`` old, and, when it is older than
   ``reminder_recheck_minutes`` at the reminder's turn, a fresh lookup is asked for (an early check
   request, which the planner serves first) and awaited for ``reminder_recheck_wait_minutes``. A
   hearing that moved in between makes the reminder ``superseded``: never sent; the new hearing
   gets its own. Not confirmed by its deadline (``reminder_deadline_hours`` after it came due, or
   two hours before the hearing): the attorney is told instead (``reminder_unverified``).
3. **Quiet hours** (``reminder_quiet_hours``, the client's zone) defer a confirmed reminder.
4. **Outbox**: a confirmed reminder becomes a Delivery row, sent by the dispatcher with the staff
   alerts' retries and delivery log; the dispatcher checks the hearing once more right before
   sending (:func:`still_true`).

The code, by section: :mod:`monitor.reminders.consent` (consent, languages, STOP replies),
:mod:`monitor.reminders.passes` (the pass, and what the attorney sees) and
:mod:`monitor.reminders.outbox` (the outbox's ``client_reminder`` kind). This package gives their
names in one place.

A reminder's text comes from :mod:`monitor.reminder_texts`: the date, the time, the court's
address or "video hearing", the program's phone number. Nothing else.
"""

from __future__ import annotations

from monitor.reminders.consent import (
    OPEN,
    STOP_WORDS,
    close_open,
    end_reminder,
    find_by_phone,
    is_stop,
    languages,
    mask_phone,
    not_ready,
    record_consent,
    review_language,
    set_paused,
    stop_reply,
    switch_off,
    switched_on,
    withdraw_consent,
)
from monitor.reminders.passes import (
    CANCELLED,
    MOVED,
    ClientReminders,
    Known,
    PassReport,
    Wanted,
    body_digest,
    client_reminders,
    confirmed,
    day_rule,
    deadline_of,
    failed,
    gateway_url,
    hearing_key,
    known_states,
    place_of,
    quiet_until,
    run_pass,
    still_true,
    text_of,
    to_attorney,
    zone_of,
)
from storage.reminders import Consent, normalize_phone

__all__ = [
    "CANCELLED",
    "MOVED",
    "OPEN",
    "STOP_WORDS",
    "ClientReminders",
    "Consent",
    "Known",
    "PassReport",
    "Wanted",
    "body_digest",
    "client_reminders",
    "close_open",
    "confirmed",
    "day_rule",
    "deadline_of",
    "end_reminder",
    "failed",
    "find_by_phone",
    "gateway_url",
    "hearing_key",
    "is_stop",
    "known_states",
    "languages",
    "mask_phone",
    "normalize_phone",
    "not_ready",
    "place_of",
    "quiet_until",
    "record_consent",
    "review_language",
    "run_pass",
    "set_paused",
    "still_true",
    "stop_reply",
    "switch_off",
    "switched_on",
    "text_of",
    "to_attorney",
    "withdraw_consent",
    "zone_of",
]
