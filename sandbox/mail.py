"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

Used by tests, benchmarks and the demo as the organization's mail relay. It can refuse mail
(``refuse = "554 ..."``), and can hold its reply to a DATA command until released (``hold``), so a
test can kill a sender after the message arrived but before the sender heard back. With a
``maildir`` folder, each message is also written there for a person to read.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.sink.refuse:
            return self.sink.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refuse:
            return self.sink.refuse
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink._store(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        while self.sink.hold.is_set():  # a test keeps the sender waiting for our reply
            time.sleep(0.05)
        return "250 Message accepted"


class _BoundController(Controller):
    """aiosmtpd's controller on a socket bound to port 0 by us: the kernel picks a free port as
    it binds, so parallel test workers never race for one."""

    def __init__(self, handler: object, port: int) -> None:
        self._sock = socket.socket()
        # a sink started again on the port of one just stopped (a mail server back up)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        super().__init__(handler, hostname="127.0.0.1", port=self._sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class SmtpSink:
    def __init__(self, port: int = 0, maildir: Path | None = None) -> None:
        self.messages: list[Received] = []
        self.refuse: str | None = None
        self.hold = threading.Event()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        self._controller = _BoundController(_Handler(self), port)
        self.port = int(self._controller.port)

    def _store(self, received: Received) -> None:
        with self._lock:
            self.messages.append(received)
            if self._maildir is not None:
                self._maildir.add(received.message)
        self.arrived.set()

    def url(self, to: str, sender: str = "docketwatch@example.org") -> str:
        """The Apprise URL that sends to ``to`` through this server (plain SMTP on loopback)."""
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.recipients]

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (a mail server down); stopping a stopped sink does nothing."""
        self.hold.clear()
        if self._controller._sock.fileno() < 0:
            return
        self._controller.stop()
        self._controller._sock.close()  # the port is free again, as when a server goes down

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
