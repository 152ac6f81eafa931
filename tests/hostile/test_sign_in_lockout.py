"""Nobody can lock an attorney out of signing in from elsewhere: failed sign-ins lock one
(email, address) pair and one address, and only slow an email down across addresses
(issue 27, point 8). Each rule holds with the failures in memory and in the database (the web
app's worker processes share them there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from web.auth import Failures, StoredFailures, Throttle

ANA = "ana@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "database"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield Failures()
    else:
        yield StoredFailures(request.getfixturevalue("sqlite_engine"))


def test_failures_from_one_address_lock_that_pair_only(store: Any) -> None:
    clock = Clock()
    throttle = Throttle(clock=clock, failures=store)
    for _ in range(5):
        assert not throttle.blocked(ANA, "203.0.113.9")
        throttle.failed(ANA, "203.0.113.9")
    assert throttle.blocked(ANA, "203.0.113.9")  # the guesser's address: locked
    assert not throttle.blocked(ANA, "198.51.100.7")  # Ana at her desk: not
    assert throttle.wait(ANA, "203.0.113.9") == 900.0
    clock.now += 901
    assert not throttle.blocked(ANA, "203.0.113.9")  # the window passed


def test_failures_from_many_addresses_slow_an_email_down_never_lock_it(store: Any) -> None:
    clock = Clock()
    throttle = Throttle(clock=clock, failures=store)
    for i in range(12):  # a distributed guess: two addresses past the free ten
        throttle.failed(ANA, f"203.0.113.{i}")
        clock.now += 0.1
    waited = throttle.wait(ANA, "198.51.100.7")  # 2 ** (12 - 10) s from the last failure
    assert abs(waited - 3.9) < 1e-6
    clock.now += 4
    assert not throttle.blocked(ANA, "198.51.100.7")
    for i in range(40):  # however many, the wait is at most max_wait
        throttle.failed(ANA, f"192.0.2.{i}")
    assert throttle.wait(ANA, "198.51.100.7") == 30.0


def test_an_address_guessing_many_emails_is_locked(store: Any) -> None:
    throttle = Throttle(clock=Clock(), failures=store)
    for i in range(50):
        throttle.failed(f"user{i}@example.org", "203.0.113.9")
    assert throttle.blocked(ANA, "203.0.113.9")
    assert not throttle.blocked(ANA, "198.51.100.7")


def test_signing_in_clears_the_pair_and_the_email(store: Any) -> None:
    throttle = Throttle(clock=Clock(), failures=store)
    for _ in range(4):
        throttle.failed(ANA, "198.51.100.7")
    throttle.succeeded(ANA, "198.51.100.7")
    throttle.failed(ANA, "198.51.100.7")
    assert not throttle.blocked(ANA, "198.51.100.7")  # one failure since, not five


def test_every_web_worker_weighs_the_same_failures(sqlite_engine: sa.Engine) -> None:
    """Two worker processes' throttles on one database: failures met by either count for both,
    and the database keeps no email or address, only their digests."""
    clock = Clock()
    one, two = (Throttle(clock=clock, failures=StoredFailures(sqlite_engine)) for _ in "12")
    for i in range(5):
        (one if i % 2 else two).failed(ANA, "203.0.113.9")
    assert one.blocked(ANA, "203.0.113.9") and two.blocked(ANA, "203.0.113.9")
    with sqlite_engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT key FROM sign_in_failure")).scalars().all()
    assert len(keys) == 15 and not any("@" in k or "203." in k for k in keys)
    clock.now += 901
    two.failed("bob@example.org", "192.0.2.1")  # old failures are pruned as new ones come
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sign_in_failure")).scalar() == 3
