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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from monitor.events import EventInput, client_event, note
from monitor.route import emit
from storage.bulk import table
from storage.models import Client, Court, CustodyLookup, Facility, Hearing, Severity
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


class Custody(NamedTuple):
    """Where the replay of the lookups has a client: detained (at a facility), released,
    absent (K spaced zeros after being found) or unseen (only zeros so far)."""

    kind: str
    facility_id: int | None = None


@dataclass(frozen=True)
class Step:
    """One change of custody seen in the lookups: the rules read it."""

    session: Session
    client_id: int
    before: Custody
    after: Custody
    row: Row  # the lookup that made the change
    zeros: list[Row]  # the zero lookups that made an absence
    settings: CustodySettings

    def facility(self, facility_id: int | None) -> Facility | None:
        return self.session.get(Facility, facility_id) if facility_id else None

    def event(self, kind: str, severity: Severity | None = None, **payload: Any) -> EventInput:
        key = str(self.zeros[0].id if self.zeros else self.row.id)
        group = f"detainee_locator:{self.client_id}:{self.row.id}"  # one message per lookup
        return client_event(
            kind,
            self.client_id,
            key,
            self.row.observed_at,
            group=group,
            severity=severity,
            **payload,
        )


def replay(
    rows: list[Row], settings: CustodySettings
) -> Iterator[tuple[Custody, Custody, Row, list[Row]]]:
    """The changes of custody in ``rows`` (oldest first): (before, after, the lookup, the zeros
    behind an absence). The first found result is the baseline; zeros count only when
    ``zero_repeats`` of them come in a row, spread over (K-1) x ``zero_spacing``."""
    state: Custody | None = None
    zeros: list[Row] = []
    for row in rows:
        if row.outcome == CustodyOutcome.zero.value:
            zeros.append(row)
            spread = zeros[-1].observed_at - zeros[0].observed_at
            enough = len(zeros) >= settings.zero_repeats and spread >= settings.zero_spacing * (
                settings.zero_repeats - 1
            )
            if state is None:
                if enough:  # confirmed not in the locator: a later detention is news
                    state = Custody("unseen")
            elif enough and state.kind not in ("absent", "unseen"):
                yield state, Custody("absent"), row, list(zeros)
                state = Custody("absent")
            continue
        zeros = []
        new = Custody("detained", row.facility_id) if row.detained else Custody("released")
        if state is not None:
            yield state, new, row, []
        state = new


def lost(s: Step) -> list[EventInput]:
    """A detained client the locator no longer finds (K spaced zeros)."""
    if s.before.kind != "detained" or s.after.kind != "absent":
        return []
    line = note(
        "locator_lost",
        lookups=len(s.zeros),
        since=f"{s.zeros[0].observed_at:%Y-%m-%d %H:%M}",
        facility=_facility_text(s.facility(s.before.facility_id)),
    )
    return [s.event("client_not_found", notes=[line])]


def detained(s: Step) -> list[EventInput]:
    if s.after.kind != "detained" or s.before.kind not in ("absent", "released", "unseen"):
        return []
    return [s.event("client_detained", facility=_facility_text(s.facility(s.after.facility_id)))]


def transferred(s: Step) -> list[EventInput]:
    """Moved between facilities; urgent when out of the program's area."""
    if s.before.kind != "detained" or s.after.kind != "detained":
        return []
    if s.before.facility_id == s.after.facility_id:
        return []
    before, after = s.facility(s.before.facility_id), s.facility(s.after.facility_id)
    home = (s.settings.home_aor, s.settings.home_state)
    far = after is None or (after.aor, after.state) != home
    change = {"field": "facility", "old": _facility_text(before), "new": _facility_text(after)}
    return [
        s.event(
            "client_transferred",
            severity=Severity.urgent if far else None,
            facility=_facility_text(after),
            changes=[change],
            notes=[note("moved_far")] if far else [],
        )
    ]


def released(s: Step) -> list[EventInput]:
    if s.before.kind != "detained" or s.after.kind != "released":
        return []
    facility = _facility_text(s.facility(s.before.facility_id))
    return [s.event("client_released", notes=[note("released", facility=facility)])]


RULES: list[Callable[[Step], list[EventInput]]] = [lost, detained, transferred, released]


def court_mismatch(
    session: Session, client: Client, final: Custody, group: str | None, now: datetime
) -> list[EventInput]:
    """Detained while the current hearing is at a court for the non-detained docket."""
    if final.kind != "detained" or client.id is None:
        return []
    mismatch = _court_mismatch(session, client, final.facility_id)
    if mismatch is None:
        return []
    court, facility = mismatch
    line = note("custody_court_mismatch", court=f"{court.name} ({court.code})")
    return [
        client_event(
            "custody_court_mismatch",
            client.id,
            f"{final.facility_id}:{court.code}",
            now,
            group=group,
            facility=_facility_text(facility),
            notes=[line],
        )
    ]


def detect(
    session: Session, client: Client, now: datetime, settings: CustodySettings | None = None
) -> list[str]:
    """Replay the client's conclusive lookups and emit what :data:`RULES` make of each change
    of custody, then the court rule on where the client is now; return the kinds emitted."""
    settings = settings or CustodySettings()
    assert client.id is not None
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
    final: Custody | None = None
    for before, after, row, zeros in replay(rows, settings):
        step = Step(session, client.id, before, after, row, zeros, settings)
        events += [e for rule in RULES for e in rule(step)]
        final = after
    if final is None and rows:  # no change: where the baseline (or its zeros) left the client
        final = _baseline(rows, settings)
    if final is not None:
        group = f"detainee_locator:{client.id}:{rows[-1].id}" if rows else None
        events += court_mismatch(session, client, final, group, now)
    return [e.kind for e in events if emit(session, e, now) is not None]


def _baseline(rows: list[Row], settings: CustodySettings) -> Custody | None:
    """The state of a history without a change: its first found result (or none)."""
    for row in rows:
        if row.outcome != CustodyOutcome.zero.value:
            return Custody("detained", row.facility_id) if row.detained else Custody("released")
    return None


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
