"""Plain HTTP for the sources that need no browser: one place that turns what a server answers
into docketwatch's source errors (:mod:`storage.errors`).

- HTTP 401, 403 and 429 are a block (:class:`BlockedError`): never retried in a loop.
- Any other error status, a refused connection or a short body is :class:`FetchFailedError`.
- A server that does not answer within the timeout is :class:`TimedOutError`: a slow site is not
  a changed page.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPResponse

from storage.errors import BlockedError, FetchFailedError, SourceError, TimedOutError

BLOCKING_STATUSES = frozenset({401, 403, 429})


def status_error(status: int, what: str) -> SourceError:
    """The source error for an HTTP error status (``what``: the request, e.g. ``GET url``)."""
    if status in BLOCKING_STATUSES:
        return BlockedError(f"{what}: HTTP {status} (blocked)")
    return FetchFailedError(f"{what}: HTTP {status}")


def transport_error(exc: BaseException, what: str) -> SourceError:
    """The source error for a failure below HTTP: a timeout, a refused or broken connection."""
    if isinstance(exc, urllib.error.HTTPError):
        return status_error(exc.code, what)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return TimedOutError(f"{what}: no answer in time ({reason})")
    return FetchFailedError(f"{what}: {reason}")


@contextmanager
def open_url(
    url: str,
    user_agent: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[HTTPResponse]:
    """Open ``url`` with the declared user agent; every failure is a :class:`SourceError`."""
    what = f"{method} {url}"
    h = {"User-Agent": user_agent, "Accept": "*/*", **(headers or {})}
    request = urllib.request.Request(url, method=method, headers=h)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except (urllib.error.URLError, OSError) as exc:
        raise transport_error(exc, what) from exc
    with response:
        try:
            yield response
        except SourceError:
            raise
        except (urllib.error.URLError, OSError) as exc:  # the body broke off mid-read
            raise transport_error(exc, what) from exc


def fetch_text(url: str, user_agent: str, timeout: float = 60.0) -> str:
    """A page as text, decoded by its declared charset (UTF-8 when it declares none)."""
    with open_url(url, user_agent, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data.decode(resp.headers.get_content_charset() or "utf-8", "replace")
