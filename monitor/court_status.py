"""Court closures and judge changes, from EOIR's status page and the Adelanto court page.

A court whose status turns CLOSED: every active client with a current hearing at that court on
the affected days (the days the status text names, or else today and the next
``court_status_closure_days`` days) gets one urgent ``court_closed`` alert for their attorney; the
hearing is marked unverified and an early ACIS check of the client is requested; the
coordinators get one ``court_closed_summary``. When the court opens again, the clients whose
hearings were unverified get ``court_reopened``. A judge added to or removed from the Adelanto
court page makes ``court_judges_changed`` for coordinators. The first run is a baseline for
judges; a court already closed on the first run still alerts (a closure is never old news for a
hearing on that day).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, client_event, note
from monitor.route import emit
from storage.models import (
    CheckRequest,
    Client,
    CourtJudge,
    CourtStatus,
    Hearing,
)
from storage.settings import Settings
from storage.snapshots import CourtRow

log = logging.getLogger(__name__)


def _affected_days(row: CourtRow, today: date, window: int) -> list[date]:
    if row.closed_days:
        return [d for d in row.closed_days if d >= today] or row.closed_days
    return [today + timedelta(days=i) for i in range(window + 1)]


def apply_statuses(
    session: Session, rows: list[CourtRow], now: datetime, settings: Settings
) -> Counter[str]:
    """Store the statuses and raise the events their changes call for."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    counts: Counter[str] = Counter()
    for row in rows:
        stored = session.get(CourtStatus, row.slug)
        was_closed = stored.closed if stored is not None else False
        days = _affected_days(row, today, settings.court_status_closure_days) if row.closed else []
        days_text = ",".join(d.isoformat() for d in days)
        changed = stored is None or stored.status_text != row.status[:1000]
        if stored is None:
            stored = CourtStatus(slug=row.slug, name=row.name[:120], seen_at=now, changed_at=now)
        stored.name, stored.court_code = row.name[:120], row.code
        stored.address, stored.seen_at = row.address[:300], now
        if changed:
            stored.changed_at = now
        stored.status_text, stored.closed = row.status[:1000], row.closed
        stored.closed_days = days_text[:300]
        session.add(stored)
        if not row.code:
            continue  # a court none of the clients' hearings can be at
        change = StatusChange(row, days, changed, was_closed)
        for rule in RULES:
            counts.update(rule(session, change, now))
    return counts


@dataclass(frozen=True)
class StatusChange:
    """A court's status as this run read it, beside what was stored before."""

    row: CourtRow
    days: list[date]  # the days a closure affects
    changed: bool  # the status text differs from the stored one
    was_closed: bool


def _hearing_payload(h: Hearing) -> dict[str, object]:
    return {
        "date": h.hearing_on.isoformat(),
        "time": h.hearing_time,
        "court": h.court_code,
        "judge": h.judge,
        "timezone": h.timezone,
    }


