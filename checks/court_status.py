"""The court_status check: EOIR's operational-status page and the Adelanto court page, read now;
closures and judge changes become events (:mod:`monitor.court_status`)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from checks.run import CheckReport, crawl_run
from monitor.court_status import apply_judges, apply_statuses
from spiders.court_status import parse_court_page, parse_status_page
from spiders.http import fetch_text
from storage.db import session_scope
from storage.settings import Settings

SOURCE = "court_status"
STATUS_PATH = "/eoir/immigration-court-operational-status"
ADELANTO_PATH = "/eoir/adelanto-immigration-court"


def check(engine: sa.Engine, settings: Settings, now: datetime | None = None) -> CheckReport:
    now = now or datetime.now(UTC)
    base = settings.court_status_base_url.rstrip("/")
    with crawl_run(engine, settings, SOURCE) as report:
        today = now.astimezone(ZoneInfo(settings.timezone)).date()
        rows = parse_status_page(fetch_text(base + STATUS_PATH, settings.user_agent), today)
        judges = parse_court_page(fetch_text(base + ADELANTO_PATH, settings.user_agent))
        with session_scope(engine) as session:
            report.events.update(apply_statuses(session, rows, now, settings))
            report.events.update(apply_judges(session, "ADL", judges, now))
        closed = [r.code or r.slug for r in rows if r.closed]
        report.items = len(rows)
        report.message = (
            f"{len(rows)} courts, {len(closed)} closed ({', '.join(closed)}); "
            f"{len(judges)} judges at ADL"
        )
    return report
