"""The detainee_locator check: ICE locator lookups in a crawl process, then facility matching
and custody detection (:mod:`monitor.detainee_locator`)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from checks.run import CheckReport, crawl, crawl_run, lookups_outcome, shared_targets, tally
from monitor.detainee_locator import CustodySettings, detect, resolve_facilities
from storage.db import session_scope
from storage.models import Client, CustodyLookup
from storage.settings import Settings
from storage.snapshots import CustodyOutcome

log = logging.getLogger(__name__)
SOURCE = "detainee_locator"
CONCLUSIVE = {CustodyOutcome.found.value, CustodyOutcome.zero.value}


def run_outcome(outcomes: Counter[str]) -> str:
    """A run's outcome from its lookups': ok when anyone was found. Only zeros is an empty run:
    a working locator that knows none of them, or a quietly broken one."""
    return lookups_outcome(outcomes, {CustodyOutcome.found.value}, {CustodyOutcome.zero.value})


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
        zero_repeats=settings.detainee_locator_zero_repeats,
        zero_spacing=timedelta(hours=settings.detainee_locator_zero_spacing_hours),
    )


def check(
    engine: sa.Engine,
    settings: Settings,
    clients: Sequence[Client],
    *,
    progress: Callable[[str], None] | None = None,
    pace_s: float | None = None,
) -> CheckReport:
    """Look ``clients`` up in a crawl process, match facilities, then detect custody changes."""
    with crawl_run(engine, settings, SOURCE) as report:
        targets = shared_targets(
            clients,
            lambda c: (c.a_number, c.country_of_birth_code or c.nationality_code),
            lambda c: {
                "client_id": c.id,
                "a_number": c.a_number,
                "country": c.country_of_birth_code or c.nationality_code,
                "bio": _bio(c),
            },
        )
        pace = settings.detainee_locator_pace_seconds if pace_s is None else pace_s
        args = [
            "--base-url",
            settings.detainee_locator_base_url,
            "--pace",
            str(pace),
            "--zero-attempts",
            str(settings.detainee_locator_zero_attempts),
            "--timeout",
            str(settings.browser_timeout_seconds),
        ]
        problem = crawl(settings, SOURCE, report.run_id, targets, args, progress)
        finished = datetime.now(UTC)
        with session_scope(engine) as session:
            lookups = list(
                session.exec(
                    select(CustodyLookup).where(CustodyLookup.crawl_run_id == report.run_id)
                )
            )
            outcomes = Counter(x.outcome for x in lookups)
            tally(report, outcomes, run_outcome(outcomes), CONCLUSIVE, problem)
            rules = custody_settings(settings)
            for lookup in lookups:
                client = session.get(Client, lookup.client_id)
                assert client is not None
                resolve_facilities(session, client, finished)
                for kind in detect(session, client, finished, rules):
                    report.events[kind] += 1
    return report
