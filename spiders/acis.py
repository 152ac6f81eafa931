"""EOIR case status (ACIS): parsing the GetCaseInfo answer into an observation.

The real ACIS is a single-page app; its data comes from one JSON call,
``GET /api/Case/GetCaseInfo?alienNumber&languageCode&natCode`` with a ``Captcha-Token`` header
(sources.md §1). :func:`parse_case_info` is a pure function of that call's HTTP status and body:
it decides the lookup's outcome and, for a hit, normalizes the next hearing and the case status.

Outcomes: ok, not_found, invalid_nationality, unavailable, blocked (captcha), upstream_error,
layout_changed. Only ``ok`` carries case data; nothing else may ever be read as "no hearing".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from storage.errors import LayoutChangedError, SourceError, TimedOutError
from storage.snapshots import (
    CASE_OUTCOMES,
    AcisObservation,
    CaseStatus,
    HearingSnapshot,
    Outcome,
)
from storage.urls import https_only

if TYPE_CHECKING:
    from spiders.browser import Captured

__all__ = ["CASE_OUTCOMES", "AcisObservation", "CaseStatus", "Outcome", "parse_case_info"]

SOURCE = "acis"
log = logging.getLogger(__name__)
# a source error (by its run outcome) -> what the lookup is recorded as
LOOKS = 2  # a page found changed is loaded once more before it is called layout_changed
LOOKUP_OUTCOME = {
    "blocked": Outcome.blocked,
    "layout_changed": Outcome.layout_changed,
    "timed_out": Outcome.timed_out,
    "failed": Outcome.upstream_error,
}


# `message` substrings of ACIS's error bodies (sources.md §1.4), most specific first.
_MESSAGES = (
    ("invalid captcha", Outcome.blocked),
    ("no case info found", Outcome.not_found),
    ("invalid nationality code", Outcome.invalid_nationality),
    ("nationality code must be provided", Outcome.invalid_nationality),
    ("case information is unavailable", Outcome.unavailable),
)
_REQUIRED = ("Data", "Proceeding", "Schedule")

MEDIUM = {"P": "In person", "V": "Video", "T": "Telephonic", "C": "Internet-based (WebEx)"}
# The court's zone, from the state in the address ("NEW YORK, NY 10278"). States spanning two
# zones get the zone of their immigration courts (Texas courts are Central except El Paso).
STATE_ZONES = {
    **dict.fromkeys(["CA", "WA", "OR", "NV"], "America/Los_Angeles"),
    **dict.fromkeys(["AZ"], "America/Phoenix"),
    **dict.fromkeys(["CO", "UT", "NM", "ID", "MT", "WY"], "America/Denver"),
    **dict.fromkeys(
        ["TX", "IL", "MN", "MO", "LA", "TN", "NE", "OK", "KS", "WI", "IA", "AL", "MS", "AR"],
        "America/Chicago",
    ),
    **dict.fromkeys(
        [
            "NY",
            "NJ",
            "PA",
            "MA",
            "CT",
            "VA",
            "MD",
            "DC",
            "GA",
            "FL",
            "NC",
            "SC",
            "OH",
            "MI",
            "KY",
            "IN",
            "WV",
            "DE",
            "RI",
            "NH",
            "VT",
            "ME",
        ],
        "America/New_York",
    ),
    "HI": "Pacific/Honolulu",
    "AK": "America/Anchorage",
    "PR": "America/Puerto_Rico",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "VI": "America/St_Thomas",
}
COURT_ZONES = {"ELP": "America/Denver"}  # El Paso keeps Mountain time
CALENDAR = {"M": "Master", "I": "Individual", "B": "Bond"}
SCHEDULE = {
    "MM": "Initial master",
    "MR": "Master reset",
    "MD": "Detained master",
    "RD": "Detained master reset",
    "II": "Individual",
    "ID": "Individual detained",
    "IR": "Individual reset",
    "CY": "Custody",
}


class _Malformed(ValueError):
    """An answer whose shape is not ACIS's: a changed layout, never a fact about the case."""