def closed(session: Session, change: StatusChange, now: datetime) -> Counter[str]:
    """A court closed (or its closure's text changed): each client with a hearing there on an
    affected day, and the coordinators' summary."""
    counts: Counter[str] = Counter()
    row, days = change.row, change.days
    if not row.closed or not (change.changed or not change.was_closed):
        return counts
    tag = hashlib.sha256(row.status.encode()).hexdigest()[:10]
    hearings = session.exec(
        select(Hearing, Client)
        .join(Client, col(Client.id) == col(Hearing.client_id))
        .where(
            col(Hearing.current).is_(True),
            Hearing.court_code == row.code,
            col(Hearing.hearing_on).in_(days),
            col(Client.active).is_(True),
        )
        .order_by(col(Hearing.hearing_on), col(Hearing.client_id))
    ).all()
    items = []
    for hearing, client in hearings:
        assert client.id is not None
        hearing.verified = False
        session.add(hearing)
        session.add(
            CheckRequest(
                client_id=client.id,
                source="acis",
                reason=f"court {row.code} closed on {hearing.hearing_on:%Y-%m-%d}",
                requested_at=now,
            )
        )
        line = note("court_closed", court=row.name, status=row.status[:300])
        proposed = client_event(
            "court_closed",
            client.id,
            "",
            now,
            dedup_key=f"court_closed:{row.code}:{client.id}:{hearing.hearing_on}:{tag}",
            group=f"court_status:{row.code}:{client.id}:{tag}",
            notes=[line],
            hearing=_hearing_payload(hearing),
            court=row.code,
        )
        event = emit(session, proposed, now)
        if event is not None:
            counts["court_closed"] += 1
        items.append(
            {
                "client": client.id,
                "hearing": f"{hearing.hearing_on:%Y-%m-%d} {hearing.hearing_time}".strip(),
                "judge": hearing.judge,
            }
        )
    summary = emit(
        session,
        EventInput(
            kind="court_closed_summary",
            subject_type="court",
            subject_key=row.code,
            dedup_key=f"court_closed_summary:{row.code}:{tag}",
            payload={
                "notes": [
                    note(
                        "court_closed_summary",
                        court=f"{row.name} ({row.code})",
                        status=row.status[:300],
                        days=", ".join(d.isoformat() for d in days),
                        hearings=len(items),
                    )
                ],
                "items": items,
                "court": row.code,
            },
            occurred_at=now,
        ),
        now,
    )
    if summary is not None:
        counts["court_closed_summary"] += 1
    return counts


def reopened(session: Session, change: StatusChange, now: datetime) -> Counter[str]:
    """A closed court open again: the clients whose hearings the closure left unverified."""
    counts: Counter[str] = Counter()
    row = change.row
    if not change.was_closed or row.closed:
        return counts
    hearings = session.exec(
        select(Hearing).where(
            col(Hearing.current).is_(True),
            Hearing.court_code == row.code,
            col(Hearing.verified).is_(False),
        )
    ).all()
    for hearing in hearings:
        proposed = client_event(
            "court_reopened",
            hearing.client_id,
            "",
            now,
            dedup_key=f"court_reopened:{row.code}:{hearing.client_id}:{now:%Y%m%dT%H%M}",
            notes=[note("court_reopened", court=row.name)],
            hearing=_hearing_payload(hearing),
            court=row.code,
        )
        event = emit(session, proposed, now)
        if event is not None:
            counts["court_reopened"] += 1
    return counts


RULES = [closed, reopened]


def apply_judges(session: Session, court: str, judges: list[str], now: datetime) -> Counter[str]:
    current = session.exec(
        select(CourtJudge).where(
            CourtJudge.court_code == court, col(CourtJudge.removed_at).is_(None)
        )
    ).all()
    first_run = (
        session.exec(
            select(sa.func.count()).select_from(CourtJudge).where(CourtJudge.court_code == court)
        ).one()
        == 0
    )
    names = {j.name for j in current}
    added = [j for j in judges if j not in names]
    removed = [j for j in current if j.name not in set(judges)]
    for name in added:
        session.add(CourtJudge(court_code=court, name=name[:120], first_seen=now))
    for judge in removed:
        judge.removed_at = now
        session.add(judge)
    if first_run or not (added or removed):
        return Counter()
    notes = []
    if added:
        notes.append(note("judges_added", court=court, names="; ".join(added)))
    if removed:
        notes.append(note("judges_removed", court=court, names="; ".join(j.name for j in removed)))
    key = hashlib.sha256("|".join(sorted(judges)).encode()).hexdigest()[:12]
    event = emit(
        session,
        EventInput(
            kind="court_judges_changed",
            subject_type="court",
            subject_key=court,
            dedup_key=f"court_judges_changed:{court}:{key}",
            payload={"notes": notes, "court": court},
            occurred_at=now,
        ),
        now,
    )
    return Counter({"court_judges_changed": 1 if event is not None else 0})
