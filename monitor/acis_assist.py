"""Assisted refresh and manual import: the ways a person gets an ACIS answer past a captcha.

``docketwatch acis refresh A-NUMBER --assist`` opens a *visible* browser on ACIS with the
consent accepted and the A-number and nationality filled in; the person completes the captcha
if one appears and submits, and docketwatch stores the answer the page receives.
``docketwatch acis import A-NUMBER FILE.json`` stores an answer saved from a browser's developer
tools. Both go through the same parse, store and detect path as the spider.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from monitor.acis_watch import WatchSettings, detect, local_today
from spiders.acis import nationality_label, parse_case_info
from storage.acis import record
from storage.db import session_scope
from storage.errors import ConfigError, ImportFileError, ValidationError
from storage.people import get_client
from storage.settings import Settings
from storage.snapshots import AcisObservation


def _store(
    engine: sa.Engine, settings: Settings, a_number: str, status: int, raw: bytes, via: str
) -> tuple[AcisObservation, list[str]]:
    now = datetime.now(UTC)
    today = local_today(now, settings.timezone)
    language = "EN"
    try:
        import json

        language = str(json.loads(raw).get("Language") or "EN").upper()
    except (ValueError, AttributeError):
        pass
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


def import_answer(
    engine: sa.Engine, settings: Settings, a_number: str, path: Path
) -> tuple[AcisObservation, list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror})") from exc
    import json

    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ImportFileError(
            f"{path}: not JSON ({exc}); save the GetCaseInfo response body"
        ) from None
    if not isinstance(body, dict) or not ({"Data", "message"} & set(body)):
        raise ImportFileError(f"{path}: not a GetCaseInfo answer (no Data or message key)")
    number = str(body.get("AlienNumber") or "")
    from storage.identifiers import parse_a_number

    if number and number != parse_a_number(a_number):
        raise ValidationError(f"{path}: the answer is for another A-number than the one given")
    return _store(engine, settings, a_number, 200, raw, "import")


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

    from spiders.browser import CHROMIUM_ARGS, LayoutChangedError, NoRequestError, acis_lookup

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
            except LayoutChangedError as exc:
                raise ValidationError(
                    f"the ACIS page has changed ({exc}); nothing stored"
                ) from None
            return captured.status, captured.body
        finally:
            await browser.close()
