"""Browser plumbing shared by the browser sources: launch options and the page steps every
source's page script uses (a source's own page script is in ``spiders/<source>.py``).

Debian's Chromium is launched by Playwright through ``executable_path`` (Playwright's own
browser download is never used): headless, its headless shell (``chromium-headless-shell``);
headed, the browser. One page does one lookup at a time; the steps are those a
person takes, at a person's pace.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page, Request
from playwright.async_api import TimeoutError as PlaywrightTimeout

from storage.errors import BlockedError, LayoutChangedError, SourceError, TimedOutError
from storage.settings import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",  # the service may run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_binary(settings: Settings, headed: bool) -> Path:
    """The Chromium to launch: the browser itself when it runs headed, its headless shell
    (``browser_headless_executable``) when headless, or the browser if the shell is missing."""
    shell = Path(settings.browser_headless_executable)
    if headed or not (shell.is_file() and os.access(shell, os.X_OK)):  # as doctor judges it
        return Path(settings.browser_executable)
    return shell


def launch_options(settings: Settings, headed: bool | None = None) -> dict[str, Any]:
    """Playwright's launch options for Debian's Chromium (``headed``: the settings' choice
    unless given)."""
    headed = settings.browser_headed if headed is None else headed
    return {
        "executable_path": str(browser_binary(settings, headed)),
        "headless": not headed,
        "args": CHROMIUM_ARGS,
    }


class NoRequestError(BlockedError):
    """The page was submitted but never called the API: no captcha token was minted."""


_IN_FLIGHT: weakref.WeakKeyDictionary[Page, set[Request]] = weakref.WeakKeyDictionary()


def watch_requests(page: Page) -> None:
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


async def ran_out(page: Page, what: str) -> SourceError:
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


async def need(page: Page, selector: str, what: str, timeout_ms: float) -> None:
    try:
        await page.wait_for_selector(selector, state="visible", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise await ran_out(page, f"{what} ({selector})") from None
