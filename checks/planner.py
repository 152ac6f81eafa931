"""The budgeted batch of a browser source: who to look up in this run (and a note of why)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from checks.run import crawl_run
from monitor.planner import choose, in_browser_hours, load_states
from storage.models import Client
from storage.settings import Settings


def _record(engine: sa.Engine, settings: Settings, source: str, message: str) -> None:
    """A run that looked nobody up is still a run: the watchdog counts it as the source's."""
    with crawl_run(engine, settings, source) as report:
        report.message = message


def planned_clients(
    engine: sa.Engine, session: Session, settings: Settings, source: str
) -> tuple[list[Any], str]:
    now = datetime.now(UTC)
    if not in_browser_hours(settings.browser_hours, now, settings.timezone):
        note = f"outside browser hours ({settings.browser_hours} {settings.timezone}); no lookups"
        _record(engine, settings, source, note)
        return [], note
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    picked = choose(
        load_states(session, source, now), now, today, settings.browser_lookups_per_hour
    )
    if not picked:
        note = "nobody is due"
        _record(engine, settings, source, note)
        return [], note
    clients = [c for c in (session.get(Client, p.state.client_id) for p in picked) if c]
    reasons = sorted({p.reason.split(" (")[0] for p in picked})
    note = f"{len(picked)} due within the budget of {settings.browser_lookups_per_hour}/hour"
    return with_siblings(session, clients), note + f" ({'; '.join(reasons)})"


def with_siblings(session: Session, clients: list[Client]) -> list[Client]:
    """The picked clients and every other program's active client with the same A-number: the
    person is looked up once, for all of them (``checks.run.shared_targets``)."""
    numbers = {c.a_number for c in clients}
    if not numbers:
        return clients
    picked = {c.id for c in clients}
    others = session.exec(
        select(Client).where(col(Client.a_number).in_(numbers), col(Client.active).is_(True))
    ).all()
    return clients + [c for c in others if c.id not in picked]
