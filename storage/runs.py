"""Crawl runs in storage: a source's newest runs, and runs left open by a process that died."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import CrawlOutcome, CrawlRun, FoiaRelease


def last_run(session: Session, source: str, *, ok: bool = False) -> CrawlRun | None:
    """The source's newest run (its newest ok run with ``ok``)."""
    q = select(CrawlRun).where(CrawlRun.source == source)
    if ok:
        q = q.where(CrawlRun.outcome == CrawlOutcome.ok.value)
    return session.exec(q.order_by(col(CrawlRun.id).desc())).first()


def fail_open_runs(
    session: Session,
    why: str,
    now: datetime,
    *,
    source: str | None = None,
    since: datetime | None = None,
) -> int:
    """Close the runs still marked running (of ``source``, started since ``since``) as failed,
    saying ``why``: their process died. Returns how many."""
    q = select(CrawlRun).where(CrawlRun.outcome == CrawlOutcome.running.value)
    if source is not None:
        q = q.where(CrawlRun.source == source)
    if since is not None:
        q = q.where(col(CrawlRun.started_at) >= since)
    runs = session.exec(q).all()
    for run in runs:
        run.outcome, run.finished_at = CrawlOutcome.failed.value, now
        run.message = "; ".join(m for m in (run.message, why) if m)[:2000]
        session.add(run)
    session.flush()
    return len(runs)


def fail_interrupted(
    session: Session, who: str, now: datetime, *, source: str | None = None
) -> int:
    """A process that died mid-run (``who``: the service, a worker): its runs still open (of
    ``source``) are failed, and so is a FOIA release it left mid-load. Returns the runs."""
    runs = fail_open_runs(session, f"interrupted: {who} stopped mid-run", now, source=source)
    if source in (None, "eoir_foia"):
        for release in session.exec(select(FoiaRelease).where(FoiaRelease.status == "loading")):
            release.status, release.message = "failed", f"interrupted: {who} stopped mid-load"
            session.add(release)
    return runs
