"""The detainee_locator check: ICE locator lookups in a crawl process, then facility matching
and custody detection (:mod:`monitor.detainee_locator`)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session

from checks.browser import BrowserLookups
from checks.run import CheckReport, lookups_outcome
from monitor.detainee_locator import CustodySettings, detect, resolve_facilities
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


def _after(
    session: Session,
    client: Client,
    lookup: CustodyLookup,
    finished: datetime,
    settings: Settings,
    report: CheckReport,
) -> None:
    """A stored lookup: its facility matched, then custody changes detected."""
    resolve_facilities(session, client, finished)
    for kind in detect(session, client, finished, custody_settings(settings)):
        report.events[kind] += 1


LOOKUPS = BrowserLookups(
    source=SOURCE,
    key=lambda c: (c.a_number, c.country_of_birth_code or c.nationality_code),
    target=lambda c: {
        "client_id": c.id,
        "a_number": c.a_number,
        "country": c.country_of_birth_code or c.nationality_code,
        "bio": _bio(c),
    },
    base_url=lambda s: s.detainee_locator_base_url,
    pace=lambda s: s.detainee_locator_pace_seconds,
    options=lambda s: {"zero_attempts": s.detainee_locator_zero_attempts},
    outcome=run_outcome,
    conclusive=CONCLUSIVE,
    after=_after,
)
check = LOOKUPS.check
