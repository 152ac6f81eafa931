"""An ACIS check: a crawl in its own process, then detection, source health and dispatch.

Used by ``docketwatch acis check`` and by the service's schedule.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from monitor.acis_watch import WatchSettings, detect, local_today
from monitor.crawl import crawl, start_run
from monitor.source_health import check_source
from storage.db import session_scope
from storage.models import AcisLookup, Client, CrawlOutcome, CrawlRun
from storage.settings import Settings
from storage.snapshots import CASE_OUTCOMES, Outcome

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    run_id: int
    outcome: str
    outcomes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    health: str | None = None
    blocked_clients: list[int] = field(default_factory=list)


def run_outcome(outcomes: Counter[str]) -> tuple[str, str]:
    """A run's outcome from its lookups' outcomes, and a one-line summary."""
    summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "no lookups"
    if not outcomes:
        return CrawlOutcome.empty.value, summary
    if any(Outcome(o) in CASE_OUTCOMES for o in outcomes):
        return CrawlOutcome.ok.value, summary
    if outcomes.get(Outcome.layout_changed.value):
        return CrawlOutcome.layout_changed.value, summary
    if outcomes.get(Outcome.blocked.value):
        return CrawlOutcome.blocked.value, summary
    return CrawlOutcome.failed.value, summary


def run_acis_check(
    engine: sa.Engine,
    settings: Settings,
    clients: Sequence[Client],
    *,
    progress: Callable[[str], None] | None = None,
    pace_s: float | None = None,
) -> CheckReport:
    run_id = start_run(engine, "acis")
    targets = [
        {"client_id": c.id, "a_number": c.a_number, "nat_code": c.nationality_code} for c in clients
    ]
    pace = settings.acis_pace_seconds if pace_s is None else pace_s
    message = crawl(
        settings,
        "acis",
        run_id,
        targets,
        [
            "--base-url",
            settings.acis_base_url,
            "--language",
            settings.acis_language,
            "--pace",
            str(pace),
        ],
        progress,
    )

    finished = datetime.now(UTC)
    with session_scope(engine) as session:
        lookups = list(session.exec(select(AcisLookup).where(AcisLookup.crawl_run_id == run_id)))
        outcomes = Counter(x.outcome for x in lookups)
        outcome, summary = run_outcome(outcomes)
        if message and outcome != CrawlOutcome.ok.value:
            outcome = CrawlOutcome.failed.value if not outcomes else outcome
        run_row = session.get(CrawlRun, run_id)
        assert run_row is not None
        run_row.finished_at, run_row.outcome = finished, outcome
        run_row.items = len(lookups)
        run_row.errors = sum(n for o, n in outcomes.items() if Outcome(o) not in CASE_OUTCOMES)
        run_row.message = (summary + (f"; {message}" if message else ""))[:2000]
        session.add(run_row)
        report = CheckReport(run_id=run_id, outcome=outcome, outcomes=outcomes)
        watch = WatchSettings(not_found_repeats=settings.acis_not_found_repeats)
        today = local_today(finished, settings.timezone)
        for lookup in lookups:
            client = session.get(Client, lookup.client_id)
            assert client is not None
            if lookup.outcome == Outcome.blocked.value:
                report.blocked_clients.append(lookup.client_id)
            for kind in detect(session, client, finished, today, watch):
                report.events[kind] += 1
        report.health = check_source(session, "acis", finished, settings.source_failure_threshold)
    log.info("acis run #%d: %s (%s)", run_id, outcome, summary)
    return report
