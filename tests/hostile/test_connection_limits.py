"""Issue 27, point 2: a burst of connections, or one client's held sockets, never refuse
everyone. Over real HTTP on loopback, with the attacker on its own address (127.0.0.2: Linux
answers the whole of 127/8) and the honest users on theirs.

What a direct exposure withstands (the README's "What protects it" says the same):

- any number of addresses at once, each within ``web_connections_per_address`` (64): served,
  their requests waiting their turn for the work in flight (32 at once per worker, up to 5 s);
- one address holding more sockets than its cap: only the extra ones are answered 503 and
  closed; everyone else, and its own admitted connections, are served;
- sockets that never send a request are closed after 10 s (:data:`web.server.TIMEOUT_S`);
- ``/health`` is answered before the limit on work, without the database.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.alerting import web_server
from web.gate import Gate
from web.server import PER_ADDRESS, TIMEOUT_S

ATTACKER = "127.0.0.2"


@pytest.fixture
def server(sqlite_engine: sa.Engine) -> Iterator[Any]:
    served = web_server(sqlite_engine, "s3cret", 0)
    try:
        yield served
    finally:
        served.stop()


def _get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        return answer.status, answer.getheader("Retry-After") or ""
    finally:
        conn.close()


def test_a_burst_from_many_addresses_is_served_whole(server: Any) -> None:
    """80 people at once (the attack that got 80 x 503 before): every one is served."""
    go = threading.Barrier(80)
    statuses: list[int] = []

    def person(i: int) -> None:
        go.wait()
        statuses.append(_get(server.port, "/login", f"127.0.0.{10 + i}")[0])

    people = [threading.Thread(target=person, args=(i,)) for i in range(80)]
    for p in people:
        p.start()
    for p in people:
        p.join()
    assert statuses == [200] * 80


def _answer_or_held(sock: socket.socket) -> bytes | None:
    """What the server said on a connection that sent nothing: bytes, b"" (closed) or None
    (still open, silent)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(4096)
    except TimeoutError:
        return None
    except OSError:
        return b""


def test_held_sockets_of_one_address_refuse_only_their_extras(server: Any) -> None:
    port, cap = server.port, PER_ADDRESS
    held: list[socket.socket] = []
    try:
        for _ in range(cap + 16):
            s = socket.socket()
            s.bind((ATTACKER, 0))
            s.connect(("127.0.0.1", port))
            held.append(s)
        # The server has weighed every connection: the extra ones were answered and closed.
        deadline = time.monotonic() + 30
        while server.connections.refused < 16 and time.monotonic() < deadline:
            time.sleep(0.01)
        said = [_answer_or_held(s) for s in held]
        refused = [x for x in said if x]
        assert len(refused) == 16 and said.count(None) == cap
        assert all(x.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 5" in x for x in refused)
        assert server.connections.by_address[ATTACKER] == cap

        # Meanwhile everyone else is served, the health check too; and a connection the
        # attacker was allowed is served as any other.
        assert _get(port, "/login")[0] == 200
        assert _get(port, "/health")[0] == 200
        admitted = next(s for s, x in zip(held, said, strict=True) if x is None)
        admitted.settimeout(10)
        admitted.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert admitted.recv(4096).startswith(b"HTTP/1.1 200 ")

        # Sockets that send nothing are closed by the server after the head deadline, and the
        # health check answers at every poll meanwhile (it answered 4 polls in 54 before).
        polls: list[int] = []
        silent = [s for s, x in zip(held, said, strict=True) if x is None and s is not admitted]
        deadline = time.monotonic() + TIMEOUT_S + 20
        while silent and time.monotonic() < deadline:
            polls.append(_get(port, "/health")[0])
            silent = [s for s in silent if _answer_or_held(s) is None]
        assert not silent, f"{len(silent)} silent connections still held"
        assert polls and set(polls) == {200}
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 30
    while server.connections.by_address.get(ATTACKER) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _get(port, "/login", ATTACKER)[0] == 200  # the address is welcome again


class _Slow:
    """An app whose requests wait until the test lets them go."""

    def __init__(self) -> None:
        self.entered = 0
        self.go = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered += 1
        await self.go.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})


def test_work_in_flight_is_bounded_and_health_answers_outside_it() -> None:
    async def scenario() -> None:
        app = _Slow()
        gate = Gate(app, limit=2, wait_s=0.5)
        transport = httpx.ASGITransport(app=gate)
        async with httpx.AsyncClient(transport=transport, base_url="http://dw") as client:
            first = [asyncio.create_task(client.get("/clients")) for _ in range(2)]
            while app.entered < 2:
                await asyncio.sleep(0)
            health = await client.get("/health")  # not behind the two in hand
            assert (health.status_code, health.text) == (200, "ok")
            assert health.headers["x-frame-options"] == "DENY"
            third = await client.get("/alerts")  # waited its 0.5 s for a turn: none came
            assert third.status_code == 503 and third.headers["retry-after"] == "5"
            assert "content-security-policy" in third.headers
            assert gate.refused == 1 and app.entered == 2
            fourth = asyncio.create_task(client.get("/alerts"))  # waits for a turn...
            app.go.set()  # ... which comes when the two in hand finish
            assert [(await t).status_code for t in first] == [200, 200]
            assert (await fourth).status_code == 200 and app.entered == 3

    asyncio.run(scenario())
