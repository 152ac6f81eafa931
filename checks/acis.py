"""The acis check: lookups in a crawl process, then detection; and a person's ways past a captcha.

:func:`check` is what ``docketwatch acis check`` and the service's schedule run.
``docketwatch acis refresh A-NUMBER --assist`` (:func:`assisted_refresh`) opens a *visible*
browser on ACIS with the consent accepted and the A-number and nationality filled in; the person
completes the captcha if one appears and submits, and docketwatch stores the answer the page
receives. ``docketwatch acis import A-NUMBER FILE.json`` (:func:`import_answer`) stores an answer
saved from a browser's developer tools. All three go through the same parse, store and detect
path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from checks.browser import BrowserLookups
from checks.run import CheckReport, lookups_outcome
from monitor.acis import WatchSettings, detect, local_today
from spiders.acis import nationality_label, parse_case_info
from storage.acis import record
from storage.db import session_scope
from storage.errors import ConfigError, ImportFileError, SourceError, ValidationError
from storage.identifiers import parse_a_number
from storage.models import AcisLookup, Client
from storage.people import get_client
from storage.settings import Settings
from storage.snapshots import CASE_OUTCOMES, AcisObservation, Outcome

SOURCE = "acis"

log = logging.getLogger(__name__)


def run_outcome(outcomes: Counter[str]) -> str:
    """A run's outcome from its lookups': ok when any answer said something about a case."""
    return lookups_outcome(outcomes, {o.value for o in CASE_OUTCOMES})


def _after(
    session: Session,
    client: Client,
    lookup: AcisLookup,
    finished: datetime,
    settings: Settings,
    report: CheckReport,
) -> None:
    """A stored lookup compared with the one before (a blocked one offered to staff)."""
    if lookup.outcome == Outcome.blocked.value:
        report.blocked_clients.append(lookup.client_id)
    watch = WatchSettings(not_found_repeats=settings.acis_not_found_repeats)
    today = local_today(finished, settings.timezone)
    for kind in detect(session, client, finished, today, watch):
        report.events[kind] += 1


LOOKUPS = BrowserLookups(
    source=SOURCE,
    key=lambda c: (c.a_number, c.nationality_code),
    target=lambda c: {"client_id": c.id, "a_number": c.a_number, "nat_code": c.nationality_code},
    base_url=lambda s: s.acis_base_url,
    pace=lambda s: s.acis_pace_seconds,
    options=lambda s: {"language": s.acis_language},
    outcome=run_outcome,
    conclusive={o.value for o in CASE_OUTCOMES},
    after=_after,
)
check = LOOKUPS.check


# -- a person's help past a captcha ------------------------------------------------------------


def _store(
    engine: sa.Engine, settings: Settings, a_number: str, status: int, raw: bytes, via: str
) -> tuple[AcisObservation, list[str]]:
    now = datetime.now(UTC)
    today = local_today(now, settings.timezone)
    try:
        language = str(json.loads(raw).get("Language") or "EN").upper()
    except (ValueError, AttributeError, RecursionError):
        language = "EN"
    observation = parse_case_info(status, raw, today, language)
    with session_scope(engine) as session:
        client = get_client(session, a_number)
        record(
            session,
            client,
            observation,
            raw,
            now,
            nationality_code=client.nationality_code,
            via=via,
        )
        events = detect(
            session,
            client,
            now,
            today,
            WatchSettings(not_found_repeats=settings.acis_not_found_repeats),
        )
    return observation, events


#: a GetCaseInfo answer is a few KB; a file far bigger is not one
MAX_ANSWER_BYTES = 1 << 20


def import_answer(
    engine: sa.Engine, settings: Settings, a_number: str, path: Path
) -> tuple[AcisObservation, list[str]]:
    """Store a GetCaseInfo answer saved by hand for the client ``a_number``. The answer must
    say whose it is: one with case data and another A-number, or none, is refused (it would
    put another person's hearing on this client)."""
    wanted = parse_a_number(a_number)
    try:
        size = path.stat().st_size
        if size > MAX_ANSWER_BYTES:
            raise ImportFileError(
                f"{path}: {size:,} bytes; a GetCaseInfo answer is a few KB (at most "
                f"{MAX_ANSWER_BYTES:,} accepted)"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        body = json.loads(raw)
    except RecursionError:
        raise ImportFileError(f"{path}: JSON nested too deeply to be an ACIS answer") from None
    except ValueError as exc:
        raise ImportFileError(
            f"{path}: not JSON ({exc}); save the GetCaseInfo response body"
        ) from None
    if not isinstance(body, dict) or not ({"Data", "message"} & set(body)):
        raise ImportFileError(f"{path}: not a GetCaseInfo answer (no Data or message key)")
    if "Data" in body:
        number = body.get("AlienNumber")
        if not isinstance(number, str | int) or not str(number).strip():
            raise ValidationError(
                f"{path}: the answer does not say whose it is (no AlienNumber); save the whole "
                "GetCaseInfo response body"
            )
        digits = "".join(ch for ch in str(number) if ch.isdigit()).zfill(9)
        if digits != wanted:
            raise ValidationError(
                f"{path}: the answer is for A-number ***{digits[-4:]}, not ***{wanted[-4:]}; "
                "nothing was stored"
            )
    return _store(engine, settings, wanted, 200, raw, "import")


def assisted_refresh(
    engine: sa.Engine, settings: Settings, a_number: str, wait_s: float = 600
) -> tuple[AcisObservation, list[str]]:
    if not os.environ.get("DISPLAY"):
        raise ConfigError(
            "an assisted refresh opens a visible browser: run it where there is a "
            "display (a desktop session, or ssh -X)"
        )
    with session_scope(engine) as session:
        client = get_client(session, a_number)
        number, nat = client.a_number, client.nationality_code
    status, raw = asyncio.run(_drive(settings, number, nat, wait_s))
    return _store(engine, settings, a_number, status, raw, "assisted")


async def _drive(settings: Settings, a_number: str, nat: str, wait_s: float) -> tuple[int, bytes]:
    from playwright.async_api import async_playwright

    from spiders.acis import acis_lookup
    from spiders.browser import CHROMIUM_ARGS, NoRequestError

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(settings.browser_executable), headless=False, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(user_agent=None)
            path = "/es/" if settings.acis_language == "ES" else "/en/"
            await page.goto(settings.acis_base_url.rstrip("/") + path)
            try:
                captured = await acis_lookup(
                    page, a_number, nationality_label(nat), response_timeout_ms=wait_s * 1000
                )
            except NoRequestError:
                raise ValidationError("no answer came back in time: nothing was stored") from None
            except SourceError as exc:
                raise ValidationError(
                    f"the lookup did not finish ({exc}); nothing stored"
                ) from None
            return captured.status, captured.body
        finally:
            await browser.close()
