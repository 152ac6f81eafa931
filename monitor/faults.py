"""The service's own faults: remembered in memory while they last, told to admins once the
database takes writes again.

A fault is what stopped a job or the scheduler's bookkeeping: the database locked past its wait,
a full disk, a job that raised. While the database is the thing failing, nothing can be written,
so each fault is kept here (by cause: every database error is one fault, whichever job met it)
with when it started, when it was last seen, how often and the last message (redacted). The first
job that writes successfully afterwards (the heartbeat) turns each into one ``service_fault``
event for admins, delivered through the outbox like any alert.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from monitor.events import EventInput, note
from monitor.route import emit
from storage.db import session_scope
from storage.logs import redact

log = logging.getLogger(__name__)


@dataclass
class Fault:
    cause: str  # "database", or "job NAME" for any other error
    first: datetime
    last: datetime
    count: int = 0
    message: str = ""
    where: set[str] = field(default_factory=set)  # the jobs (or bookkeeping) it stopped

    def note(self, ended: datetime) -> dict[str, object]:
        """The message's line: a registered template, this fault's figures."""
        return note(
            "service_fault",
            cause=self.cause,
            count=self.count,
            first=f"{self.first:%Y-%m-%d %H:%M:%S}",
            last=f"{ended:%H:%M:%S}",
            seconds=round((ended - self.first).total_seconds()),
            where=", ".join(sorted(self.where))[:300],
            error=self.message,
        )


def cause_of(exc: BaseException, where: str) -> str:
    return "database" if isinstance(exc, sa.exc.DBAPIError) else f"job {where}"


class FaultJournal:
    """Faults not yet told to admins. Thread-safe: jobs run in the scheduler's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Fault] = {}

    def record(self, where: str, exc: BaseException, now: datetime) -> None:
        cause = cause_of(exc, where)
        # A database error's own words ("database is locked"), not SQLAlchemy's wrapping.
        inner = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig else exc
        lines = f"{type(inner).__name__}: {inner}".splitlines() or [type(inner).__name__]
        message = redact(lines[0])[:300]
        with self._lock:
            fault = self._open.setdefault(cause, Fault(cause, now, now))
            fault.last, fault.message = now, message
            fault.count += 1
            fault.where.add(where)
        log.warning("service fault (%s, in %s): %s", cause, where, message)

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._open.values())

    def flush(self, engine: sa.Engine, now: datetime) -> int:
        """Tell admins of every fault seen so far; those told are forgotten. A failure to
        write leaves them for the next try (and is itself not recorded twice)."""
        faults = self.pending()
        if not faults:
            return 0
        with session_scope(engine) as session:
            for fault in faults:
                emit(
                    session,
                    EventInput(
                        kind="service_fault",
                        subject_type="source",
                        subject_key="service",
                        dedup_key=f"service_fault:{fault.cause}:{fault.first.isoformat()}"[:200],
                        payload={"notes": [fault.note(now)], "cause": fault.cause},
                        occurred_at=fault.first,
                    ),
                    now,
                )
        with self._lock:
            for fault in faults:
                current = self._open.get(fault.cause)
                if current is fault:
                    del self._open[fault.cause]
        log.info("told admins of %d service fault(s)", len(faults))
        return len(faults)
