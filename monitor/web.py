"""docketwatch's small web endpoint: acknowledgement links from alerts, calendar feeds, and a
health check.

``GET /ack/<alert id>?t=<token>`` shows a page that asks to confirm; its button POSTs the same
token, which acknowledges the alert. Mail scanners open every link in a message, so a GET never
acknowledges anything (it would stop an urgent alert's escalation with nobody having read it).
The token carries its expiry and an HMAC of the alert id and expiry with ``ack_secret``: links
cannot be guessed and stop working after :data:`~monitor.messages.ACK_LINK_DAYS` days.
``GET /calendar/<secret>.ics`` is a staff member's calendar feed of their clients' hearings
(:mod:`monitor.calendar`). ``GET /health`` answers 200. Started by ``docketwatch run`` when
``web_listen`` is set; put it behind the organization's HTTPS proxy.

The server is hardened for the public side of that proxy: each connection has
:data:`TIMEOUT_S` seconds to send its request (a slow client cannot hold a thread), at most
:data:`MAX_CONNECTIONS` are served at once (the others are closed at once with 503, so they
cannot crowd the scheduler's own threads), and request bodies are capped.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import sqlalchemy as sa

from monitor.dispatch import acknowledge
from monitor.messages import check_ack_token
from storage.errors import NotFoundError

log = logging.getLogger(__name__)
_ACK = re.compile(r"^/ack/(\d{1,12})$")
_CALENDAR = re.compile(r"^/calendar/([A-Za-z0-9_-]{16,100})\.ics$")
TIMEOUT_S = 10.0
MAX_CONNECTIONS = 32
MAX_BODY = 4096
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class BoundedServer(ThreadingHTTPServer):
    """A threading server that serves at most :data:`MAX_CONNECTIONS` connections at once."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(
    engine: sa.Engine,
    secret: str,
    host: str,
    port: int,
    clock: Callable[[], datetime] | None = None,
) -> ThreadingHTTPServer:
    now = clock or (lambda: datetime.now(UTC))

    class Handler(BaseHTTPRequestHandler):
        server_version = "docketwatch"
        timeout = TIMEOUT_S  # the whole request must arrive within this, or the socket closes

        def log_message(self, format: str, *args: object) -> None:
            log.debug("web: " + format, *args)

        def handle(self) -> None:
            try:
                super().handle()
            except (TimeoutError, ConnectionError):
                self.close_connection = True  # a slow or vanished client: nothing to answer

        def _page(self, status: int, body_html: str) -> None:
            body = (
                "<!doctype html><html lang='en'><meta charset='utf-8'>"
                "<meta name='viewport' content='width=device-width'>"
                f"<title>docketwatch</title><body>{body_html}</body></html>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")  # the token stays in this page
            self.end_headers()
            self.wfile.write(body)

        def _text(self, status: int, text: str) -> None:
            self._page(status, f"<p>{html.escape(text)}</p>")

        def _checked(self, path: str, token: str) -> int | None:
            """The alert id when ``token`` acknowledges it now; else the answer is sent."""
            match = _ACK.match(path)
            if not match:
                self._text(404, "Not found.")
                return None
            event_id = int(match.group(1))
            problem = check_ack_token(secret, event_id, token, now())
            if problem == "expired":
                expired = (
                    f"This link to acknowledge alert #{event_id} has expired. Run "
                    f"`docketwatch alerts ack {event_id}`, or ask an admin."
                )
                self._text(410, expired)
                return None
            if problem:
                self._text(403, "This acknowledgement link is not valid.")
                return None
            return event_id

        def _calendar(self, token: str) -> None:
            from monitor.calendar import feed_for_token

            body = feed_for_token(engine, token, now())
            if body is None:
                self._text(404, "Not found.")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/health":
                self._text(200, "ok")
                return
            calendar = _CALENDAR.match(parts.path)
            if calendar:
                self._calendar(calendar.group(1))
                return
            token = parse_qs(parts.query).get("t", [""])[0]
            event_id = self._checked(parts.path, token)
            if event_id is None:
                return
            self._page(
                200,
                f"<h1>Acknowledge alert #{event_id}?</h1>"
                "<p>Acknowledging tells docketwatch that you have read the alert and are "
                "handling it: it will not be escalated to the backup attorney.</p>"
                f"<form method='post' action='/ack/{event_id}'>"
                f"<input type='hidden' name='t' value='{html.escape(quote(token, safe='.'))}'>"
                "<button type='submit'>Acknowledge</button></form>",
            )

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                self._text(413 if length.isdigit() else 411, "Request not accepted.")
                return
            form = parse_qs(self.rfile.read(int(length)).decode("latin-1"))
            event_id = self._checked(parts.path, form.get("t", [""])[0])
            if event_id is None:
                return
            try:
                event = acknowledge(engine, event_id, "web link", now())
            except NotFoundError:
                self._text(404, f"Alert #{event_id} does not exist.")
                return
            when = (
                event.acknowledged_at.isoformat(timespec="minutes") if event.acknowledged_at else ""
            )
            self._text(200, f"Alert #{event_id} acknowledged ({when} UTC). Thank you.")

    return BoundedServer((host, port), Handler)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="docketwatch-web", daemon=True)
    thread.start()
    return thread


def parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        from storage.errors import ConfigError

        raise ConfigError(f"web_listen {text!r} must look like host:port, e.g. 127.0.0.1:8470")
    return host, int(port)
