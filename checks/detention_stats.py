"""The detention_stats check: find the newest workbook on ICE's detention-management page, fetch
it if it is new, and store its Facilities sheet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from checks.run import CheckReport, crawl_run
from spiders.detention_stats import fetch_to, find_workbooks, parse_workbook
from spiders.http import fetch_text
from storage.db import session_scope
from storage.detention_stats import store_edition
from storage.errors import LayoutChangedError, ValidationError
from storage.files import sha256_of
from storage.models import StatsEdition
from storage.settings import Settings

SOURCE = "detention_stats"


def load_file(session: Session, path: Path, url: str = "") -> tuple[StatsEdition, bool]:
    """Parse a workbook and store it (once per file, by SHA-256)."""
    return store_edition(session, parse_workbook(path), url=url, sha256=sha256_of(path))


def check(engine: sa.Engine, settings: Settings, now: datetime | None = None) -> CheckReport:
    now = now or datetime.now(UTC)
    page = settings.detention_stats_url
    with crawl_run(engine, settings, SOURCE) as report:
        links = find_workbooks(fetch_text(page, settings.user_agent), page)
        if not links:
            raise LayoutChangedError(
                "no statistics workbook linked from the page: the layout changed"
            )
        newest = links[0]
        with session_scope(engine) as session:
            known = session.exec(select(StatsEdition).where(StatsEdition.url == newest.url)).first()
        if known is not None and newest.snapshot is not None:
            report.message = f"unchanged: newest is {newest.url} (stored as edition {known.id})"
            return report
        name = Path(newest.url).name.replace("%20", " ")
        dest = settings.data_dir / "detention_stats" / f"{now:%Y%m%dT%H%M%S}-{name}"
        fetch_to(newest.url, dest, settings.user_agent)
        try:
            with session_scope(engine) as session:
                row, new = load_file(session, dest, url=newest.url)
        except ValidationError as exc:  # a workbook docketwatch cannot read: ICE changed it
            raise LayoutChangedError(str(exc)) from exc
        if not new:
            dest.unlink(missing_ok=True)
        report.items = 1
        report.details["edition_id"] = row.id
        report.message = (
            f"{'new' if new else 'same file as'} edition {row.id}: FY{row.fiscal_year}, "
            f"data as of {row.data_as_of}, {row.facilities} facilities"
            + (f", STALE ({row.stale_reason})" if row.stale else "")
            + (f", {row.checks_failed} failing sanity checks" if row.checks_failed else "")
        )
    return report
