"""The polling budget for the browser sources: who is looked up when, and why.

Every client has an urgency tier: checked **daily** when a hearing is within 7 days (or was held
in the last 7, so the next step is due), a decision's appeal window is open, or the client was
just transferred; **every 3 days** when a hearing is
within 30 days; **weekly** otherwise. A pending check request (a court closure, an assisted
refresh) puts the client at the front. Each run may spend the hour's budget
(``browser_lookups_per_hour``, only within ``browser_hours``): first the requests, then the clients
that are due (daily ones before every-3-days ones before weekly ones), then, with what is left,
clients by how far into their interval they are (a daily client 6 hours after its last check
ranks with a weekly one 42 hours after), never one less than a quarter into its interval. Spare
budget thus goes to the most urgent clients first, which is what catches a moved hearing early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import (
    AcisLookup,
    CheckRequest,
    Client,
    Event,
    Hearing,
)
from storage.sources import SOURCES, load

DAILY, EVERY_3_DAYS, WEEKLY = timedelta(days=1), timedelta(days=3), timedelta(days=7)
MIN_RATIO = 0.25
INF = float("inf")


@dataclass
class ClientState:
    client_id: int
    last_checked: datetime | None = None
    next_hearing: date | None = None
    appeal_open_until: date | None = None
    transferred_at: datetime | None = None
    requested_at: datetime | None = None  # a pending check request
    label: str = ""  # redacted, for display


@dataclass
class Planned:
    state: ClientState
    interval: timedelta
    reason: str
    ratio: float  # time since the last check / interval (inf: never checked, or requested)
    due_at: datetime | None
    requested: bool = False


def tier(state: ClientState, now: datetime, today: date) -> tuple[timedelta, str]:
    if state.next_hearing is not None and today <= state.next_hearing <= today + timedelta(7):
        return DAILY, f"hearing within 7 days ({state.next_hearing:%Y-%m-%d})"
    if state.next_hearing is not None and today - timedelta(7) <= state.next_hearing < today:
        # Held, as far as docketwatch knows: the next hearing or a decision is coming.
        return DAILY, f"hearing just held ({state.next_hearing:%Y-%m-%d})"
    if state.appeal_open_until is not None and state.appeal_open_until >= today:
        return DAILY, f"appeal window open until {state.appeal_open_until:%Y-%m-%d}"
    if state.transferred_at is not None and now - state.transferred_at <= timedelta(days=7):
        return DAILY, f"transferred {state.transferred_at:%Y-%m-%d}"
    if state.next_hearing is not None and today <= state.next_hearing <= today + timedelta(30):
        return EVERY_3_DAYS, f"hearing within 30 days ({state.next_hearing:%Y-%m-%d})"
    return WEEKLY, "no hearing within 30 days"


def rank(states: Sequence[ClientState], now: datetime, today: date) -> list[Planned]:
    """Every client with its tier and standing, most pressing first."""
    out = []
    for s in states:
        interval, reason = tier(s, now, today)
        requested = s.requested_at is not None and (
            s.last_checked is None or s.requested_at > s.last_checked
        )
        if requested:
            reason = "requested early check; " + reason
        if s.last_checked is None:
            ratio, due = float("inf"), None
        else:
            ratio = (now - s.last_checked) / interval
            due = s.last_checked + interval
        out.append(Planned(s, interval, reason, INF if requested else ratio, due, requested))
    # Due ones first, the most urgent tier first; then the rest by how far into their interval.
    # Requests first, then never-checked clients, then the due ones by tier, then the rest.
    out.sort(
        key=lambda p: (
            -p.requested,
            -(p.ratio == INF),
            -(p.ratio >= 1),
            p.interval,
            -p.ratio,
            p.state.client_id,
        )
    )
    return out


def choose(states: Sequence[ClientState], now: datetime, today: date, slots: int) -> list[Planned]:
    """The clients to look up now, within ``slots`` lookups."""
    return [p for p in rank(states, now, today) if p.ratio >= MIN_RATIO][: max(slots, 0)]


def in_browser_hours(hours: str, now: datetime, zone: str) -> bool:
    start, end = parse_hours(hours)
    hour = now.astimezone(ZoneInfo(zone)).hour
    return start <= hour < end if start < end else (hour >= start or hour < end)


def parse_hours(hours: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in hours.split("-"))
    except ValueError:
        raise ValueError(f"{hours!r} is not an hour range like 7-21") from None
    if not (0 <= a <= 23 and 1 <= b <= 24 and a != b):
        raise ValueError(f"{hours!r} is not an hour range like 7-21")
    return a, b


# -- from the database -------------------------------------------------------------------------


def load_states(session: Session, source: str, now: datetime) -> list[ClientState]:
    spec = SOURCES[source].browser
    if spec is None:
        raise ValueError(f"{source} is not a browser source: the planner has nothing to plan")
    lookup = load(spec.lookup_table)
    last = dict(
        session.exec(
            select(lookup.client_id, sa.func.max(lookup.observed_at)).group_by(
                col(lookup.client_id)
            )
        ).all()
    )
    hearings = dict(
        session.exec(
            select(Hearing.client_id, sa.func.min(Hearing.hearing_on))
            .where(
                col(Hearing.current).is_(True),
                col(Hearing.hearing_on) >= now.date() - timedelta(days=7),
            )
            .group_by(col(Hearing.client_id))
        ).all()
    )
    transferred = dict(
        session.exec(
            select(Event.client_id, sa.func.max(Event.occurred_at))
            .where(Event.kind == "client_transferred", col(Event.client_id).is_not(None))
            .group_by(col(Event.client_id))
        ).all()
    )
    requests = dict(
        session.exec(
            select(CheckRequest.client_id, sa.func.min(CheckRequest.requested_at))
            .where(CheckRequest.source == source, col(CheckRequest.done_at).is_(None))
            .group_by(col(CheckRequest.client_id))
        ).all()
    )
    appeals = _appeal_windows(session)
    out = []
    for c in session.exec(select(Client).where(col(Client.active).is_(True))):
        assert c.id is not None
        out.append(
            ClientState(
                client_id=c.id,
                last_checked=_aware(last.get(c.id)),
                next_hearing=hearings.get(c.id),
                appeal_open_until=appeals.get(c.id),
                transferred_at=_aware(transferred.get(c.id)),
                requested_at=_aware(requests.get(c.id)),
                label=f"client #{c.id} (***{c.a_number[-4:]})",
            )
        )
    return out


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _appeal_windows(session: Session) -> dict[int, date]:
    """Appeal deadlines from each client's newest successful ACIS lookup."""
    out: dict[int, date] = {}
    rows = session.exec(
        select(AcisLookup.client_id, AcisLookup.status)
        .where(AcisLookup.outcome == "ok")
        .order_by(col(AcisLookup.id))
    ).all()
    for client_id, status in rows:
        due = (status or {}).get("appeal_due_on") if isinstance(status, dict) else None
        if due:
            try:
                out[client_id] = date.fromisoformat(str(due))
            except ValueError:
                continue
        else:
            out.pop(client_id, None)
    return out


def mark_done(session: Session, source: str, client_ids: Sequence[int], now: datetime) -> None:
    if not client_ids:
        return
    for req in session.exec(
        select(CheckRequest).where(
            CheckRequest.source == source,
            col(CheckRequest.client_id).in_(list(client_ids)),
            col(CheckRequest.done_at).is_(None),
        )
    ):
        req.done_at = now
        session.add(req)
