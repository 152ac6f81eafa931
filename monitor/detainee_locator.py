"""ICE locator lookups compared over time: custody events, never from a single zero.

The history of a client's conclusive lookups (found, zero) is replayed as a small state machine:
unknown -> detained at F / released / absent / unseen (only zeros so far). The first found
result is the baseline (no event), unless K spaced zeros came first (the client was confirmed
absent): then a detention is news. A
found result that differs from the state is an event; zero results move the state to "absent"
only when K of them come in a row, spread over at least (K-1) x the spacing. Ambiguous,
blocked, error and layout_changed lookups are not part of the history at all. Replaying is
safe: every event's dedup key names the lookups it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, note
from monitor.route import emit
from storage.bulk import table
from storage.models import Client, Court, CustodyLookup, Facility, Hearing
from storage.snapshots import CustodyOutcome


@dataclass(frozen=True)
class CustodySettings:
    zero_repeats: int = 3
    zero_spacing: timedelta = timedelta(hours=6)
    home_aor: str = "Los Angeles"
    home_state: str = "CA"


class Row(NamedTuple):
    id: int
    outcome: str
    detained: bool | None
    facility_id: int | None
    observed_at: datetime


def _facility_text(f: Facility | None) -> str:
    if f is None:
        return ""
    where = ", ".join(x for x in (f.city, f.state) if x)
    return f"{f.name}" + (f" ({where})" if where else "") + (f", {f.aor} AOR" if f.aor else "")


def resolve_facilities(session: Session, client: Client, now: datetime) -> None:
    """Give the client's new lookups a Facility: matched by name, or created once (admins told)."""
    from storage.detainee_locator import create_facility, match_facility

    pending = list(
        session.exec(
            select(CustodyLookup).where(
                CustodyLookup.client_id == client.id,
                col(CustodyLookup.facility_id).is_(None),
                CustodyLookup.facility_name != "",
            )
        )
    )
    for lookup in pending:
        facility = match_facility(session, lookup.facility_name)
        if facility is None:
            address = tuple(x for x in lookup.facility_address.split("|") if x)
            facility = create_facility(session, lookup.facility_name, address, lookup.state)
            emit(
                session,
                EventInput(
                    kind="facility_added",
                    subject_type="source",
                    subject_key="detainee_locator",
                    dedup_key=f"facility_added:{facility.name}"[:200],
                    payload={
                        "facility": _facility_text(facility),
                        "notes": [note("facility_added")],
                    },
                    occurred_at=now,
                ),
                now,
            )
        lookup.facility_id = facility.id
        session.add(lookup)
    session.flush()


def detect(
    session: Session, client: Client, now: datetime, settings: CustodySettings | None = None
) -> list[str]:
    settings = settings or CustodySettings()
    t = table(CustodyLookup)
    rows = [
        Row(*r)
        for r in session.connection().execute(
            sa.select(t.c.id, t.c.outcome, t.c.detained, t.c.facility_id, t.c.observed_at)
            .where(t.c.client_id == client.id)
            .where(t.c.outcome.in_([CustodyOutcome.found.value, CustodyOutcome.zero.value]))
            .order_by(t.c.id.desc())
            .limit(60)
        )
    ][::-1]
    events: list[EventInput] = []
    state: tuple[str, int | None] | None = None
    zeros: list[Row] = []

    def event(kind: str, key: str, at: Row, severity: str | None = None, **payload: Any) -> None:
        events.append(
            EventInput(
                kind=kind,
                subject_type="client",
                subject_key=str(client.id),
                client_id=client.id,
                dedup_key=f"{kind}:{client.id}:{key}",
                severity=severity,
                payload=payload,
                occurred_at=at.observed_at,
                group_key=f"detainee_locator:{client.id}:{at.id}",  # one message per lookup
            )
        )

    for row in rows:
        if row.outcome == CustodyOutcome.zero.value:
            zeros.append(row)
            spread = zeros[-1].observed_at - zeros[0].observed_at
            enough = len(zeros) >= settings.zero_repeats and spread >= settings.zero_spacing * (
                settings.zero_repeats - 1
            )
            if state is None:
                if enough:  # confirmed not in the locator: a later detention is news
                    state = ("unseen", None)
                continue
            if enough and state[0] not in ("absent", "unseen"):
                if state[0] == "detained":
                    last = session.get(Facility, state[1]) if state[1] else None
                    event(
                        "client_not_found",
                        str(zeros[0].id),
                        row,
                        notes=[
                            note(
                                "locator_lost",
                                lookups=len(zeros),
                                since=f"{zeros[0].observed_at:%Y-%m-%d %H:%M}",
                                facility=_facility_text(last),
                            )
                        ],
                    )
                state = ("absent", None)
            continue
        zeros = []
        new = ("detained", row.facility_id) if row.detained else ("released", None)
        if state is None:
            state = new
            continue
        if new[0] == "detained" and state[0] in ("absent", "released", "unseen"):
            facility = session.get(Facility, row.facility_id) if row.facility_id else None
            event("client_detained", str(row.id), row, facility=_facility_text(facility))
        elif new[0] == "detained" and state[0] == "detained" and new[1] != state[1]:
            before = session.get(Facility, state[1]) if state[1] else None
            after = session.get(Facility, new[1]) if new[1] else None
            far = (
                after is None
                or after.aor != settings.home_aor
                or after.state != settings.home_state
            )
            event(
                "client_transferred",
                str(row.id),
                row,
                severity="urgent" if far else None,
                facility=_facility_text(after),
                changes=[
                    {
                        "field": "facility",
                        "old": _facility_text(before),
                        "new": _facility_text(after),
                    }
                ],
                notes=[note("moved_far")] if far else [],
            )
        elif new[0] == "released" and state[0] == "detained":
            before = session.get(Facility, state[1]) if state[1] else None
            event(
                "client_released",
                str(row.id),
                row,
                notes=[note("released", facility=_facility_text(before))],
            )
        state = new

    if state is not None and state[0] == "detained":
        mismatch = _court_mismatch(session, client, state[1])
        if mismatch is not None:
            court, facility = mismatch
            events.append(
                EventInput(
                    kind="custody_court_mismatch",
                    subject_type="client",
                    subject_key=str(client.id),
                    client_id=client.id,
                    dedup_key=f"custody_court_mismatch:{client.id}:{state[1]}:{court.code}",
                    payload={
                        "facility": _facility_text(facility),
                        "notes": [
                            note("custody_court_mismatch", court=f"{court.name} ({court.code})")
                        ],
                    },
                    occurred_at=now,
                    group_key=f"detainee_locator:{client.id}:{rows[-1].id}" if rows else None,
                )
            )
    made = []
    for e in events:
        if emit(session, e, now) is not None:
            made.append(e.kind)
    return made


def _court_mismatch(
    session: Session, client: Client, facility_id: int | None
) -> tuple[Court, Facility | None] | None:
    hearing = session.exec(
        select(Hearing)
        .where(Hearing.client_id == client.id, Hearing.current == True)  # noqa: E712
        .order_by(col(Hearing.id).desc())
    ).first()
    if hearing is None or not hearing.court_code:
        return None
    court = session.get(Court, hearing.court_code)
    if court is None or court.detained:
        return None
    return court, session.get(Facility, facility_id) if facility_id else None
