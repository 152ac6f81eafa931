"""The replicas' shared HTTP handler base: quiet, and one way to answer."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class ReplicaHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # test output stays readable; the replicas are not under test here

    def handle(self) -> None:
        # The browser closed the page before the answer was written: shrugged off, as a site would.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def _send(self, status: int, ctype: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ReplicaServer:
    """A threaded HTTP server on loopback, started and stopped as a context manager."""

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        # Port 0: the kernel picks a free port as the server binds (no window for another
        # process to take it, as there is between finding a free port and binding it).
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
