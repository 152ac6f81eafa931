"""Calendar feeds: an attorney's clients' hearings as an iCalendar feed that Outlook and Google
Calendar subscribe to.

Each staff member can be given a secret address (``docketwatch staff calendar EMAIL``); only the
SHA-256 of its secret is stored, so the database cannot give the address away, and issuing a new
one (or ``--revoke``) makes the old one answer 404.

A client's *next hearing* is one calendar event for as long as it is the same hearing: when it
moves, the event keeps its UID and gets the new date and time with a higher SEQUENCE, so the
subscribed calendar updates it in place; when ACIS shows no upcoming hearing any more, the event
is sent as CANCELLED. A hearing that has taken place stays in the feed (for 90 days) and the
next one is a new event. Times are court-local, with the court's time zone. The summary names
the client by initials and the last four A-number digits, unless one of the staff member's
channels may carry personal data (the same rule as alerts). Hearings a client's federal docket
sets (``federal_hearing_set``) are events too, moved the same way when an entry resets them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.messages import LABELS, who
from storage.errors import NotFoundError
from storage.models import (
    Client,
    Court,
    FederalCase,
    FederalHearing,
    Hearing,
    Staff,
    StaffChannel,
)
from storage.urls import https_only

KEEP_PAST_DAYS = 90
HEARING_MINUTES = 60  # EOIR gives a start time only


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, email: str) -> str:
    """A new secret for ``email``'s feed address (the old address stops working)."""
    staff = _staff(session, email)
    token = secrets.token_urlsafe(32)
    staff.calendar_token_digest = _digest(token)
    session.add(staff)
    return token


def revoke(session: Session, email: str) -> None:
    staff = _staff(session, email)
    staff.calendar_token_digest = None
    session.add(staff)


def _staff(session: Session, email: str) -> Staff:
    staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
    if staff is None:
        raise NotFoundError(f"no staff member with email {email.strip().lower()!r}")
    return staff


def staff_for(session: Session, token: str) -> Staff | None:
    """The active staff member whose feed ``token`` opens, if any."""
    if not token or len(token) > 100:
        return None
    staff = session.exec(select(Staff).where(Staff.calendar_token_digest == _digest(token))).first()
    return staff if staff is not None and staff.active else None


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


@dataclass
class _Chain:
    """The rows of one hearing of one client, as ACIS showed it lookup after lookup."""

    first_id: int
    rows: list[Hearing]


def _chains(rows: list[Hearing]) -> list[_Chain]:
    """Rows in order; a new hearing starts when the previous one's date had passed by the time
    the next row was seen (it was held), otherwise the next row is the same hearing, maybe moved."""
    chains: list[_Chain] = []
    for row in rows:
        if chains:
            last = chains[-1].rows[-1]
            seen = row.seen_at.astimezone(ZoneInfo(last.timezone or "UTC")).date()
            if last.hearing_on >= seen:
                chains[-1].rows.append(row)
                continue
        assert row.id is not None
        chains.append(_Chain(row.id, [row]))
    return chains


def _start(row: Hearing) -> datetime | date:
    if row.starts_at is not None and row.timezone:
        return row.starts_at.astimezone(ZoneInfo(row.timezone))
    return row.hearing_on


