"""What the web app's pages show, read from storage with each staff member's scope.

An attorney sees the clients they are primary or backup attorney of, and those clients' alerts
plus the alerts delivered to them; coordinators and admins see every client. A client outside
the scope is "not found", exactly like a client that does not exist (the web app answers 404,
so a URL cannot tell whether an A-number is a client of the program).

Names and A-numbers are shown as initials and the last four digits; the full ones only on an
audited reveal (:mod:`web.app`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from monitor.events import KINDS
from monitor.messages import initials
from storage.errors import NotFoundError
from storage.models import (
    AcisLookup,
    CheckRequest,
    Client,
    CrawlRun,
    CustodyLookup,
    Delivery,
    Event,
    Hearing,
    Staff,
    StaffRole,
)
from storage.sources import SOURCES


def last_four(a_number: str) -> str:
    return f"•••-•••-{a_number[-4:]}" if a_number else ""


def sees_every_client(staff: Staff | Any) -> bool:
    return staff.role in (StaffRole.coordinator.value, StaffRole.admin.value)


def _mine(staff_id: int) -> Any:
    return or_(
        col(Client.primary_attorney_id) == staff_id, col(Client.backup_attorney_id) == staff_id
    )


def visible_client(session: Session, role: str, staff_id: int, client_id: int) -> Client:
    """The client, when this staff member may see it; else NotFoundError (never 'forbidden')."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError("no such client")
    if role == StaffRole.attorney.value and staff_id not in (
        client.primary_attorney_id,
        client.backup_attorney_id,
    ):
        raise NotFoundError("no such client")
    return client


@dataclass
class ClientLine:
    id: int
    initials: str
    last_four: str
    status: str
    role: str  # primary / backup / "" (a coordinator's view)
    hearing: Hearing | None
    custody: CustodyLookup | None


def current_hearings(session: Session, client_ids: list[int]) -> dict[int, Hearing]:
    """Each client's next hearing as ACIS last showed it."""
    if not client_ids:
        return {}
    rows = session.exec(
        select(Hearing).where(
            col(Hearing.client_id).in_(client_ids), col(Hearing.current).is_(True)
        )
    )
    return {h.client_id: h for h in rows}


def latest_custody(session: Session, client_ids: list[int]) -> dict[int, CustodyLookup]:
    """Each client's last known custody (the newest lookup that answered)."""
    if not client_ids:
        return {}
    newest = (
        select(CustodyLookup.client_id, sa.func.max(CustodyLookup.id).label("id"))
        .where(col(CustodyLookup.client_id).in_(client_ids))
        .where(CustodyLookup.outcome == "ok")
        .group_by(col(CustodyLookup.client_id))
        .subquery()
    )
    rows = session.exec(select(CustodyLookup).join(newest, col(CustodyLookup.id) == newest.c.id))
    return {r.client_id: r for r in rows}


def client_lines(session: Session, role: str, staff_id: int, limit: int = 500) -> list[ClientLine]:
    """Clients in scope, with their current hearing and last known custody, soonest first."""
    query = select(Client).where(Client.active == True)  # noqa: E712
    if role == StaffRole.attorney.value:
        query = query.where(_mine(staff_id))
    clients = list(session.exec(query.limit(limit)))
    ids = [c.id for c in clients if c.id is not None]
    hearings = current_hearings(session, ids)
    custody = latest_custody(session, ids)
    lines = []
    for c in clients:
        assert c.id is not None
        mine = (
            "primary"
            if c.primary_attorney_id == staff_id
            else "backup"
            if c.backup_attorney_id == staff_id
            else ""
        )
        lines.append(
            ClientLine(
                c.id,
                initials(c.name),
                last_four(c.a_number),
                c.status,
                mine,
                hearings.get(c.id),
                custody.get(c.id),
            )
        )
    far = date.max
    lines.sort(key=lambda line: (line.hearing.hearing_on if line.hearing else far, line.initials))
    return lines


def _inbox_scope(role: str, staff_id: int) -> Any:
    if role != StaffRole.attorney.value:
        return sa.true()
    delivered = select(Delivery.event_id).where(Delivery.staff_id == staff_id)
    mine = select(Client.id).where(_mine(staff_id))
    return or_(col(Event.id).in_(delivered), col(Event.client_id).in_(mine))


@dataclass(frozen=True)
class InboxFilter:
    kind: str = ""
    severity: str = ""
    client_id: int | None = None
    acknowledged: str = "no"  # no, yes, all