def _day(value: Any, where: str) -> date | None:
    """``"2026-08-06T00:00:00"`` -> 2026-08-06, court-local (never parsed as UTC); absent or
    empty is None. Anything else (``"01/15/2027"``, a number) is not how ACIS writes dates: the
    answer is refused as a changed layout, never read as "no hearing"."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise _Malformed(f"{where} is {str(value)[:40]!r}, not a date as ACIS writes them")


def _obj(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed(f"{key} is a {type(value).__name__}, not an object")
    return value


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def split_address(raw: str | None) -> list[str]:
    """Pipe-delimited ACIS address ("CITY, STATE NAME|street|CITY, ST ZIP"), with the leading
    city segment, which repeats the last one, dropped for display."""
    parts = [p.strip() for p in (raw or "").split("|") if p.strip()]
    if len(parts) >= 3:
        parts = parts[1:]
    return parts


def court_zone(court: str, address: list[str]) -> str:
    """IANA zone of a court, from its code or the state in its address ("" when unknown)."""
    if court in COURT_ZONES:
        return COURT_ZONES[court]
    for part in reversed(address):
        words = part.replace(",", " ").split()
        for word in reversed(words):
            if len(word) == 2 and word.isalpha() and word.upper() in STATE_ZONES:
                return STATE_ZONES[word.upper()]
    return ""


def _hearing(body: dict[str, Any], today: date) -> HearingSnapshot | None:
    schedule, data, proceeding = (
        _obj(body, "Schedule"),
        _obj(body, "Data"),
        _obj(body, "Proceeding"),
    )
    adj = _day(schedule.get("AdjDate"), "Schedule.AdjDate")
    if schedule.get("AdjDate") is not None:
        # Schedule wins over Data.LatestHearing*; a past Schedule date means no upcoming hearing.
        if adj is None or adj < today:
            return None
        day, time, cal = adj, schedule.get("AdjTime"), schedule.get("CalType")
    else:
        latest = _day(data.get("LatestHearingDate"), "Data.LatestHearingDate")
        if latest is None or latest < today:
            return None
        day, time, cal = latest, data.get("LatestHearingTime"), data.get("LatestCalType")
    medium_code = _text(schedule.get("HearingMedium"))
    location_code = _text(
        schedule.get("HearingLocationCode") or proceeding.get("HearingLocationCode")
    )
    address = split_address(
        schedule.get("HearingLocationAddress") or proceeding.get("HearingLocationAddress")
    )
    court = _text(proceeding.get("BaseCityCode"))
    # Labels are the same in either language, so a lookup in Spanish after one in English is
    # not a change; messages translate them.
    return HearingSnapshot(
        date=day.isoformat(),
        time=_text(time),
        timezone=court_zone(court, address),
        court=court,
        location=" · ".join([location_code, *address]) if address else location_code,
        judge=_text(schedule.get("IJ_Name") or proceeding.get("IJName")),
        medium=MEDIUM.get(medium_code, medium_code),
        calendar_type=CALENDAR.get(_text(cal), _text(cal)),
        schedule_type=SCHEDULE.get(
            _text(schedule.get("ScheduleType")), _text(schedule.get("ScheduleType"))
        ),
        webex=https_only(_text(schedule.get("IJ_WebExURLLink"))),
    )


def _status(body: dict[str, Any]) -> CaseStatus:
    data, proceeding, appeal = _obj(body, "Data"), _obj(body, "Proceeding"), _obj(body, "Appeal")
    case_id = data.get("CaseID")
    return CaseStatus(
        case_id=case_id if isinstance(case_id, int) else None,
        base_city=_text(proceeding.get("BaseCityCode")),
        case_type=_text(proceeding.get("CaseType")),
        decision_code=_text(proceeding.get("DecisionCode")),
        decision_text=_text(data.get("CaseDecisionString")),
        completed_on=_day(proceeding.get("CompDate"), "Proceeding.CompDate"),
        appeal_due_on=_day(proceeding.get("DateAppealDue"), "Proceeding.DateAppealDue"),
        appeal_filed=bool(
            data.get("AppealFiled") or data.get("CaseAppealExists") or appeal.get("FiledDate")
        ),
        appeal_filed_on=_day(appeal.get("FiledDate"), "Appeal.FiledDate"),
        pending_at_bia=bool(data.get("PendingAtBIA")),
    )


def parse_case_info(
    status: int, body: bytes | str, today: date, language: str = "EN"
) -> AcisObservation:
    """Decide the outcome of one GetCaseInfo answer and normalize a hit.

    ``today`` is the court-local date of the lookup (a past hearing is not an upcoming one).
    """
    raw = body.encode() if isinstance(body, str) else body
    digest = hashlib.sha256(raw).hexdigest()

    def result(outcome: Outcome, message: str = "", **kw: Any) -> AcisObservation:
        return AcisObservation(
            outcome=outcome,
            language=language,
            http_status=status,
            message=message[:300],
            raw_sha256=digest,
            **kw,
        )

    try:
        parsed = json.loads(raw)
    except RecursionError:
        return result(Outcome.layout_changed, f"HTTP {status}, JSON nested too deeply")
    except (ValueError, UnicodeDecodeError):
        snippet = raw[:120].decode("utf-8", "replace").strip()
        return result(Outcome.upstream_error, f"HTTP {status}, not JSON: {snippet}")
    if not isinstance(parsed, dict):
        return result(Outcome.layout_changed, f"HTTP {status}, JSON is not an object")
    message = parsed.get("message") or parsed.get("Message")
    if isinstance(message, str) and "Data" not in parsed:
        lowered = message.lower()
        for fragment, outcome in _MESSAGES:
            if fragment in lowered:
                return result(outcome, message)
        return result(Outcome.upstream_error, f"HTTP {status}: {message}")
    if status >= 500:
        return result(Outcome.upstream_error, f"HTTP {status}")
    data = parsed.get("Data")
    if isinstance(data, dict) and data.get("ValidAlienNumber") is False:
        return result(Outcome.not_found, "ValidAlienNumber: false")
    missing = [key for key in _REQUIRED if key not in parsed]
    if missing or not isinstance(data, dict):
        return result(Outcome.layout_changed, f"answer lacks {', '.join(missing) or 'Data'}")
    answered = _text(parsed.get("Language")).upper() or language
    try:
        hearing, case_status = _hearing(parsed, today), _status(parsed)
    except _Malformed as exc:
        return result(Outcome.layout_changed, f"HTTP {status}: {exc}")
    link = _text(_obj(parsed, "Schedule").get("IJ_WebExURLLink"))
    dropped = ""
    if hearing is not None and link and not https_only(link):
        dropped = "the hearing's meeting link was not an https: link: it was dropped"
    return result(Outcome.ok, dropped, hearing=hearing, status=case_status).model_copy(
        update={"language": answered}
    )


# ------------------------------------------------------------------------------- the spider


def nationality_label(code: str) -> str:
    """The option label ACIS shows: ``NAME (CODE)`` (picking by label avoids IN/IO mix-ups)."""
    from storage.identifiers import nationalities

    return f"{nationalities()[code].name} ({code})"


# -- storing an answer (the spider's, or a pool worker's) -----------------------------------------


def store_item(engine: Any, run_id: int, zone: str, item: dict[str, Any]) -> str:
    """Parse one ACIS lookup's item (the spider's, or a pool worker's) and store it with the
    run it belongs to, for every client it was made for; return its outcome."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from storage.acis import record
    from storage.db import session_scope
    from storage.models import Client
    from storage.snapshots import AcisObservation, Outcome

    now = datetime.now(UTC)
    raw = (item.get("body") or "").encode()
    if "outcome" in item:
        observation = AcisObservation(
            outcome=Outcome(item["outcome"]),
            language=item["language"],
            http_status=0,
            message=item.get("message", ""),
            raw_sha256="",
        )
    else:
        today = now.astimezone(ZoneInfo(zone)).date()
        observation = parse_case_info(item["http_status"], raw, today, item["language"])
    with session_scope(engine) as session:
        for client_id in item.get("client_ids") or [item["client_id"]]:
            client = session.get(Client, client_id)  # each program that watches the person
            assert client is not None
            record(
                session,
                client,
                observation,
                raw,
                now,
                nationality_code=item["nationality_code"],
                crawl_run_id=run_id,
            )
    return observation.outcome.value


