"""Nobody can lock an attorney out of signing in from elsewhere: failed sign-ins lock one
(email, address) pair and one address, and only slow an email down across addresses
(issue 27, point 8)."""

from __future__ import annotations

from web.auth import Throttle

ANA = "ana@example.org"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_from_one_address_lock_that_pair_only() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    for _ in range(5):
        assert not throttle.blocked(ANA, "203.0.113.9")
        throttle.failed(ANA, "203.0.113.9")
    assert throttle.blocked(ANA, "203.0.113.9")  # the guesser's address: locked
    assert not throttle.blocked(ANA, "198.51.100.7")  # Ana at her desk: not
    assert throttle.wait(ANA, "203.0.113.9") == 900.0
    clock.now += 901
    assert not throttle.blocked(ANA, "203.0.113.9")  # the window passed


def test_failures_from_many_addresses_slow_an_email_down_never_lock_it() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
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


def test_an_address_guessing_many_emails_is_locked() -> None:
    throttle = Throttle(clock=Clock())
    for i in range(50):
        throttle.failed(f"user{i}@example.org", "203.0.113.9")
    assert throttle.blocked(ANA, "203.0.113.9")
    assert not throttle.blocked(ANA, "198.51.100.7")


def test_signing_in_clears_the_pair_and_the_email() -> None:
    throttle = Throttle(clock=Clock())
    for _ in range(4):
        throttle.failed(ANA, "198.51.100.7")
    throttle.succeeded(ANA, "198.51.100.7")
    throttle.failed(ANA, "198.51.100.7")
    assert not throttle.blocked(ANA, "198.51.100.7")  # one failure since, not five