def inbox(
    session: Session, role: str, staff_id: int, flt: InboxFilter, limit: int = 200
) -> list[tuple[Event, Client | None]]:
    query = (
        select(Event, Client)
        .join(Client, col(Event.client_id) == col(Client.id), isouter=True)
        .where(_inbox_scope(role, staff_id))
    )
    if flt.kind:
        query = query.where(Event.kind == flt.kind)
    if flt.severity:
        query = query.where(Event.severity == flt.severity)
    if flt.client_id is not None:
        query = query.where(Event.client_id == flt.client_id)
    if flt.acknowledged == "no":
        query = query.where(col(Event.acknowledged_at).is_(None))
    elif flt.acknowledged == "yes":
        query = query.where(col(Event.acknowledged_at).is_not(None))
    query = query.order_by(col(Event.created_at).desc(), col(Event.id).desc()).limit(limit)
    return [(e, c) for e, c in session.exec(query)]


def may_acknowledge(session: Session, role: str, staff_id: int, event_id: int) -> Event:
    event = session.exec(
        select(Event).where(Event.id == event_id, _inbox_scope(role, staff_id))
    ).first()
    if event is None:
        raise NotFoundError("no such alert")
    return event


@dataclass
class ClientHistory:
    client: Client
    hearings: list[Hearing]
    lookups: list[AcisLookup]
    custody: list[CustodyLookup]
    events: list[tuple[Event, list[tuple[Delivery, str]]]]
    pending_check: CheckRequest | None
    blocked: bool  # the newest ACIS lookups are blocked: the assisted refresh applies


def client_history(session: Session, client: Client, limit: int = 100) -> ClientHistory:
    cid = client.id

    def newest(table: Any, order: Any) -> list[Any]:
        query = select(table).where(table.client_id == cid).order_by(*order).limit(limit)
        return list(session.exec(query))

    hearings = newest(Hearing, (col(Hearing.seen_at).desc(), col(Hearing.id).desc()))
    lookups = newest(AcisLookup, (col(AcisLookup.id).desc(),))
    custody = newest(CustodyLookup, (col(CustodyLookup.id).desc(),))
    events = newest(Event, (col(Event.id).desc(),))
    deliveries: dict[int, list[tuple[Delivery, str]]] = {}
    if events:
        rows = session.exec(
            select(Delivery, Staff.email)
            .join(Staff, col(Staff.id) == col(Delivery.staff_id))
            .where(col(Delivery.event_id).in_([e.id for e in events]))
            .order_by(col(Delivery.id))
        )
        for d, email in rows:
            assert d.event_id is not None  # a staff member's delivery always has its event
            deliveries.setdefault(d.event_id, []).append((d, email))
    pending = session.exec(
        select(CheckRequest).where(
            CheckRequest.client_id == cid, col(CheckRequest.done_at).is_(None)
        )
    ).first()
    recent = [x.outcome for x in lookups[:3]]
    blocked = bool(recent) and recent[0] == "blocked"
    return ClientHistory(
        client,
        hearings,
        lookups,
        custody,
        [(e, deliveries.get(e.id or 0, [])) for e in events],
        pending,
        blocked,
    )