# -- the page script (a person's steps on ACIS) -------------------------------------------------


async def acis_lookup(
    page: Any,
    a_number: str,
    nationality_label: str,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
    response_timeout_ms: float = 20_000,
    before_submit: Callable[[], Awaitable[None]] | None = None,
) -> Captured:
    """On a loaded ACIS page: consent, the nine digits, the nationality, submit; return the
    GetCaseInfo answer the page itself receives. ``before_submit`` is awaited just before the
    click that sends the lookup to ACIS."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from spiders.browser import Captured, NoRequestError, need, ran_out, watch_requests

    watch_requests(page)
    await need(page, ".ReactModalPortal button", "consent button", element_timeout_ms)
    await page.locator(".ReactModalPortal button").last.click()
    await asyncio.sleep(pace_s)
    await need(
        page, '.react-code-input input[inputmode="numeric"]', "A-number inputs", element_timeout_ms
    )
    digits = page.locator('.react-code-input input[inputmode="numeric"]')
    if await digits.count() != 9:
        raise LayoutChangedError(f"expected 9 A-number inputs, found {await digits.count()}")
    await digits.first.click()
    await page.keyboard.type(a_number, delay=60 if pace_s else 0)
    await asyncio.sleep(pace_s)
    await need(page, "#react-select-3-input", "nationality picker", element_timeout_ms)
    name = nationality_label.rsplit(" (", 1)[0]
    await page.locator("#react-select-3-input").click()
    await page.keyboard.type(name[:12], delay=40 if pace_s else 0)
    option = page.get_by_role("option", name=nationality_label, exact=True)
    try:
        await option.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        raise await ran_out(page, f"nationality option {nationality_label!r}") from None
    await option.click()
    await asyncio.sleep(pace_s)
    await need(page, "#btn_submit", "submit button", element_timeout_ms)
    if before_submit is not None:
        await before_submit()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/Case/GetCaseInfo" in r.url else None)
    try:
        async with page.expect_response(
            lambda r: "/api/Case/GetCaseInfo" in r.url, timeout=response_timeout_ms
        ) as info:
            await page.locator("#btn_submit").click()
        response = await info.value
    except PlaywrightTimeout:
        if sent:  # asked, but no answer in time: a slow ACIS, not a captcha
            raise TimedOutError(
                f"ACIS did not answer the lookup within {response_timeout_ms / 1000:.0f} s"
            ) from None
        raise NoRequestError("the page sent no GetCaseInfo request (no captcha token)") from None
    return Captured(response.status, await response.body())


async def look_up(
    page: Any,
    target: dict[str, Any],
    language: str,
    *,
    pace_s: float,
    timeout_s: float,
    look: int = 1,
    before_submit: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any] | None:
    """One lookup on a loaded ACIS page, as the item the store takes; ``None`` when the page
    should be loaded once more first. The crawl's spider and a pool worker both call this.
    ``before_submit`` is awaited just before the click that asks ACIS (the pool's shared
    budget takes its slot there)."""

    item: dict[str, Any] = {
        "client_id": target["client_id"],
        "client_ids": target.get("client_ids", [target["client_id"]]),
        "nationality_code": target["nat_code"],
        "language": language,
    }
    try:
        captured = await acis_lookup(
            page,
            target["a_number"],
            nationality_label(target["nat_code"]),
            pace_s=pace_s,
            element_timeout_ms=timeout_s * 1000,
            response_timeout_ms=2 * timeout_s * 1000,
            before_submit=before_submit,
        )
        item.update(http_status=captured.status, body=captured.body.decode("utf-8", "replace"))
    except SourceError as exc:
        if exc.outcome == "layout_changed" and look < LOOKS:
            # A page that lacks what the lookup needs is looked at once more, freshly loaded,
            # before it is called a changed layout: a page caught mid-deploy or rendered too
            # slowly on a busy machine is not a change admins must act on.
            log.info("layout check failed (%s); loading the page again", exc)
            return None
        note = f" (on {look} loads of the page)" if look > 1 else ""
        item.update(outcome=LOOKUP_OUTCOME[exc.outcome].value, message=f"{exc}{note}")
    except Exception as exc:  # a crashed page or browser: the lookup failed, and says so
        log.exception("lookup failed unexpectedly")
        message = f"{type(exc).__name__}: {exc}"[:300]
        item.update(outcome=LOOKUP_OUTCOME["failed"].value, message=message)
    return item


def make_spider_class() -> type:
    """The Scrapy spider class (built lazily: importing Scrapy is not needed for parsing)."""
    import scrapy
    from scrapy.http import Response

    class AcisSpider(scrapy.Spider):
        """Looks clients up on ACIS as a person would; yields one item per lookup."""

        name = SOURCE

        def __init__(
            self,
            base_url: str,
            targets: list[dict[str, Any]],
            language: str = "EN",
            pace_s: float = 0.3,
            timeout_s: float = 10.0,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")
            self.targets = targets
            self.language = language
            self.pace_s = pace_s
            self.timeout_s = timeout_s

        async def start(self):  # type: ignore[no-untyped-def]
            for request in self.start_requests():
                yield request

        def start_requests(self):  # type: ignore[no-untyped-def]
            for target in self.targets:
                yield self._page_request(target, look=1)

        def _page_request(self, target: dict[str, Any], look: int):  # type: ignore[no-untyped-def]
            path = "/es/" if self.language == "ES" else "/en/"
            return scrapy.Request(
                self.base_url + path,
                callback=self.lookup,
                errback=self.failed,
                dont_filter=True,
                meta={
                    "playwright": True,
                    "playwright_include_page": True,
                    "target": target,
                    "look": look,
                },
            )

        async def lookup(self, response: Response):  # type: ignore[no-untyped-def]
            page = response.meta["playwright_page"]
            target = response.meta["target"]
            looks = response.meta.get("look", 1)
            try:
                item = await look_up(
                    page,
                    target,
                    self.language,
                    pace_s=self.pace_s,
                    timeout_s=self.timeout_s,
                    look=looks,
                )
            finally:
                await page.close()
            if item is None:
                yield self._page_request(target, look=looks + 1)
            else:
                yield item

        async def failed(self, failure):  # type: ignore[no-untyped-def]
            page = failure.request.meta.get("playwright_page")
            if page is not None:
                await page.close()
            target = failure.request.meta["target"]
            yield {
                "client_id": target["client_id"],
                "client_ids": target.get("client_ids", [target["client_id"]]),
                "nationality_code": target["nat_code"],
                "language": self.language,
                "outcome": Outcome.upstream_error.value,
                "message": f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300],
            }

    return AcisSpider


def crawl_options(options: dict[str, str]) -> dict[str, Any]:
    """The spider's own options, from ``spiders.run``'s ``--option NAME=VALUE``."""
    language = options.get("language", "EN")
    if language not in ("EN", "ES"):
        raise ValueError(f"language {language!r}: ACIS answers in EN or ES")
    return {"language": language}
