"""One FOIA check: HEAD, download a new release, load it, tell coordinators what is new.

Recorded as a CrawlRun of source ``eoir_foia``; upstream trouble (a block page, a broken
download, a changed layout) is a failing run for the admins and never touches the loaded data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from monitor.crawl import start_run
from monitor.foia_watch import release_diff
from monitor.source_health import check_source
from spiders.eoir_foia import FetchError, download, head
from storage.db import session_scope
from storage.errors import ReleaseError
from storage.foia import LoadReport, Progress, load_release
from storage.models import CrawlOutcome, CrawlRun, FoiaRelease
from storage.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "eoir_foia"


@dataclass
class FoiaCheck:
    run_id: int
    outcome: str
    message: str
    release: LoadReport | None = None
    health: str | None = None


def _finish(engine: sa.Engine, settings: Settings, run_id: int, outcome: str, message: str,
            items: int = 0) -> str | None:  # fmt: skip
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.get(CrawlRun, run_id)
        assert row is not None
        row.finished_at, row.outcome, row.items = now, outcome, items
        row.errors = 0 if outcome == CrawlOutcome.ok.value else 1
        row.message = message[:2000]
        session.add(row)
        session.flush()
        return check_source(session, SOURCE, now, settings.source_failure_threshold)


def _file_name(etag: str, modified: datetime | None) -> str:
    stamp = modified.strftime("%Y%m%dT%H%M%S") if modified else "undated"
    tag = re.sub(r"[^A-Za-z0-9]+", "", etag)[:24] or "noetag"
    return f"eoir-case-data-{stamp}-{tag}.zip"


def load_file(
    engine: sa.Engine,
    settings: Settings,
    path: Path,
    *,
    as_of: date | None = None,
    meta: dict[str, object] | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load a release zip already on disk (a manual load, or the last step of a check)."""
    return load_release(
        engine,
        path,
        courts=settings.foia_courts,
        as_of=as_of,
        work_dir=settings.data_dir / "foia" / "work",
        memory_mb=settings.foia_memory_mb,
        alert_court=settings.foia_alert_court,
        meta=dict(meta or {}),
        progress=progress,
        after_detail=release_diff(settings.foia_alert_court),
    )


def run_foia_check(
    engine: sa.Engine,
    settings: Settings,
    *,
    force: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> FoiaCheck:
    run_id = start_run(engine, SOURCE)
    url = settings.foia_url
    try:
        found = head(url, settings.user_agent)
        with session_scope(engine) as session:
            last = session.exec(
                select(FoiaRelease)
                .where(FoiaRelease.url == url, FoiaRelease.status == "loaded")
                .order_by(col(FoiaRelease.id).desc())
            ).first()
        if (
            not force
            and last is not None
            and last.etag == found.etag
            and last.last_modified == found.last_modified
        ):
            message = f"unchanged (ETag {found.etag}, Last-Modified {found.last_modified})"
            health = _finish(engine, settings, run_id, CrawlOutcome.ok.value, message)
            return FoiaCheck(run_id, CrawlOutcome.ok.value, message, health=health)
        dest = settings.data_dir / "foia" / _file_name(found.etag, found.last_modified)
        got = download(
            url,
            dest,
            settings.user_agent,
            expected=found,
            progress=(lambda done, total: progress("download", done, total or 0))
            if progress
            else None,
        )
        report = load_file(
            engine,
            settings,
            got.path,
            as_of=as_of or (found.last_modified.date() if found.last_modified else None),
            meta={
                "url": url,
                "etag": found.etag,
                "last_modified": found.last_modified,
                "content_length": found.content_length,
                "sha256": got.sha256,
            },
            progress=progress,
        )
    except FetchError as exc:
        health = _finish(engine, settings, run_id, exc.outcome, str(exc))
        return FoiaCheck(run_id, exc.outcome, str(exc), health=health)
    except ReleaseError as exc:
        outcome = (
            CrawlOutcome.layout_changed.value
            if "layout changed" in str(exc)
            else CrawlOutcome.failed.value
        )
        health = _finish(engine, settings, run_id, outcome, str(exc))
        return FoiaCheck(run_id, outcome, str(exc), health=health)
    message = (
        f"release {report.release_id} of {report.as_of} loaded: {report.detail_rows:,} "
        f"proceedings kept, {sum(report.quarantined.values()):,} rows quarantined, "
        f"{report.new_unrepresented} new unrepresented at {settings.foia_alert_court}"
    )
    health = _finish(engine, settings, run_id, CrawlOutcome.ok.value, message, report.detail_rows)
    return FoiaCheck(run_id, CrawlOutcome.ok.value, message, release=report, health=health)