def request_check(
    session: Session,
    client: Client,
    source: str,
    by: str,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Queue an early check of ``client`` on ``source`` (once: a pending request is kept)."""
    assert client.id is not None
    pending = session.exec(
        select(CheckRequest).where(
            CheckRequest.client_id == client.id,
            CheckRequest.source == source,
            col(CheckRequest.done_at).is_(None),
        )
    ).first()
    if pending is not None:
        return False
    session.add(
        CheckRequest(
            client_id=client.id,
            source=source,
            reason=(reason or f"asked on the web by {by}")[:200],
            requested_at=now,
        )
    )
    return True


def age(when: datetime | None, now: datetime) -> str:
    """How long ago, in words (never, 40 s ago, 12 min ago, 3.5 h ago, 2.0 days ago)."""
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


@dataclass
class SourceLine:
    name: str
    every: timedelta
    last: CrawlRun | None
    last_ok: CrawlRun | None
    freshness: str  # fresh, OVERDUE (no ok run in twice the interval), disabled
    next_run: datetime | None
    runs: list[CrawlRun]

    def record(self, now: datetime) -> dict[str, Any]:
        """The line as ``docketwatch status`` shows it."""
        ok_at = self.last_ok.finished_at if self.last_ok else None
        return {
            "source": self.name,
            "every": str(self.every),
            "last_run": self.last.started_at.isoformat(timespec="seconds") if self.last else "",
            "outcome": self.last.outcome if self.last else "",
            "last_ok": age(ok_at, now),
            "freshness": self.freshness,
            "next_run": self.next_run.isoformat(timespec="seconds") if self.next_run else "",
            "message": self.last.message[:100] if self.last else "",
        }


def source_lines(
    session: Session, settings: Any, now: datetime, per_source: int = 10
) -> list[SourceLine]:
    """Each source's recent runs, last good run, freshness and next scheduled run."""
    from monitor.source_health import overdue
    from storage.models import APSCHEDULER_JOBS

    next_runs = {
        row.id: datetime.fromtimestamp(row.next_run_time, UTC)
        for row in session.execute(sa.select(APSCHEDULER_JOBS)).all()
        if row.next_run_time is not None
    }
    lines = []
    for name, spec in SOURCES.items():
        runs = list(
            session.exec(
                select(CrawlRun)
                .where(CrawlRun.source == name)
                .order_by(col(CrawlRun.id).desc())
                .limit(per_source)
            )
        )
        last_ok = session.exec(
            select(CrawlRun)
            .where(CrawlRun.source == name, CrawlRun.outcome == "ok")
            .order_by(col(CrawlRun.id).desc())
            .limit(1)
        ).first()
        every = spec.interval(settings)
        ok_at = last_ok.finished_at if last_ok else None
        fresh = "OVERDUE" if overdue(ok_at, every, now) else "fresh"
        if name not in settings.sources:
            fresh = "disabled"
        lines.append(
            SourceLine(
                name,
                every,
                runs[0] if runs else None,
                last_ok,
                fresh,
                next_runs.get(f"source:{name}"),
                runs,
            )
        )
    return lines


@dataclass
class ChannelLine:
    staff: str
    channel: str  # masked
    active: bool
    failing: bool
    last_sent_at: datetime | None
    last_error: str


def channel_lines(session: Session) -> list[ChannelLine]:
    """Every alert channel: failing or not, its last delivery sent and its last error."""
    from storage.models import StaffChannel
    from storage.settings import mask_channel

    sent = dict(
        session.exec(
            select(Delivery.channel_id, sa.func.max(Delivery.sent_at))
            .where(col(Delivery.sent_at).is_not(None))
            .group_by(col(Delivery.channel_id))
        ).all()
    )
    last_failed = (
        select(sa.func.max(Delivery.id))
        .where(Delivery.last_error != "")
        .group_by(col(Delivery.channel_id))
        .scalar_subquery()
    )
    errors = dict(
        session.exec(
            select(Delivery.channel_id, Delivery.last_error).where(
                col(Delivery.id).in_(last_failed)
            )
        ).all()
    )
    rows = session.exec(
        select(StaffChannel, Staff.email)
        .join(Staff, col(Staff.id) == col(StaffChannel.staff_id))
        .order_by(col(Staff.email), col(StaffChannel.id))
    )
    return [
        ChannelLine(
            email,
            mask_channel(c.url),
            c.active,
            c.failing,
            sent.get(c.id or 0),
            errors.get(c.id or 0, "")[:200] if c.failing else "",
        )
        for c, email in rows
    ]


def foia_releases(session: Session, limit: int = 10) -> list[tuple[Any, int]]:
    """The newest FOIA releases with how many rows each one quarantined."""
    from storage.models import FoiaQuarantine, FoiaRelease

    releases = list(
        session.exec(select(FoiaRelease).order_by(col(FoiaRelease.id).desc()).limit(limit))
    )
    counts = dict(
        session.exec(
            select(FoiaQuarantine.release_id, sa.func.count())
            .where(col(FoiaQuarantine.release_id).in_([r.id for r in releases]))
            .group_by(col(FoiaQuarantine.release_id))
        ).all()
    )
    return [(r, counts.get(r.id or 0, 0)) for r in releases]


def blocked_clients(session: Session, limit: int = 200) -> list[tuple[Client, AcisLookup]]:
    """Clients whose newest ACIS lookup was blocked (a captcha, or no request minted)."""
    newest = (
        select(AcisLookup.client_id, sa.func.max(AcisLookup.id).label("id"))
        .group_by(col(AcisLookup.client_id))
        .subquery()
    )
    rows = session.exec(
        select(Client, AcisLookup)
        .join(newest, newest.c.client_id == col(Client.id))
        .join(AcisLookup, col(AcisLookup.id) == newest.c.id)
        .where(AcisLookup.outcome == "blocked")
        .limit(limit)
    )
    return [(c, lk) for c, lk in rows]


def event_kinds() -> list[str]:
    return sorted(KINDS)
