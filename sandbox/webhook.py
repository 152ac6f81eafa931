"""A local HTTP server that records JSON POSTs (Apprise's ``json://`` webhooks, docketwatch's
signed ``webhook://`` channels): each request's path, headers, parsed body and raw bytes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookSink:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.status = 200
        self.statuses: list[int] = []  # answers for the next requests, first first; then status
        self.raw: list[bytes] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                sink.posts.append((self.path, dict(self.headers), body))
                sink.raw.append(raw)
                self.send_response(sink.statuses.pop(0) if sink.statuses else sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # the kernel picks
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def signed_url(self, path: str = "/hook") -> str:
        """A signed webhook channel to this sink, without its secret (one is made when added)."""
        return f"webhook://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
