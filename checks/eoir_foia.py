"""The eoir_foia check: HEAD, download a new release, load it, tell coordinators what is new.

Recorded as a CrawlRun of source ``eoir_foia``; upstream trouble (a block page, a broken
download, a changed layout) is a failing run for the admins and never touches the loaded data.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from checks.run import CheckReport, crawl_run
from monitor.eoir_foia import release_diff
from spiders.eoir_foia import download, head
from storage.db import session_scope
from storage.eoir_foia import LoadReport, Progress, load_release
from storage.errors import FetchFailedError, LayoutChangedError, ReleaseError, ReleaseLayoutError
from storage.models import FoiaRelease
from storage.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "eoir_foia"


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
        courts=settings.eoir_foia_courts,
        as_of=as_of,
        work_dir=settings.data_dir / "foia" / "work",
        memory_mb=settings.eoir_foia_memory_mb,
        alert_court=settings.eoir_foia_alert_court,
        meta=dict(meta or {}),
        progress=progress,
        after_detail=release_diff(settings.eoir_foia_alert_court),
    )


def check(
    engine: sa.Engine,
    settings: Settings,
    *,
    force: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    url = settings.eoir_foia_url
    with crawl_run(engine, settings, SOURCE) as report:
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
            report.message = f"unchanged (ETag {found.etag}, Last-Modified {found.last_modified})"
            return report
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
        try:
            loaded = load_file(
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
        except ReleaseLayoutError as exc:
            raise LayoutChangedError(str(exc)) from exc
        except ReleaseError as exc:
            raise FetchFailedError(str(exc)) from exc
        report.items = loaded.detail_rows
        report.details["release"] = loaded
        report.message = (
            f"release {loaded.release_id} of {loaded.as_of} loaded: {loaded.detail_rows:,} "
            f"proceedings kept, {sum(loaded.quarantined.values()):,} rows quarantined, "
            f"{loaded.new_unrepresented} new unrepresented at {settings.eoir_foia_alert_court}"
        )
    return report
