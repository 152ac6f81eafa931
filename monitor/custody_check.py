"""A custody check: an ICE locator crawl in its own process, then facility matching,
detection, source health."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from monitor.crawl import crawl, start_run
from monitor.custody_watch import CustodySettings, detect, resolve_facilities
from monitor.source_health import check_source
from storage.db import session_scope
from storage.models import Client, CrawlOutcome, CrawlRun, CustodyLookup
from storage.settings import Settings
from storage.snapshots import CustodyOutcome

log = logging.getLogger(__name__)
SOURCE = "detainee_locator"
CONCLUSIVE = {CustodyOutcome.found.value, CustodyOutcome.zero.value}


@dataclass
class CustodyReport:
    run_id: int
    outcome: str
    outcomes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    health: str | None = None


def run_outcome(outcomes: Counter[str]) -> tuple[str, str]:
    summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "no lookups"
    if not outcomes:
        return CrawlOutcome.empty.value, summary
    if outcomes.get(CustodyOutcome.found.value):
        return CrawlOutcome.ok.value, summary
    if outcomes.get(CustodyOutcome.layout_changed.value):
        return CrawlOutcome.layout_changed.value, summary
    if outcomes.get(CustodyOutcome.blocked.value):
        return CrawlOutcome.blocked.value, summary
    if set(outcomes) <= {CustodyOutcome.zero.value}:
        # Only zeros: a working locator that knows none of them, or a quietly broken one.
        return CrawlOutcome.empty.value, summary
    return CrawlOutcome.failed.value, summary


def _bio(client: Client) -> dict[str, object] | None:
    """Name parts and date of birth for the biographical fallback, when the record has them."""
    if client.born_on is None or "," not in client.name:
        return None
    family, _, given = client.name.partition(",")
    if not family.strip() or not given.strip():
        return None
    born = client.born_on
    return {
        "family": family.strip(),
        "given": given.strip(),
        "born": [born.year, born.month, born.day],
    }


def custody_settings(settings: Settings) -> CustodySettings:
    return CustodySettings(
        zero_repeats=settings.custody_zero_repeats,
        zero_spacing=timedelta(hours=settings.custody_zero_spacing_hours),
    )


def run_custody_check(
    engine: sa.Engine,
    settings: Settings,
    clients: Sequence[Client],
    *,
    progress: Callable[[str], None] | None = None,
    pace_s: float | None = None,
) -> CustodyReport:
    run_id = start_run(engine, SOURCE)
    targets = [
        {
            "client_id": c.id,
            "a_number": c.a_number,
            "country": c.country_of_birth_code or c.nationality_code,
            "bio": _bio(c),
        }
        for c in clients
    ]
    pace = settings.locator_pace_seconds if pace_s is None else pace_s
    message = crawl(
        settings,
        SOURCE,
        run_id,
        targets,
        [
            "--base-url",
            settings.locator_base_url,
            "--pace",
            str(pace),
            "--zero-attempts",
            str(settings.locator_zero_attempts),
        ],
        progress,
    )
    finished = datetime.now(UTC)
    with session_scope(engine) as session:
        lookups = list(
            session.exec(select(CustodyLookup).where(CustodyLookup.crawl_run_id == run_id))
        )
        outcomes = Counter(x.outcome for x in lookups)
        outcome, summary = run_outcome(outcomes)
        if message and not outcomes:
            outcome = CrawlOutcome.failed.value
        row = session.get(CrawlRun, run_id)
        assert row is not None
        row.finished_at, row.outcome, row.items = finished, outcome, len(lookups)
        row.errors = sum(n for o, n in outcomes.items() if o not in CONCLUSIVE)
        row.message = (summary + (f"; {message}" if message else ""))[:2000]
        session.add(row)
        report = CustodyReport(run_id=run_id, outcome=outcome, outcomes=outcomes)
        rules = custody_settings(settings)
        for lookup in lookups:
            client = session.get(Client, lookup.client_id)
            assert client is not None
            resolve_facilities(session, client, finished)
            for kind in detect(session, client, finished, rules):
                report.events[kind] += 1
        report.health = check_source(session, SOURCE, finished, settings.source_failure_threshold)
    log.info("detainee_locator run #%d: %s (%s)", run_id, outcome, summary)
    return report
