"""Browser plumbing shared by the browser sources: launch options and page steps.

Debian's Chromium is launched by Playwright through ``executable_path`` (Playwright's own
browser download is never used). One page does one lookup at a time; the steps are those a
person takes, at a person's pace.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page, Request, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from storage.errors import BlockedError, LayoutChangedError, SourceError, TimedOutError

CHROMIUM_ARGS = [
    "--no-sandbox",  # the service may run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_options(executable: str, headed: bool) -> dict[str, Any]:
    return {"executable_path": executable, "headless": not headed, "args": CHROMIUM_ARGS}


class NoRequestError(BlockedError):
    """The page was submitted but never called the API: no captcha token was minted."""


_IN_FLIGHT: weakref.WeakKeyDictionary[Page, set[Request]] = weakref.WeakKeyDictionary()


def _watch_requests(page: Page) -> None:
    """Keep count of the page's own API calls (same-origin XHR and fetch) still unanswered."""
    if page in _IN_FLIGHT:
        return
    pending: set[Request] = set()
    _IN_FLIGHT[page] = pending

    def started(request: Request) -> None:
        same_site = urlsplit(request.url).netloc == urlsplit(page.url).netloc
        if request.resource_type in ("xhr", "fetch") and same_site:
            pending.add(request)

    def ended(request: Request) -> None:
        pending.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)


async def _ran_out(page: Page, what: str) -> SourceError:
    """A wait ran out. A page still loading, or still waiting for its own API's answer, is a
    slow site (timed out); a page that has all it asked for and still lacks what the lookup
    needs has changed (layout changed)."""
    try:
        state = await page.evaluate("document.readyState")
    except Exception:  # the page itself is gone or stuck: nothing to conclude about its layout
        state = ""
    if state != "complete":
        return TimedOutError(f"{what}: {page.url} was still loading when the wait ran out")
    if _IN_FLIGHT.get(page):
        return TimedOutError(f"{what}: {page.url} was still waiting for the site's answer")
    return LayoutChangedError(f"{what} not found on {page.url}")


@dataclass(frozen=True)
class Captured:
    status: int
    body: bytes


async def open_page(page: Page, url: str, timeout_ms: float) -> None:
    """Navigate to ``url``; a page that does not load in time is a slow site (timed out)."""
    try:
        await page.goto(url, timeout=timeout_ms)
    except PlaywrightTimeout:
        raise TimedOutError(f"{url} did not load within {timeout_ms / 1000:.0f} s") from None


async def _need(page: Page, selector: str, what: str, timeout_ms: float) -> None:
    try:
        await page.wait_for_selector(selector, state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise await _ran_out(page, f"{what} ({selector})") from None


async def acis_lookup(
    page: Page,
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
    _watch_requests(page)
    await _need(page, ".ReactModalPortal button", "consent button", element_timeout_ms)
    await page.locator(".ReactModalPortal button").last.click()
    await asyncio.sleep(pace_s)
    await _need(
        page, '.react-code-input input[inputmode="numeric"]', "A-number inputs", element_timeout_ms
    )
    digits = page.locator('.react-code-input input[inputmode="numeric"]')
    if await digits.count() != 9:
        raise LayoutChangedError(f"expected 9 A-number inputs, found {await digits.count()}")
    await digits.first.click()
    await page.keyboard.type(a_number, delay=60 if pace_s else 0)
    await asyncio.sleep(pace_s)
    await _need(page, "#react-select-3-input", "nationality picker", element_timeout_ms)
    name = nationality_label.rsplit(" (", 1)[0]
    await page.locator("#react-select-3-input").click()
    await page.keyboard.type(name[:12], delay=40 if pace_s else 0)
    option = page.get_by_role("option", name=nationality_label, exact=True)
    try:
        await option.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        raise await _ran_out(page, f"nationality option {nationality_label!r}") from None
    await option.click()
    await asyncio.sleep(pace_s)
    await _need(page, "#btn_submit", "submit button", element_timeout_ms)
    if before_submit is not None:
        await before_submit()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/Case/GetCaseInfo" in r.url else None)
    try:
        async with page.expect_response(
            lambda r: "/api/Case/GetCaseInfo" in r.url, timeout=response_timeout_ms
        ) as info:
            await page.locator("#btn_submit").click()
        response: Response = await info.value
    except PlaywrightTimeout:
        if sent:  # asked, but no answer in time: a slow ACIS, not a captcha
            raise TimedOutError(
                f"ACIS did not answer the lookup within {response_timeout_ms / 1000:.0f} s"
            ) from None
        raise NoRequestError("the page sent no GetCaseInfo request (no captcha token)") from None
    return Captured(response.status, await response.body())


@dataclass(frozen=True)
class LocatorPages:
    status: int
    results_html: str
    facility_html: str = ""


async def locator_bio_lookup(
    page: Page,
    family_name: str,
    given_name: str,
    country_label: str,
    born: tuple[int, int, int] | None,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
) -> LocatorPages:
    """The biographical form (last name, first name, country of birth, date of birth)."""
    _watch_requests(page)
    last = page.locator("#lastName")
    try:
        await last.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        raise await _ran_out(page, "last-name field (#lastName)") from None
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
        raise await _ran_out(page, "the biographical search's result") from None
    return await _results(page, pace_s, element_timeout_ms)


async def locator_lookup(
    page: Page,
    a_number: str,
    country_label: str,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
) -> LocatorPages:
    """On the locator's search page: the A-number form, country of birth by label, search;
    return the results HTML and, for a detained person, the facility page's."""
    _watch_requests(page)
    field = page.locator("#alienNumber")
    try:
        await field.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        content = await page.content()
        if "access denied" in content.lower():
            return LocatorPages(403, content)
        raise await _ran_out(page, "A-number field (#alienNumber)") from None
    await field.press_sequentially(a_number, delay=50 if pace_s else 0)  # Angular needs keys
    await field.blur()
    try:
        await page.select_option(
            "#alien_Search_Country", label=country_label, timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise await _ran_out(page, "country-of-birth select (#alien_Search_Country)") from None
    await asyncio.sleep(pace_s)
    try:
        await page.get_by_role("button", name="Search by A-Number").click(
            timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise await _ran_out(page, "'Search by A-Number' button") from None
    try:
        await page.wait_for_function(
            "() => !document.querySelector('#alienNumber')", timeout=element_timeout_ms * 3
        )
    except PlaywrightTimeout:
        raise await _ran_out(page, "the search's result page") from None
    return await _results(page, pace_s, element_timeout_ms)


async def _results(page: Page, pace_s: float, element_timeout_ms: float) -> LocatorPages:
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
