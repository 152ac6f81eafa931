"""Browser plumbing shared by the browser sources: launch options and page steps.

Debian's Chromium is launched by Playwright through ``executable_path`` (Playwright's own
browser download is never used). One page does one lookup at a time; the steps are those a
person takes, at a person's pace.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from storage.errors import DocketwatchError

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


class LayoutChangedError(DocketwatchError):
    """An element the lookup needs is not on the page: the site changed."""


class NoRequestError(DocketwatchError):
    """The page was submitted but never called the API: no captcha token was minted."""


@dataclass(frozen=True)
class Captured:
    status: int
    body: bytes


async def _need(page: Page, selector: str, what: str, timeout_ms: float) -> None:
    try:
        await page.wait_for_selector(selector, state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise LayoutChangedError(f"{what} ({selector}) not found on {page.url}") from None


async def acis_lookup(
    page: Page,
    a_number: str,
    nationality_label: str,
    *,
    pace_s: float = 0.3,
    element_timeout_ms: float = 10_000,
    response_timeout_ms: float = 20_000,
) -> Captured:
    """On a loaded ACIS page: consent, the nine digits, the nationality, submit; return the
    GetCaseInfo answer the page itself receives."""
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
        raise LayoutChangedError(f"nationality option {nationality_label!r} not offered") from None
    await option.click()
    await asyncio.sleep(pace_s)
    await _need(page, "#btn_submit", "submit button", element_timeout_ms)
    try:
        async with page.expect_response(
            lambda r: "/api/Case/GetCaseInfo" in r.url, timeout=response_timeout_ms
        ) as info:
            await page.locator("#btn_submit").click()
        response: Response = await info.value
    except PlaywrightTimeout:
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
    last = page.locator("#lastName")
    try:
        await last.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        raise LayoutChangedError("last-name field (#lastName) not found") from None
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
        raise LayoutChangedError("the biographical search form changed") from None
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
    field = page.locator("#alienNumber")
    try:
        await field.wait_for(state="visible", timeout=element_timeout_ms)
    except PlaywrightTimeout:
        content = await page.content()
        if "access denied" in content.lower():
            return LocatorPages(403, content)
        raise LayoutChangedError(f"A-number field (#alienNumber) not found on {page.url}") from None
    await field.press_sequentially(a_number, delay=50 if pace_s else 0)  # Angular needs keys
    await field.blur()
    try:
        await page.select_option(
            "#alien_Search_Country", label=country_label, timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise LayoutChangedError(
            "country-of-birth select (#alien_Search_Country) missing"
        ) from None
    await asyncio.sleep(pace_s)
    try:
        await page.get_by_role("button", name="Search by A-Number").click(
            timeout=element_timeout_ms
        )
    except PlaywrightTimeout:
        raise LayoutChangedError("'Search by A-Number' button missing") from None
    try:
        await page.wait_for_function(
            "() => !document.querySelector('#alienNumber')", timeout=element_timeout_ms * 3
        )
    except PlaywrightTimeout:
        raise LayoutChangedError("the search never showed a result page") from None
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
