"""ACIS lookups: store each one, then turn what changed into client events.

:func:`record` keeps every answer (raw body, hash, language, outcome) and, for a hit, the
client's current Hearing row. :func:`detect` compares the newest ok lookup with the previous ok
one. Lookups that failed for reasons of the source (blocked, upstream_error, layout_changed)
are stored for the record but never make a client event: they count toward source health.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.detect import hearing_changes
from monitor.events import EventInput, client_event, note
from monitor.route import emit
from storage.bulk import table
from storage.models import AcisLookup, Client, ClientStatus, UTCDateTime
from storage.snapshots import CASE_OUTCOMES, HearingSnapshot, Outcome

APPEAL_WARNING_DAYS = 10


class Seen(NamedTuple):
    id: int
    outcome: str
    hearing: dict[str, Any] | None
    status: dict[str, Any] | None
    observed_at: datetime


@dataclass(frozen=True)
class WatchSettings:
    not_found_repeats: int = 2  # consecutive not_found lookups before case_not_found
    lead_courts: tuple[str, ...] = ("ADL",)  # courts whose new prospects coordinators hear of


def _snapshot(data: dict[str, Any] | None) -> HearingSnapshot | None:
    return HearingSnapshot(**data) if data else None


@dataclass(frozen=True)
class Facts:
    """What the rules read: the client's recent case lookups (newest first) and the moment."""

    client: Client
    lookups: list[Seen]  # case outcomes only, newest first, at least one
    now: datetime
    today: date
    settings: WatchSettings

    @property
    def newest(self) -> Seen:
        return self.lookups[0]

    @property
    def client_id(self) -> int:
        assert self.client.id is not None
        return self.client.id

    @property
    def group(self) -> str:  # one message per recipient for the events of one lookup
        return f"acis:{self.client_id}:{self.newest.id}"

    @property
    def previous_ok(self) -> Seen | None:
        return next((x for x in self.lookups[1:] if x.outcome == Outcome.ok.value), None)

    @property
    def status(self) -> dict[str, Any]:
        return self.newest.status or {}

    @property
    def before(self) -> dict[str, Any]:
        return (self.previous_ok.status if self.previous_ok else None) or {}

    def event(self, kind: str, key: str, **payload: Any) -> EventInput:
        return client_event(kind, self.client_id, key, self.now, group=self.group, **payload)


Rule = Callable[[Facts], list[EventInput]]


def case_not_found(f: Facts) -> list[EventInput]:
    """A case ACIS found before and now does not, ``not_found_repeats`` lookups in a row."""
    if f.newest.outcome != Outcome.not_found.value:
        return []
    streak = next(
        (i for i, x in enumerate(f.lookups) if x.outcome != Outcome.not_found.value), len(f.lookups)
    )
    last_ok = next((x for x in f.lookups if x.outcome == Outcome.ok.value), None)
    if last_ok is None or streak < f.settings.not_found_repeats:
        return []
    line = note("case_not_found", lookups=streak, last_found=f"{last_ok.observed_at:%Y-%m-%d}")
    return [f.event("case_not_found", f"after:{last_ok.id}", notes=[line])]


def hearing_changed(f: Facts) -> list[EventInput]:
    """The next hearing scheduled, moved, removed or changed since the last found case."""
    if f.newest.outcome != Outcome.ok.value or f.previous_ok is None:
        return []
    return hearing_changes(
        f.client_id,
        _snapshot(f.previous_ok.hearing),
        _snapshot(f.newest.hearing),
        f.now,
        basis=f"{f.previous_ok.id}>{f.newest.id}",
        group_key=f.group,
    )


def decision_entered(f: Facts) -> list[EventInput]:
    """A decision code that the last found case did not have."""
    code = f.status.get("decision_code")
    if f.newest.outcome != Outcome.ok.value or f.previous_ok is None:
        return []
    if not code or code == f.before.get("decision_code"):
        return []
    old = f.before.get("decision_text") or f.before.get("decision_code") or None
    change = {"field": "decision", "old": old, "new": f.status.get("decision_text") or code}
    dates = note(
        "decision_dates",
        completed=f.status.get("completed_on") or "?",
        appeal_due=f.status.get("appeal_due_on") or "?",
    )
    key = f"{code}:{f.status.get('completed_on')}"
    return [f.event("decision_entered", key, changes=[change], notes=[dates])]


