"""ICE Online Detainee Locator: classify a result page, read a facility page, drive the search.

:func:`parse_result` and :func:`parse_facility` are pure functions of the HTML the page shows
(sources.md §2.4). A single zero result proves nothing (the real locator gives false zeros):
the spider retries a zero in fresh pages, and the monitor needs several zero lookups in a row,
spaced out, before it says anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from parsel import Selector

from spiders.http import BLOCKING_STATUSES
from storage.errors import SourceError
from storage.snapshots import CustodyObservation, CustodyOutcome

SOURCE = "detainee_locator"
# a source error (by its run outcome) -> what the lookup is recorded as
LOOKUP_OUTCOME = {
    "blocked": CustodyOutcome.blocked,
    "layout_changed": CustodyOutcome.layout_changed,
    "timed_out": CustodyOutcome.timed_out,
    "failed": CustodyOutcome.error,
}
_LABEL = re.compile(r"^\s*([A-Za-z -]+?)\s*:\s*(.*?)\s*$")
_ZERO = "returned zero (0) matching records"
_ERROR = "an internal error has occurred"
_BLOCK = ("access denied", "verify you are a human", "request blocked", "captcha")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_result(status: int, html: str) -> CustodyObservation:
    """Classify the results the page shows after an A-number search."""
    digest = _digest(html)
    low = html.lower()

    def result(outcome: CustodyOutcome, message: str = "", **kw: Any) -> CustodyObservation:
        return CustodyObservation(outcome=outcome, message=message[:300], raw_sha256=digest, **kw)

    if status in BLOCKING_STATUSES or any(marker in low for marker in _BLOCK):
        return result(CustodyOutcome.blocked, f"HTTP {status}: blocked or captcha")
    if _ERROR in low:
        return result(CustodyOutcome.ambiguous, "the locator's Internal Error page")
    if status >= 500:
        return result(CustodyOutcome.error, f"HTTP {status}")
    if _ZERO in low:
        return result(CustodyOutcome.zero)
    page = Selector(text=html)
    container = page.css("#resultsPage")
    if not container:
        return result(CustodyOutcome.layout_changed, "no #resultsPage on the result page")
    fields: dict[str, str] = {}
    for node in container.xpath(".//div[not(div)]"):  # the "Label : Value" lines
        line = " ".join(" ".join(node.css("::text").getall()).split())
        match = _LABEL.match(line)
        if match and match.group(1).strip().lower() not in fields:
            fields[match.group(1).strip().lower()] = match.group(2)
    status_text = fields.get("status", "")
    if not status_text:
        return result(CustodyOutcome.layout_changed, "result without a Status line")
    detained = "in ice custody" in status_text.lower()
    facility = " ".join(container.css("span.detention-link ::text").getall()).strip() or fields.get(
        "current detention facility", ""
    )
    if detained and not facility:
        return result(CustodyOutcome.layout_changed, "in custody, but no facility shown")
    return result(
        CustodyOutcome.found,
        detained=detained,
        status_text=status_text,
        country_of_birth=fields.get("country of birth", ""),
        state=fields.get("state", ""),
        facility_name=facility if detained else "",
    )


def parse_facility(html: str) -> tuple[str, tuple[str, ...], str]:
    """(name, address lines, phone) from a facility page (``#detentionPage``)."""
    page = Selector(text=html)
    info = page.css("#detentionPage .facility-info")
    if not info:
        return "", (), ""
    name = " ".join(info.css(".facility-name ::text").getall()).strip()
    lines = [" ".join(d.css("::text").getall()).strip() for d in info.xpath("./div")]
    address = tuple(x for x in lines if x and x != name and not x.startswith("ERO"))
    phone_text = " ".join(info.css(".ero ::text").getall())
    phone = phone_text.split("Phone Number:", 1)[1].strip() if "Phone Number:" in phone_text else ""
    return name, address, phone


# ------------------------------------------------------------------------------- the spider


def country_label(code: str) -> str:
    """The locator's country-of-birth label for an EOIR code ("EL SALVADOR" -> "El Salvador")."""
    from storage.identifiers import nationalities

    name = nationalities()[code].name
    return " ".join(w.capitalize() for w in name.split())


# -- storing an answer (in the crawl process) ---------------------------------------------------


def store_item(engine: Any, run_id: int, zone: str, item: dict[str, Any]) -> str:
    """Parse one lookup's item (the spider's) and store it with the run it belongs to, for
    every client it was made for; return its outcome."""
    from datetime import UTC, datetime

    from storage.db import session_scope
    from storage.detainee_locator import record
    from storage.models import Client
    from storage.snapshots import CustodyObservation, CustodyOutcome

    now = datetime.now(UTC)
    html = item.get("html", "")
    if "outcome" in item:
        observation = CustodyObservation(
            outcome=CustodyOutcome(item["outcome"]), message=item.get("message", "")
        )
    else:
        observation = parse_result(item["status"], html)
        if item.get("via"):
            observation = observation.model_copy(
                update={"message": f"searched by {item['via']} information"}
            )
        if item.get("facility_html"):
            name, address, phone = parse_facility(item["facility_html"])
            observation = observation.model_copy(
                update={
                    "facility_address": address,
                    "facility_phone": phone,
                    "facility_name": observation.facility_name or name,
                }
            )
    with session_scope(engine) as session:
        for client_id in item.get("client_ids") or [item["client_id"]]:
            client = session.get(Client, client_id)  # each program that watches the person
            assert client is not None
            record(
                session,
                client,
                observation,
                html,
                now,
                attempts=item.get("attempts", 1),
                crawl_run_id=run_id,
            )
    return observation.outcome.value


# -- the page script (a person's steps on the locator) ------------------------------------------


@dataclass(frozen=True)
class LocatorPages:
    status: int
    results_html: str
    facility_html: str = ""


async def locator_bio_lookup(
    page: Any,
    family_name: str,
    given_name: str,
    country_label: str,
    born: tuple[int, int, int] | None,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
) -> LocatorPages:
    """The biographical form (last name, first name, country of birth, date of birth)."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from spiders.browser import ran_out, watch_requests

    watch_requests(page)
    last = page.locator("#lastName")
    try:
        await last.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        raise await ran_out(page, "last-name field (#lastName)") from None
    await last.press_sequentially(family_name, delay=50 if pace_s else 0)
    await page.locator("#firstName").press_sequentially(given_name, delay=50 if pace_s else 0)
    await page.locator("#firstName").blur()
    try:
        await page.select_option(
            "#bio_Search_Country", label=country_label, timeout=element_timeout_ms
        )
        if born is not None:
            year, month, day = born
            await page.select_option("[formcontrolname=month]", label=str(month))
            await page.select_option("[formcontrolname=day]", label=str(day))
            await page.select_option("[formcontrolname=year]", label=str(year))
        await page.get_by_role("button", name="Search by Biographical Information").click(
            timeout=element_timeout_ms
        )
        await page.wait_for_function(
            "() => !document.querySelector('#lastName')", timeout=element_timeout_ms * 3
        )
    except PlaywrightTimeout:
        raise await ran_out(page, "the biographical search's result") from None
    return await _results(page, pace_s, element_timeout_ms)


async def locator_lookup(
    page: Any,
    a_number: str,
    country_label: str,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
) -> LocatorPages:
    """On the locator's search page: the A-number form, country of birth by label, search;
    return the results HTML and, for a detained person, the facility page's."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    from spiders.browser import ran_out, watch_requests

    watch_requests(page)
    field = page.locator("#alienNumber")
    try:
        await field.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        content = await page.content()
        if "access denied" in content.lower():
            return LocatorPages(403, content)
        raise await ran_out(page, "A-number field (#alienNumber)") from None
    await field.press_sequentially(a_number, delay=50 if pace_s else 0)  # Angular needs keys
    await field.blur()
    try:
        await page.select_option(
            "#alien_Search_Country", label=country_label, timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise await ran_out(page, "country-of-birth select (#alien_Search_Country)") from None
    await asyncio.sleep(pace_s)
    try:
        await page.get_by_role("button", name="Search by A-Number").click(
            timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise await ran_out(page, "'Search by A-Number' button") from None
    try:
        await page.wait_for_function(
            "() => !document.querySelector('#alienNumber')", timeout=element_timeout_ms * 3
        )
    except PlaywrightTimeout:
        raise await ran_out(page, "the search's result page") from None
    return await _results(page, pace_s, element_timeout_ms)


async def _results(page: Any, pace_s: float, element_timeout_ms: float) -> LocatorPages:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    results = await page.inner_html("#app")
    facility = ""
    link = page.locator("span.detention-link")
    if await link.count():
        await asyncio.sleep(pace_s)
        await link.first.click()
        try:
            await page.wait_for_selector("#detentionPage", timeout=element_timeout_ms)
            facility = await page.inner_html("#app")
        except PlaywrightTimeout:
            facility = ""
    return LocatorPages(200, results, facility)


def make_spider_class() -> type:
    import scrapy
    from scrapy.http import Response

    from spiders.browser import open_page

    class DetaineeLocatorSpider(scrapy.Spider):
        """Searches the ICE locator by A-number and country of birth, one client at a time; a
        zero result is tried again in fresh browser contexts before it counts."""

        name = SOURCE

        def __init__(
            self,
            base_url: str,
            targets: list[dict[str, Any]],
            pace_s: float = 0.3,
            zero_attempts: int = 3,
            timeout_s: float = 10.0,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url.rstrip("/")
            self.targets = targets
            self.pace_s = pace_s
            self.zero_attempts = zero_attempts
            self.wait_ms = timeout_s * 1000

        async def start(self):  # type: ignore[no-untyped-def]
            for request in self.start_requests():
                yield request

        def start_requests(self):  # type: ignore[no-untyped-def]
            for target in self.targets:
                yield scrapy.Request(
                    self.base_url + "/odls/#/search",
                    callback=self.lookup,
                    dont_filter=True,
                    meta={"playwright": True, "playwright_include_page": True, "target": target},
                )

        async def _fresh_attempt(self, page: Any, a_number: str, label: str) -> LocatorPages:
            context = await page.context.browser.new_context()
            try:
                fresh = await context.new_page()
                await open_page(fresh, self.base_url + "/odls/#/search", 3 * self.wait_ms)
                return await locator_lookup(
                    fresh, a_number, label, pace_s=self.pace_s, element_timeout_ms=self.wait_ms
                )
            finally:
                await context.close()

        async def _bio_attempt(self, page: Any, bio: dict[str, Any], label: str) -> LocatorPages:
            """Fallback: last name, first name, country and date of birth, in a fresh context."""
            context = await page.context.browser.new_context()
            try:
                fresh = await context.new_page()
                await open_page(fresh, self.base_url + "/odls/#/search", 3 * self.wait_ms)
                born = tuple(bio["born"]) if bio.get("born") else None
                return await locator_bio_lookup(
                    fresh,
                    bio["family"],
                    bio["given"],
                    label,
                    born,
                    pace_s=self.pace_s,
                    element_timeout_ms=self.wait_ms,
                )
            finally:
                await context.close()

        async def lookup(self, response: Response):  # type: ignore[no-untyped-def]
            page = response.meta["playwright_page"]
            target = response.meta["target"]
            item: dict[str, Any] = {
                "client_id": target["client_id"],
                "client_ids": target.get("client_ids", [target["client_id"]]),
                "attempts": 1,
            }
            label = country_label(target["country"])
            try:
                if response.status in BLOCKING_STATUSES:
                    item.update(status=response.status, html=response.text)
                else:
                    pages = await locator_lookup(
                        page,
                        target["a_number"],
                        label,
                        pace_s=self.pace_s,
                        element_timeout_ms=self.wait_ms,
                    )
                    while (
                        item["attempts"] < self.zero_attempts
                        and parse_result(pages.status, pages.results_html).outcome
                        is CustodyOutcome.zero
                    ):
                        item["attempts"] += 1
                        pages = await self._fresh_attempt(page, target["a_number"], label)
                    bio = target.get("bio")
                    if bio and parse_result(pages.status, pages.results_html).outcome is (
                        CustodyOutcome.zero
                    ):
                        pages = await self._bio_attempt(page, bio, label)
                        item["via"] = "biographical"
                    item.update(
                        status=pages.status,
                        html=pages.results_html,
                        facility_html=pages.facility_html,
                    )
            except SourceError as exc:
                item.update(outcome=LOOKUP_OUTCOME[exc.outcome].value, message=str(exc))
            except Exception as exc:  # a crashed page or browser: the lookup failed, and says so
                self.logger.exception("lookup failed unexpectedly")
                message = f"{type(exc).__name__}: {exc}"[:300]
                item.update(outcome=LOOKUP_OUTCOME["failed"].value, message=message)
            finally:
                await page.close()
            yield item

    return DetaineeLocatorSpider


def crawl_options(options: dict[str, str]) -> dict[str, Any]:
    """The spider's own options, from ``spiders.run``'s ``--option NAME=VALUE``."""
    return {"zero_attempts": int(options.get("zero_attempts", "3"))}
