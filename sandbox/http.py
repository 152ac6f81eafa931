"""The replicas' shared HTTP handler base: quiet, and one way to answer."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class ReplicaHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # test output stays readable; the replicas are not under test here

    def _send(self, status: int, ctype: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
