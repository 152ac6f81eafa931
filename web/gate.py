"""The web app's outermost layer: ``/health`` answered at once, and a limit on the work in flight.

A flood of connections is the server's business (:mod:`web.server` caps them per address);
this gate bounds what they cost once they have sent a request. At most ``limit`` requests are
worked on at once by a worker; the next ones wait for their turn, up to ``wait_s`` seconds, in
the order they came, then get 503 with ``Retry-After``, while those in hand finish. ``/health``
never waits: it is answered here, without the database or the thread pool, so a monitor sees the
process alive under any load of pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
#: the headers every answer carries (the app's own answers get them from ``web.app.Headers``)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
RETRY_AFTER_S = 5


async def plain(send: Send, status: int, text: str, extra: dict[str, str] | None = None) -> None:
    """A short text answer with the security headers."""
    body = text.encode()
    headers = {
        **SECURITY_HEADERS,
        **(extra or {}),
        "content-type": "text/plain; charset=utf-8",
        "content-length": str(len(body)),
    }
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Gate:
    """ASGI middleware: ``/health`` first, then at most ``limit`` requests at once."""

    def __init__(self, app: ASGIApp, limit: int = 32, wait_s: float = 5.0) -> None:
        self.app, self.limit, self.wait_s = app, limit, wait_s
        self._slots: asyncio.Semaphore | None = None  # made in the server's own event loop
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/health" and scope["method"] in ("GET", "HEAD"):
            await plain(send, 200, "ok")
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except TimeoutError:
            self.refused += 1
            await plain(
                send,
                503,
                "Busy: too many requests at once. Try again in a few seconds.",
                {"retry-after": str(RETRY_AFTER_S)},
            )
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()