def feed(session: Session, staff: Staff, now: datetime) -> bytes:
    """The iCalendar feed of ``staff``'s clients' hearings (primary or backup attorney)."""
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

    lang = staff.language if staff.language in LABELS else "en"
    labels = LABELS[lang]
    personal = bool(
        session.exec(
            select(StaffChannel.id).where(
                StaffChannel.staff_id == staff.id,
                col(StaffChannel.active),
                col(StaffChannel.allow_personal_data),
            )
        ).first()
    )
    clients = session.exec(
        select(Client).where(
            sa.or_(
                col(Client.primary_attorney_id) == staff.id,
                col(Client.backup_attorney_id) == staff.id,
            )
        )
    ).all()
    courts = {c.code: c.name for c in session.exec(select(Court))}
    cal = Calendar()
    cal.add("prodid", "-//docketwatch//hearings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"docketwatch · {staff.name}")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    horizon = now.date() - timedelta(days=KEEP_PAST_DAYS)
    by_client: dict[int, list[Hearing]] = {}
    for row in session.exec(  # one query for every client's rows, oldest first
        select(Hearing)
        .where(col(Hearing.client_id).in_([c.id for c in clients]), Hearing.source == "acis")
        .order_by(col(Hearing.id))
    ):
        by_client.setdefault(row.client_id, []).append(row)
    for client in clients:
        assert client.id is not None
        rows = by_client.get(client.id, [])
        for chain in _chains(rows):
            last = chain.rows[-1]
            if last.hearing_on < horizon:
                continue
            shown = {(r.hearing_on, r.hearing_time, r.court_code, r.location) for r in chain.rows}
            cancelled = not last.current and last is rows[-1] and last.hearing_on >= now.date()
            event = CalendarEvent()
            event.add("uid", f"hearing-{client.id}-{chain.first_id}@docketwatch")
            event.add("sequence", len(shown) - 1)
            event.add("dtstamp", now)
            event.add("last-modified", last.seen_at)
            start = _start(last)
            event.add("dtstart", start)
            if isinstance(start, datetime):
                event.add("dtend", start + timedelta(minutes=HEARING_MINUTES))
            else:
                event.add("dtend", start + timedelta(days=1))
            court = courts.get(last.court_code, last.court_code)
            subject = who(client, personal)
            event.add("summary", f"{labels['hearing']}: {subject} · {last.court_code}")
            event.add("location", ", ".join(p for p in (court, last.location) if p))
            lines = [f"{labels['court']}: {court} ({last.court_code})"]
            for key, value in (
                ("judge", last.judge),
                ("medium", last.medium),
                ("webex", https_only(last.webex)),
            ):
                if value:
                    lines.append(f"{labels[key]}: {value}")
            event.add("description", "\n".join(lines))
            if cancelled:
                event.add("status", "CANCELLED")
            else:
                event.add("status", "CONFIRMED" if last.verified else "TENTATIVE")
            cal.add_component(event)
    for component in _federal_events(session, clients, personal, lang, now, horizon):
        cal.add_component(component)
    cal.add_missing_timezones()
    body: bytes = cal.to_ical()
    return body


def _federal_events(
    session: Session,
    clients: Sequence[Client],
    personal: bool,
    lang: str,
    now: datetime,
    horizon: date,
) -> list[Any]:
    """The hearings the clients' federal dockets set: one event per hearing, moved (same UID,
    higher SEQUENCE) when an entry resets it before it is held; the next one is a new event."""
    from icalendar import Event as CalendarEvent

    by_id = {c.id: c for c in clients}
    links = session.exec(
        select(FederalCase).where(
            col(FederalCase.client_id).in_(list(by_id)),
            col(FederalCase.active),
            col(FederalCase.docket_id).is_not(None),
        )
    ).all()
    by_docket: dict[int, list[FederalHearing]] = {}
    for row in session.exec(  # one query for every linked docket's hearings, oldest first
        select(FederalHearing)
        .where(col(FederalHearing.docket_id).in_([c.docket_id for c in links]))
        .order_by(col(FederalHearing.id))
    ):
        by_docket.setdefault(row.docket_id, []).append(row)
    out = []
    for case in links:
        assert case.docket_id is not None
        rows = by_docket.get(case.docket_id, [])
        chains: list[list[FederalHearing]] = []
        for row in rows:
            if chains and chains[-1][-1].hearing_on >= row.seen_at.date():
                chains[-1].append(row)
            else:
                chains.append([row])
        for chain in chains:
            last = chain[-1]
            if last.hearing_on < horizon:
                continue
            event = CalendarEvent()
            event.add("uid", f"federal-{case.client_id}-{case.docket_id}-{chain[0].id}@docketwatch")
            event.add("sequence", len({(r.hearing_on, r.starts_at) for r in chain}) - 1)
            event.add("dtstamp", now)
            event.add("last-modified", last.seen_at)
            if last.starts_at is not None:
                event.add("dtstart", last.starts_at)  # UTC: the court's local time, converted
                event.add("dtend", last.starts_at + timedelta(minutes=HEARING_MINUTES))
            else:
                event.add("dtstart", last.hearing_on)
                event.add("dtend", last.hearing_on + timedelta(days=1))
            subject = who(by_id[case.client_id], personal)
            label = LABELS[lang]["federal_court"]
            event.add("summary", f"{label}: {subject} · {case.court} {case.docket_number}")
            event.add("description", last.what)
            event.add("status", "CONFIRMED")
            out.append(event)
    return out


def feed_for_token(engine: sa.Engine, token: str, now: datetime | None = None) -> bytes | None:
    """The feed a token opens, or None (unknown, revoked, or its staff member inactive)."""
    with Session(engine) as session:
        staff = staff_for(session, token)
        if staff is None:
            return None
        return feed(session, staff, now or datetime.now(UTC))
