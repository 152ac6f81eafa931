"""ACIS lookups: store each one, then turn what changed into client events.

:func:`record` keeps every answer (raw body, hash, language, outcome) and, for a hit, the
client's current Hearing row. :func:`detect` compares the newest ok lookup with the previous ok
one. Lookups that failed for reasons of the source (blocked, upstream_error, layout_changed)
are stored for the record but never make a client event: they count toward source health.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.detect import hearing_changes
from monitor.events import EventInput, note
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


def _event(
    kind: str, client: Client, key: str, now: datetime, group: str, **payload: Any
) -> EventInput:
    assert client.id is not None
    return EventInput(
        kind=kind,
        subject_type="client",
        subject_key=str(client.id),
        client_id=client.id,
        dedup_key=f"{kind}:{client.id}:{key}"[:200],
        payload=payload,
        occurred_at=now,
        group_key=group,
    )


def detect(
    session: Session,
    client: Client,
    now: datetime,
    today: date,
    settings: WatchSettings | None = None,
) -> list[str]:
    """Emit the events the client's newest lookup calls for; return their kinds."""
    settings = settings or WatchSettings()
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
    newest = lookups[0]
    group = f"acis:{client.id}:{newest.id}"  # one message per recipient for this lookup
    events: list[EventInput] = []
    previous_ok = next((x for x in lookups[1:] if x.outcome == Outcome.ok.value), None)

    if newest.outcome == Outcome.not_found.value:
        streak = 0
        for x in lookups:
            if x.outcome != Outcome.not_found.value:
                break
            streak += 1
        last_ok = next((x for x in lookups if x.outcome == Outcome.ok.value), None)
        if last_ok is not None and streak >= settings.not_found_repeats:
            events.append(
                _event(
                    "case_not_found",
                    client,
                    f"after:{last_ok.id}",
                    now,
                    group,
                    notes=[
                        note(
                            "case_not_found",
                            lookups=streak,
                            last_found=f"{last_ok.observed_at:%Y-%m-%d}",
                        )
                    ],
                )
            )
    elif newest.outcome == Outcome.ok.value:
        current = _snapshot(newest.hearing)
        status = newest.status or {}
        if previous_ok is not None:
            before = previous_ok.status or {}
            events += hearing_changes(
                client.id or 0,
                _snapshot(previous_ok.hearing),
                current,
                now,
                basis=f"{previous_ok.id}>{newest.id}",
                group_key=group,
            )
            if status.get("decision_code") and status.get("decision_code") != before.get(
                "decision_code"
            ):
                events.append(
                    _event(
                        "decision_entered",
                        client,
                        f"{status.get('decision_code')}:{status.get('completed_on')}",
                        now,
                        group,
                        changes=[
                            {
                                "field": "decision",
                                "old": before.get("decision_text")
                                or before.get("decision_code")
                                or None,
                                "new": status.get("decision_text") or status.get("decision_code"),
                            }
                        ],
                        notes=[
                            note(
                                "decision_dates",
                                completed=status.get("completed_on") or "?",
                                appeal_due=status.get("appeal_due_on") or "?",
                            )
                        ],
                    )
                )
            if status.get("appeal_filed") and not before.get("appeal_filed"):
                events.append(
                    _event(
                        "appeal_filed",
                        client,
                        str(status.get("appeal_filed_on")),
                        now,
                        group,
                        notes=[note("appeal_filed", filed=status.get("appeal_filed_on") or "?")],
                    )
                )
            before_hearing = _snapshot(previous_ok.hearing)
            moved_to_lead = (
                current is not None
                and current.court in settings.lead_courts
                and (before_hearing is None or before_hearing.court != current.court)
            )
        else:
            moved_to_lead = current is not None and current.court in settings.lead_courts
        due = status.get("appeal_due_on")
        if due and not status.get("appeal_filed"):
            days = (date.fromisoformat(due) - today).days
            if 0 <= days <= APPEAL_WARNING_DAYS:
                events.append(
                    _event(
                        "appeal_due_soon",
                        client,
                        due,
                        now,
                        group,
                        notes=[note("appeal_due", due=due, days=days)],
                    )
                )
        if (
            client.status == ClientStatus.prospect.value
            and moved_to_lead
            and not status.get("completed_on")
        ):
            assert current is not None
            events.append(
                EventInput(
                    kind="new_unrepresented_case",
                    subject_type="client",
                    subject_key=str(client.id),
                    client_id=client.id,
                    dedup_key=f"new_unrepresented_case:prospect:{client.id}:{current.court}",
                    payload={
                        "hearing": current.model_dump(),
                        "notes": [note("prospect_case", court=current.court, client=client.id)],
                    },
                    occurred_at=now,
                    group_key=group,
                )
            )
    made = []
    for event in events:
        if emit(session, event, now) is not None:
            made.append(event.kind)
    return made


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
