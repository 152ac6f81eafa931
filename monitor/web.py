"""docketwatch's small web endpoint: acknowledgement links from alerts, and a health check.

``GET /ack/<alert id>?t=<token>`` acknowledges an alert (the token is an HMAC of the alert id
with ``ack_secret``, so links cannot be guessed); ``GET /health`` answers 200. Started by
``docketwatch run`` when ``web_listen`` is set. Put it behind the organization's HTTPS proxy.
"""

from __future__ import annotations

import hmac
import html
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from monitor.dispatch import acknowledge
from monitor.messages import ack_token
from storage.errors import NotFoundError

log = logging.getLogger(__name__)
_ACK = re.compile(r"^/ack/(\d{1,12})$")


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

        def log_message(self, format: str, *args: object) -> None:
            log.debug("web: " + format, *args)

        def _page(self, status: int, text: str) -> None:
            body = (
                "<!doctype html><meta charset='utf-8'><title>docketwatch</title>"
                f"<p>{html.escape(text)}</p>"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/health":
                self._page(200, "ok")
                return
            match = _ACK.match(parts.path)
            if not match:
                self._page(404, "Not found.")
                return
            event_id = int(match.group(1))
            token = parse_qs(parts.query).get("t", [""])[0]
            if not hmac.compare_digest(token, ack_token(secret, event_id)):
                self._page(403, "This acknowledgement link is not valid.")
                return
            try:
                event = acknowledge(engine, event_id, "web link", now())
            except NotFoundError:
                self._page(404, f"Alert #{event_id} does not exist.")
                return
            when = (
                event.acknowledged_at.isoformat(timespec="minutes") if event.acknowledged_at else ""
            )
            self._page(200, f"Alert #{event_id} acknowledged ({when} UTC). Thank you.")

    return ThreadingHTTPServer((host, port), Handler)


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
