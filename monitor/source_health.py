"""Source health: crawl runs in, source_unhealthy / source_recovered events (admins only) out.

A source is unhealthy after ``threshold`` consecutive failing runs (blocked, layout_changed,
failed); the admins hear once, and hear again when a run succeeds. Failing runs never make a
client event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.route import emit
from storage.models import CrawlOutcome, CrawlRun, Event

FAILING = {
    CrawlOutcome.blocked.value,
    CrawlOutcome.layout_changed.value,
    CrawlOutcome.failed.value,
    CrawlOutcome.timed_out.value,
}
#: a source is overdue when its last ok run is older than this many of its intervals
OVERDUE_INTERVALS = 2


def overdue(since: datetime | None, interval: timedelta, now: datetime) -> bool:
    """The watchdog's rule, also shown by ``status``: no ok run for twice the interval."""
    return since is None or now - since > OVERDUE_INTERVALS * interval


def _last_health_event(session: Session, source: str) -> Event | None:
    return session.exec(
        select(Event)
        .where(Event.subject_type == "source", Event.subject_key == source)
        .where(col(Event.kind).in_(["source_unhealthy", "source_recovered"]))
        .order_by(col(Event.id).desc())
    ).first()


def check_source(session: Session, source: str, now: datetime, threshold: int = 3) -> str | None:
    """Emit source_unhealthy or source_recovered when the recent runs call for it."""
    runs = list(
        session.exec(
            select(CrawlRun)
            .where(CrawlRun.source == source, CrawlRun.outcome != CrawlOutcome.running.value)
            .order_by(col(CrawlRun.id).desc())
            .limit(threshold)
        )
    )
    if not runs:
        return None
    last = _last_health_event(session, source)
    unhealthy = last is not None and last.kind == "source_unhealthy"
    if len(runs) == threshold and all(r.outcome in FAILING for r in runs) and not unhealthy:
        emit(
            session,
            EventInput(
                kind="source_unhealthy",
                subject_type="source",
                subject_key=source,
                dedup_key=f"source_unhealthy:{source}:{runs[0].id}",
                payload={
                    "notes": [note("source_failing", source=source, runs=threshold)]
                    + [
                        note(
                            "source_run",
                            at=f"{r.started_at:%Y-%m-%d %H:%M}",
                            outcome=r.outcome,
                            message=r.message[:300],
                        )
                        for r in reversed(runs)
                    ],
                    "source": source,
                    "outcome": runs[0].outcome,
                },
                occurred_at=now,
            ),
            now,
        )
        return "source_unhealthy"
    if unhealthy and runs[0].outcome not in FAILING:
        emit(
            session,
            EventInput(
                kind="source_recovered",
                subject_type="source",
                subject_key=source,
                dedup_key=f"source_recovered:{source}:{runs[0].id}",
                payload={
                    "notes": [
                        note(
                            "source_recovered",
                            source=source,
                            at=f"{runs[0].started_at:%Y-%m-%d %H:%M}",
                            outcome=runs[0].outcome,
                        )
                    ],
                    "source": source,
                },
                occurred_at=now,
            ),
            now,
        )
        return "source_recovered"
    return None