def appeal_filed(f: Facts) -> list[EventInput]:
    if f.newest.outcome != Outcome.ok.value or f.previous_ok is None:
        return []
    if not f.status.get("appeal_filed") or f.before.get("appeal_filed"):
        return []
    filed = f.status.get("appeal_filed_on")
    return [f.event("appeal_filed", str(filed), notes=[note("appeal_filed", filed=filed or "?")])]


def appeal_due_soon(f: Facts) -> list[EventInput]:
    """An appeal not filed whose deadline is within :data:`APPEAL_WARNING_DAYS`."""
    due = f.status.get("appeal_due_on")
    if f.newest.outcome != Outcome.ok.value or not due or f.status.get("appeal_filed"):
        return []
    days = (date.fromisoformat(due) - f.today).days
    if not 0 <= days <= APPEAL_WARNING_DAYS:
        return []
    return [f.event("appeal_due_soon", due, notes=[note("appeal_due", due=due, days=days)])]


def prospect_case(f: Facts) -> list[EventInput]:
    """A prospect whose open case is now heard at a lead court (coordinators hear of it)."""
    current = _snapshot(f.newest.hearing)
    if f.newest.outcome != Outcome.ok.value or current is None:
        return []
    before = _snapshot(f.previous_ok.hearing) if f.previous_ok else None
    moved_to_lead = current.court in f.settings.lead_courts and (
        f.previous_ok is None or before is None or before.court != current.court
    )
    if f.client.status != ClientStatus.prospect.value or not moved_to_lead:
        return []
    if f.status.get("completed_on"):
        return []
    line = note("prospect_case", court=current.court, client=f.client_id)
    return [
        f.event(
            "new_unrepresented_case",
            "",
            dedup_key=f"new_unrepresented_case:prospect:{f.client_id}:{current.court}",
            hearing=current.model_dump(),
            notes=[line],
        )
    ]


RULES: list[Rule] = [
    case_not_found,
    hearing_changed,
    decision_entered,
    appeal_filed,
    appeal_due_soon,
    prospect_case,
]


def detect(
    session: Session,
    client: Client,
    now: datetime,
    today: date,
    settings: WatchSettings | None = None,
) -> list[str]:
    """Emit the events the client's newest lookup calls for (:data:`RULES`); return their
    kinds."""
    # Only the columns compared (never the raw answers), newest first; Core, not ORM objects.
    t = table(AcisLookup)
    lookups = [
        Seen(*row)
        for row in session.connection().execute(
            sa.select(t.c.id, t.c.outcome, t.c.hearing, t.c.status, t.c.observed_at)
            .where(t.c.client_id == client.id)
            .where(t.c.outcome.in_([o.value for o in CASE_OUTCOMES]))
            .order_by(t.c.id.desc())
            .limit(50)
        )
    ]
    if not lookups:
        return []
    facts = Facts(client, lookups, now, today, settings or WatchSettings())
    return [e.kind for rule in RULES for e in rule(facts) if emit(session, e, now) is not None]


def local_today(now: datetime, zone: str = "America/Los_Angeles") -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def due_for_lookup(session: Session, now: datetime, min_interval: timedelta) -> list[Client]:
    """Active clients whose last lookup is older than ``min_interval`` (or who have none)."""
    last = (
        select(
            AcisLookup.client_id,
            sa.func.max(AcisLookup.observed_at, type_=UTCDateTime()).label("last"),
        )
        .group_by(col(AcisLookup.client_id))
        .subquery()
    )
    rows = session.exec(
        select(Client, last.c.last)
        .outerjoin(last, last.c.client_id == Client.id)
        .where(Client.active == True)  # noqa: E712
        .order_by(col(Client.id))
    )
    return [c for c, seen in rows if seen is None or seen <= now - min_interval]
