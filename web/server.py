"""The web app on uvicorn, hardened for the public side of the organization's HTTPS proxy.

- Each connection has :data:`TIMEOUT_S` seconds to send a request's head (uvicorn's keep-alive
  timeout only starts after a first response, so a connection that never sends a byte, or
  trickles one byte at a time, would otherwise be held for ever): :class:`DeadlineH11Protocol`.
- At most ``web_connections_per_address`` connections from one address, and
  :data:`MAX_CONNECTIONS` in all, per worker: a connection over either is answered 503 with
  ``Retry-After`` and closed, and only it; the connections already open keep being served.
  (uvicorn's own ``limit_concurrency`` counts every socket, so 64 idle ones refused everyone.)
- The work in flight is bounded by :class:`web.gate.Gate`, which also answers ``/health``.
- Request heads over 16 KiB are refused by h11; bodies are capped by the app.
- ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are trusted from ``web_trusted_proxies`` only.

:class:`WebServer` runs it in a thread (the tests, and ``web_workers = 0``);
:mod:`web.workers` runs it in worker processes sharing one listening socket.
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
MAX_CONNECTIONS = 1000  # per worker: the file descriptors a worker may spend on sockets
PER_ADDRESS = 64  # the default of web_connections_per_address
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 40\r\n"
    b"X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n"
    b"Busy: too many connections. Try again.\r\n"
)


class Connections:
    """The open connections of one worker, by the peer's address."""

    def __init__(self, per_address: int = PER_ADDRESS, total: int = MAX_CONNECTIONS) -> None:
        self.per_address, self.total = per_address, total
        self.by_address: dict[str, int] = {}
        self.open = 0
        self.refused = 0

    def admit(self, address: str) -> bool:
        if self.open >= self.total or self.by_address.get(address, 0) >= self.per_address:
            self.refused += 1
            return False
        self.open += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1
        return True

    def gone(self, address: str) -> None:
        self.open -= 1
        left = self.by_address.get(address, 1) - 1
        if left:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)


def _protocol_class(connections: Connections) -> type:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlineH11Protocol(H11Protocol):
        """uvicorn's h11 protocol, with a deadline for each request's head and the
        connection caps of :class:`Connections`."""

        _deadline: asyncio.TimerHandle | None = None
        _address: str | None = None  # set when the connection was admitted

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
            peer = transport.get_extra_info("peername")
            address = str(peer[0]) if isinstance(peer, tuple) and peer else "unix"
            if not connections.admit(address):
                # Only this connection is turned away: an answer it can read, then closed.
                self.transport = transport
                transport.write(REFUSAL)
                transport.close()
                return
            self._address = address
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._address is not None:
                super().data_received(data)

        def eof_received(self) -> None:
            if self._address is not None:
                super().eof_received()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a request is being served: the app's own limits apply

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request on this connection has the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            if self._address is None:
                return  # refused: uvicorn never knew it
            connections.gone(self._address)
            self._address = None
            self._disarm()
            super().connection_lost(exc)

    return DeadlineH11Protocol


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"web_listen {text!r} must look like host:port, e.g. 127.0.0.1:8470")
    return host.strip("[]"), int(port)


def uvicorn_config(app: Any, host: str, port: int, settings: Any) -> Any:
    """uvicorn's configuration for ``app``, hardened as this module says."""
    import uvicorn

    connections = Connections(per_address=settings.web_connections_per_address)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol_class(connections),
        lifespan="off",
        timeout_keep_alive=5,
        proxy_headers=True,
        forwarded_allow_ips=settings.web_trusted_proxies,
        server_header=False,
        log_config=None,
        access_log=False,
    )
    config.connections = connections  # type: ignore[attr-defined]  # for the tests and logs
    return config


class WebServer:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread."""

    def __init__(self, app: Any, host: str, port: int, settings: Any) -> None:
        import uvicorn

        self.config = uvicorn_config(app, host, port, settings)
        self.connections: Connections = self.config.connections
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
