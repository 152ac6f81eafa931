"""Storing ACIS lookups: the raw answer with its hash and language, the outcome, and for a hit
the client's current Hearing row (court-local date and time, with the court's zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.bulk import table
from storage.models import AcisLookup, Client, Court, Hearing
from storage.snapshots import AcisObservation, HearingSnapshot, Outcome, clock_of


def _starts_at(h: HearingSnapshot) -> datetime | None:
    if not h.timezone:
        return None
    clock = clock_of(h.time) or time(0, 0)
    day = date.fromisoformat(h.date)
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(h.timezone))
    return local.astimezone(UTC)


def record(
    session: Session,
    client: Client,
    observation: AcisObservation,
    raw: bytes,
    now: datetime,
    *,
    nationality_code: str = "",
    crawl_run_id: int | None = None,
    via: str = "browser",
) -> int:
    """Store one lookup; for a hit, make its hearing the client's current one. Returns the
    lookup's id. (Core inserts in the session's transaction: this runs once per client per
    cycle, and the ORM's unit of work would cost more than everything else here.)"""
    assert client.id is not None
    hearing = observation.hearing
    if hearing is not None and hearing.court:
        court = session.get(Court, hearing.court)
        if court is not None:
            hearing = hearing.model_copy(
                update={"court_name": court.name, "timezone": hearing.timezone or court.timezone}
            )
    conn = session.connection()
    lookups, hearings = table(AcisLookup), table(Hearing)
    inserted = conn.execute(
        sa.insert(lookups).values(
            client_id=client.id,
            crawl_run_id=crawl_run_id,
            observed_at=now,
            outcome=observation.outcome.value,
            language=observation.language,
            nationality_code=nationality_code,
            http_status=observation.http_status,
            message=observation.message,
            raw_sha256=observation.raw_sha256,
            raw=raw.decode("utf-8", "replace"),
            hearing=hearing.model_dump() if hearing else None,
            status=observation.status.model_dump(mode="json") if observation.status else None,
            via=via,
        )
    )
    key = inserted.inserted_primary_key
    assert key is not None
    lookup_id = int(key[0])
    if observation.outcome is Outcome.ok:
        conn.execute(
            sa.update(hearings)
            .where(
                hearings.c.client_id == client.id,
                hearings.c.source == "acis",
                hearings.c.current == sa.true(),
            )
            .values(current=False)
        )
        if hearing is not None:
            conn.execute(
                sa.insert(hearings).values(
                    client_id=client.id,
                    source="acis",
                    lookup_id=lookup_id,
                    current=True,
                    verified=True,
                    hearing_on=date.fromisoformat(hearing.date),
                    hearing_time=hearing.time,
                    timezone=hearing.timezone,
                    starts_at=_starts_at(hearing),
                    court_code=hearing.court,
                    location=hearing.location,
                    judge=hearing.judge,
                    medium=hearing.medium,
                    calendar_type=hearing.calendar_type,
                    schedule_type=hearing.schedule_type,
                    webex=hearing.webex,
                    seen_at=now,
                )
            )
    return lookup_id


def blocked_clients(session: Session) -> list[tuple[Client, datetime]]:
    """Clients whose latest ACIS lookup met a captcha, with when: one query, whatever the
    number of lookups stored."""
    latest = (
        select(AcisLookup.client_id, sa.func.max(AcisLookup.id).label("last_id"))
        .group_by(col(AcisLookup.client_id))
        .subquery()
    )
    rows = session.exec(
        select(Client, AcisLookup.observed_at)
        .join(latest, col(Client.id) == latest.c.client_id)
        .join(AcisLookup, col(AcisLookup.id) == latest.c.last_id)
        .where(AcisLookup.outcome == Outcome.blocked.value)
        .order_by(col(AcisLookup.observed_at))
    ).all()
    return [(client, observed_at) for client, observed_at in rows]
