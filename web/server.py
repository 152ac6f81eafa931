"""The web app on uvicorn, hardened for the public side of the organization's HTTPS proxy.

- Each connection has :data:`TIMEOUT_S` seconds to send a request's head (uvicorn's keep-alive
  timeout only starts after a first response, so a connection that never sends a byte, or
  trickles one byte at a time, would otherwise be held for ever): :class:`DeadlineH11Protocol`.
- At most :data:`MAX_CONNECTIONS` connections and tasks at once (uvicorn's
  ``limit_concurrency``); a request over that gets 503 at once.
- Request heads over 16 KiB are refused by h11; bodies are capped by the app.
- ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are trusted from ``web_trusted_proxies`` only.

:class:`WebServer` runs it in a thread of ``docketwatch run`` (or of ``docketwatch web``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from storage.errors import ConfigError

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0
MAX_CONNECTIONS = 64


def _protocol_class() -> type:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlineH11Protocol(H11Protocol):
        """uvicorn's h11 protocol, with a deadline for each request's head."""

        _deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(TIMEOUT_S, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()  # no request head in time: a slow or idle client

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a request is being served: the app's own limits apply

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request on this connection has the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return DeadlineH11Protocol


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"web_listen {text!r} must look like host:port, e.g. 127.0.0.1:8470")
    return host.strip("[]"), int(port)


class WebServer:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread."""

    def __init__(self, app: Any, host: str, port: int, trusted_proxies: str = "127.0.0.1") -> None:
        import uvicorn

        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=_protocol_class(),
            lifespan="off",
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=5,
            proxy_headers=True,
            forwarded_allow_ips=trusted_proxies,
            server_header=False,
            log_config=None,
            access_log=False,
        )
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None
        self.host, self.port = host, port

    def start(self, wait_s: float = 15.0) -> WebServer:
        self.thread = threading.Thread(target=self.server.run, name="docketwatch-web", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + wait_s
        while not self.server.started:
            if not self.thread.is_alive():
                raise ConfigError(f"the web app could not listen on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                raise ConfigError(f"the web app did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        log.info("web app listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
