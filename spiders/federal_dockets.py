"""CourtListener's REST API v4, as the federal_dockets source reads it: dockets, docket entries
(with their RECAP documents), search, docket alerts.

CourtListener authenticates with ``Authorization: Token …`` and throttles each account: a 429
says how long to wait (``Retry-After``), and docketwatch waits at least that long before its next
request (:class:`Throttled`), never retrying in a loop. Every request is counted against the
hour's budget first (``spend``): out of budget, polling stops and resumes next run. Lists are
paged by cursor: ``next`` is followed as CourtListener gives it.

An API client, not a Scrapy spider: the answers are JSON, read one docket at a time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from storage.errors import (
    BlockedError,
    FetchFailedError,
    LayoutChangedError,
    SourceError,
    TimedOutError,
)

SOURCE = "federal_dockets"
#: 5xx answers are retried this many times, after 1 s, then 2 s (then the run fails)
SERVER_RETRIES = 2


class Throttled(BlockedError):
    """CourtListener answered 429: no request before ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutOfBudget(SourceError):
    """The hour's request budget is spent: the rest waits for the next run (not a failure)."""

    outcome = "ok"


class NotFound(SourceError):
    """CourtListener has no such object (404)."""


def retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds; a date is read as 60 s); at least 1, at
    most a day."""
    try:
        return min(86400.0, max(1.0, float(value or 60)))
    except ValueError:
        return 60.0


class CourtListener:
    """One session with CourtListener's API. ``spend()`` is called before every request and
    returns False when the budget is spent."""

    def __init__(
        self,
        base_url: str,
        token: str,
        user_agent: str,
        spend: Callable[[], bool],
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = base_url.rstrip("/")
        self._spend = spend
        self._sleep = sleep
        self.requests = 0
        self._http = httpx.Client(
            headers={
                "Authorization": f"Token {token}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
            timeout=timeout,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CourtListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}/{path.lstrip('/')}"

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        url = self.url(path)
        what = f"{method} {url.split('?')[0]}"
        for attempt in range(SERVER_RETRIES + 1):
            if not self._spend():
                raise OutOfBudget("the hour's CourtListener request budget is spent")
            self.requests += 1
            try:
                answer = self._http.request(method, url, params=params, **kw)
            except httpx.TimeoutException as exc:
                raise TimedOutError(f"{what}: no answer in time ({exc})") from None
            except httpx.HTTPError as exc:
                raise FetchFailedError(f"{what}: {exc}") from None
            if answer.status_code == 429:
                wait = retry_after(answer.headers.get("Retry-After"))
                raise Throttled(f"{what}: throttled (429); retry after {wait:.0f} s", wait)
            if answer.status_code in (401, 403):
                detail = _detail(answer)
                raise BlockedError(
                    f"{what}: CourtListener refused the token ({answer.status_code}: {detail}); "
                    "set it with `docketwatch federal_dockets token`"
                )
            if answer.status_code == 404:
                raise NotFound(f"{what}: not found (404)")
            if answer.status_code >= 500 and attempt < SERVER_RETRIES:
                self._sleep(2.0**attempt)
                continue
            if answer.status_code >= 400:
                raise FetchFailedError(f"{what}: HTTP {answer.status_code} {_detail(answer)}")
            if answer.status_code == 204 or not answer.content:
                return None
            try:
                return answer.json()
            except ValueError:
                raise LayoutChangedError(f"{what}: the answer is not JSON") from None
        raise FetchFailedError(f"{what}: no answer")  # pragma: no cover - the loop returns

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.request("GET", path, params)
        if not isinstance(answer, dict):
            raise LayoutChangedError(f"GET {path}: the answer is not a JSON object")
        return answer

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every result of a list, following ``next`` (cursor pagination) to the end."""
        answer = self.get(path, params)
        while True:
            results = answer.get("results")
            if not isinstance(results, list):
                raise LayoutChangedError(f"GET {path}: the answer has no results list")
            yield from (r for r in results if isinstance(r, dict))
            following = answer.get("next")
            if not following:
                return
            answer = self.get(str(following))

    # ---- the endpoints docketwatch uses

    def dockets(self, court: str, number: str, core: str) -> list[dict[str, Any]]:
        """The court's dockets with this number (exactly as written, else by its core)."""
        found = self.get("dockets/", {"court": court, "docket_number": number}).get("results")
        if not found:
            found = self.get("dockets/", {"court": court, "docket_number_core": core}).get(
                "results"
            )
        return [d for d in found or [] if isinstance(d, dict)]

    def entries(self, docket_id: int, after: int) -> Iterator[dict[str, Any]]:
        """The docket's entries newer than entry id ``after``, oldest first."""
        return self.pages(
            "docket-entries/", {"docket": docket_id, "id__gt": after, "order_by": "id"}
        )

    def entry(self, entry_id: int) -> dict[str, Any]:
        return self.get(f"docket-entries/{entry_id}/")

    def search(self, name: str, courts: list[str]) -> list[dict[str, Any]]:
        answer = self.get("search/", {"type": "d", "q": f'"{name}"', "court": " ".join(courts)})
        return [r for r in answer.get("results") or [] if isinstance(r, dict)]

    def add_alert(self, docket_id: int) -> int:
        answer = self.request("POST", "docket-alerts/", json={"docket": docket_id})
        if not isinstance(answer, dict) or "id" not in answer:
            raise LayoutChangedError("POST docket-alerts/: the answer has no id")
        return int(answer["id"])

    def delete_alert(self, alert_id: int) -> None:
        with contextlib.suppress(NotFound):  # deleted already
            self.request("DELETE", f"docket-alerts/{alert_id}/")


def _detail(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:200]


def docket_of(entry: dict[str, Any]) -> int | None:
    """The docket id of an entry: an integer in webhook bodies, a URL in the REST API's."""
    value = entry.get("docket")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        tail = value.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None
    return None
