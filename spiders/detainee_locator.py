"""ICE Online Detainee Locator: classify a result page, read a facility page, drive the search.

:func:`parse_result` and :func:`parse_facility` are pure functions of the HTML the page shows
(sources.md §2.4). A single zero result proves nothing (the real locator gives false zeros):
the spider retries a zero in fresh pages, and the monitor needs several zero lookups in a row,
spaced out, before it says anything.
"""

from __future__ import annotations

import hashlib
import re
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


def make_spider_class() -> type:
    import scrapy
    from scrapy.http import Response

    from spiders.browser import (
        LocatorPages,
        locator_bio_lookup,
        locator_lookup,
        open_page,
    )

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
