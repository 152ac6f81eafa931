"""The outbox's ``case_note`` kind: a client event that alerts an attorney, written as a case note
on the client's matter in the program's LegalServer (Core API, "Create a Matter Case Note":
``POST /api/v1/matters/{uuid}/notes``, an included API, no premium module).

- Queued with the attorney's alert when the program has a LegalServer site set (``orgs set
  --legalserver-site``) and the client's matter is known (``client.case_uuid``, the roster's
  ``case_uuid`` column).
- The note is in the program's language (the site's setting), names the client as alerts do,
  and its subject ends with a dedup key (``[docketwatch-event-ID]``).
- Never twice: before a retry (an earlier attempt failed, or a process died mid-send), the
  matter's notes are searched for the key; a note found is recorded, not written again. The
  note's id is stored with the key (``case_note``).
- Retried with the outbox's back-off; failures go to the program's admins only (an attorney is
  alerted by the alert itself).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import Session, select

from monitor.events import Audience, EventInput, kind, note
from monitor.messages import Message, describe
from monitor.outbox import Context, DeliveryHandler, Outgoing, SendResult, claim, register
from monitor.route import emit
from storage.models import (
    CaseNote,
    CaseSystem,
    Client,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    Staff,
    StaffRole,
)

log = logging.getLogger(__name__)

KIND = "case_note"
USER_AGENT = "docketwatch-case-notes/1"
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
SEARCH_PAGES = 5  # pages of a matter's notes read for the key before a retry


def dedup_key(event_id: int) -> str:
    return f"docketwatch-event-{event_id}"


def site_of(session: Session, organization_id: int | None) -> CaseSystem | None:
    if organization_id is None:
        return None
    found = session.exec(
        select(CaseSystem).where(CaseSystem.organization_id == organization_id)
    ).first()
    return found if found is not None and found.enabled else None


def queue(session: Session, event: Event, recipients: list[Staff], now: datetime) -> bool:
    """With the alert of a client event to an attorney: a case note, when the program has a
    LegalServer site and the client's matter is known. True if one was queued."""
    if event.client_id is None or kind(event.kind).audience is not Audience.client:
        return False
    if not any(s.role == StaffRole.attorney.value for s in recipients):
        return False
    client = session.get(Client, event.client_id)
    if client is None or not client.case_uuid or site_of(session, client.organization_id) is None:
        return False
    queued = session.exec(
        select(Delivery.id).where(Delivery.event_id == event.id, Delivery.kind == KIND)
    ).first()
    if queued is not None:
        return False
    session.add(
        Delivery(
            kind=KIND,
            event_id=event.id,
            status=DeliveryStatus.pending.value,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


@register
class CaseNoteHandler(DeliveryHandler):
    kind = KIND
    noun = "case note"

    def routed(self, session: Session, event: Event, recipients: list[Any], now: datetime) -> int:
        return int(queue(session, event, recipients, now))

    def prepare(self, ctx: Context, session: Session, row: Delivery) -> Outgoing | None:
        event = session.get(Event, row.event_id)
        assert event is not None and event.id is not None and row.id is not None
        client = session.get(Client, event.client_id) if event.client_id else None
        site = site_of(session, client.organization_id if client else None)
        if client is None or site is None or not client.case_uuid or client.erased_at:
            row.status, row.last_error = DeliveryStatus.void.value, "no LegalServer matter now"
            session.add(row)
            return None
        # Any earlier attempt (even one `alerts retry` has since reset) may have written it.
        tried = session.exec(
            select(DeliveryAttempt.id).where(DeliveryAttempt.delivery_id == row.id)
        ).first()
        look_first = tried is not None or row.attempts > 0 or bool(row.last_error)
        if not claim(session, row.id, ctx.now):
            return None
        key = dedup_key(event.id)
        headline, facts, free = describe(event, client, site.language)
        subject = f"docketwatch: {headline} [{key}]"[:250]
        lines = [f"{label}: {value}" for label, value in facts] + free
        if ctx.settings.web_base_url:
            lines.append(f"{ctx.settings.web_base_url.rstrip('/')}/alerts/{event.id}")
        body = "\n".join(lines)
        url = f"{site.site.rstrip('/')}/api/v1/matters/{client.case_uuid}/notes"
        message = Message(
            title=subject,
            text=body.strip(),
            html=body.strip(),
            markdown=body.strip(),
            data={
                "subject": subject,
                "body": body.strip(),
                "note_type": site.note_type,
                "key": key,
                "token": site.token,
                "look_first": look_first,
            },
        )
        return Outgoing([row.id], url, message, send=send_case_note)

    def sent(self, session: Session, delivery: Delivery, now: datetime, result: SendResult) -> None:
        event = session.get(Event, delivery.event_id)
        assert event is not None and event.id is not None and delivery.id is not None
        assert event.client_id is not None
        session.add(
            CaseNote(
                delivery_id=delivery.id,
                event_id=event.id,
                client_id=event.client_id,
                dedup_key=dedup_key(event.id),
                note_uuid=result.ref[:64],
                written_at=now,
            )
        )

    def given_up(
        self, session: Session, delivery: Delivery, result: SendResult, now: datetime
    ) -> None:
        event = session.get(Event, delivery.event_id)
        assert event is not None
        line = note(
            "case_note_failed",
            alert=delivery.event_id,
            client=event.client_id,
            attempts=delivery.attempts,
            error=result.error[:300],
        )
        emit(session, _admins(event, delivery, "case_note_failed", line, now), now)

    def uncertain(self, session: Session, delivery: Delivery, now: datetime) -> None:
        # Safe to try again: the retry looks for the note's key on the matter first.
        delivery.status, delivery.next_attempt_at = DeliveryStatus.pending.value, now
        delivery.last_error = "the service stopped while writing it: the retry looks first"
        session.add(delivery)


def _admins(
    event: Event, delivery: Delivery, kind_name: str, line: dict[str, object], now: datetime
) -> EventInput:
    return EventInput(
        kind=kind_name,
        subject_type="delivery",
        subject_key=str(delivery.id),
        dedup_key=f"{kind_name}:{delivery.id}",
        organization_id=event.organization_id,
        payload={"notes": [line]},
        occurred_at=now,
    )


# ------------------------------------------------------------------------------------ sending


def _error(answer: httpx.Response) -> str:
    try:
        said = answer.json()
    except ValueError:
        said = {}
    detail = said.get("error_message") or said.get("error") if isinstance(said, dict) else ""
    return f"HTTP {answer.status_code}" + (f": {str(detail)[:200]}" if detail else "")


def _found(client: httpx.Client, endpoint: str, key: str) -> str | None:
    """The id of a note on the matter whose subject carries ``key``, if any."""
    for page in range(1, SEARCH_PAGES + 1):
        answer = client.get(endpoint, params={"page_number": page, "page_size": 100})
        if answer.status_code != 200:
            raise httpx.HTTPStatusError(_error(answer), request=answer.request, response=answer)
        body: dict[str, Any] = answer.json()
        for item in body.get("data") or []:
            if key in str(item.get("subject", "")):
                return str(item.get("casenote_uuid") or item.get("id") or "found")
        if page >= int(body.get("total_number_of_pages") or 1):
            return None
    return None


def send_case_note(endpoint: str, message: Message) -> SendResult:
    """Write one case note (``endpoint``: the matter's notes), unless a retry finds it there."""
    data = message.data
    headers = {"authorization": f"Bearer {data['token']}", "user-agent": USER_AGENT}
    try:
        with httpx.Client(headers=headers, timeout=TIMEOUT, follow_redirects=False) as client:
            if data.get("look_first"):
                existing = _found(client, endpoint, str(data["key"]))
                if existing is not None:
                    log.info("case note %s was written by an earlier attempt", data["key"])
                    return SendResult(True, ref=existing)
            answer = client.post(
                endpoint,
                json={
                    "subject": data["subject"],
                    "body": data["body"],
                    "note_type": data["note_type"],
                },
            )
    except httpx.HTTPStatusError as exc:
        return SendResult(False, f"LegalServer notes search: {exc}")
    except httpx.HTTPError as exc:
        return SendResult(False, f"LegalServer: {type(exc).__name__}: {exc}")
    if answer.status_code in (200, 201):
        made = answer.json().get("data") or {}
        return SendResult(True, ref=str(made.get("casenote_uuid") or made.get("id") or ""))
    return SendResult(False, f"LegalServer: {_error(answer)}")
