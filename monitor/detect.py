"""Change detection: from two observations of the same thing to typed events.

Pure functions of (previous, current, clock): no database, no network, so they are tested
offline and run the same in the service, the benchmarks and the demo.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.events import EventInput, client_event
from storage.snapshots import HearingSnapshot, clock_of

__all__ = ["HearingSnapshot", "hearing_changes"]


def _minutes(text: str) -> int | None:
    clock = clock_of(text)
    return None if clock is None else clock.hour * 60 + clock.minute


def hearing_changes(
    client_id: int,
    previous: HearingSnapshot | None,
    current: HearingSnapshot | None,
    now: datetime,
    basis: str,
    group_key: str | None = None,
) -> list[EventInput]:
    """Events for what changed in a client's next hearing between two ok observations.

    ``basis`` identifies the pair of observations (e.g. their ids): the dedup keys include it,
    so a pass run twice emits nothing new, while the same move seen again later is new.
    ``group_key`` names the lookup: its events go to each recipient as one message.
    """

    def event(
        kind: str, changes: list[dict[str, Any]], hearing: HearingSnapshot | None
    ) -> EventInput:
        event = client_event(kind, client_id, basis, now, group=group_key, changes=changes)
        if hearing is None:
            return event
        return event.model_copy(
            update={"payload": {**event.payload, "hearing": hearing.as_payload()}}
        )

    if previous is None and current is None:
        return []
    if previous is None:
        assert current is not None
        return [event("hearing_scheduled", [], current)]
    if current is None:
        return [
            event(
                "hearing_removed", [{"field": "date", "old": previous.date, "new": None}], previous
            )
        ]
    events: list[EventInput] = []
    if current.date != previous.date:
        kind = "hearing_moved_earlier" if current.date < previous.date else "hearing_moved_later"
        changes = [{"field": "date", "old": previous.date, "new": current.date}]
        if current.time != previous.time:
            changes.append({"field": "time", "old": previous.time, "new": current.time})
        events.append(event(kind, changes, current))
    elif _minutes(current.time) != _minutes(previous.time):
        events.append(
            event(
                "hearing_time_changed",
                [{"field": "time", "old": previous.time, "new": current.time}],
                current,
            )
        )
    for kind, fields in (
        ("hearing_judge_changed", ("judge",)),
        ("hearing_medium_changed", ("medium",)),
        ("hearing_location_changed", ("court", "location")),
        ("hearing_type_changed", ("calendar_type", "schedule_type")),
    ):
        changes = [
            {"field": f, "old": getattr(previous, f), "new": getattr(current, f)}
            for f in fields
            if getattr(previous, f) != getattr(current, f)
        ]
        if changes:
            events.append(event(kind, changes, current))
    return events
