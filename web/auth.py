"""Sign-in for the web app: argon2id passwords, server-side sessions, CSRF tokens, a sign-in
rate limit and the audit log.

- A password is stored as an argon2id hash (:mod:`storage.passwords`), set by
  ``docketwatch staff password``.
- A session is a random secret held by the browser in a cookie signed with HMAC-SHA256 (with
  ``ack_secret``); the database keeps only the secret's SHA-256, the session's CSRF token and
  its expiry. A session ends :data:`IDLE` after its last request, or
  :data:`ABSOLUTE` after sign-in, whichever is first, and at sign-out.
- Every form carries the session's CSRF token; a POST without it is refused (403).
- Sign-in attempts are limited per email and address, per address, and slowed per email
  (:class:`Throttle`): nobody can lock an attorney out from another address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from storage.db import session_scope
from storage.models import AuditEntry, SignInFailure, Staff, WebSession

IDLE = timedelta(hours=8)
ABSOLUTE = timedelta(hours=24)
COOKIE = "dw_session"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(key: str, value: str) -> str:
    mac = hmac.new(key.encode(), f"session:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{value}.{mac}"


def unsign(key: str, cookie: str) -> str | None:
    value = cookie.rpartition(".")[0]
    if not value or not cookie.isascii() or len(cookie) > 200:
        return None
    return value if hmac.compare_digest(sign(key, value), cookie) else None


@dataclass(frozen=True)
class SignedIn:
    staff_id: int
    role: str
    email: str
    name: str
    language: str
    csrf: str
    organization_id: int  # the staff member's program: every page shows its data only


def start_session(engine: sa.Engine, staff_id: int, now: datetime) -> tuple[str, str]:
    """A new session for ``staff_id``: (the secret for the cookie, its CSRF token)."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with session_scope(engine) as s:
        s.exec(delete(WebSession).where(col(WebSession.expires_at) < now))
        s.add(
            WebSession(
                digest=_digest(secret),
                staff_id=staff_id,
                csrf=csrf,
                created_at=now,
                seen_at=now,
                expires_at=min(now + IDLE, now + ABSOLUTE),
            )
        )
    return secret, csrf


def current(engine: sa.Engine, secret: str, now: datetime) -> SignedIn | None:
    """The signed-in staff member of a session secret, or None (unknown, expired, inactive).
    A live session is extended by :data:`IDLE`, never past :data:`ABSOLUTE`."""
    with session_scope(engine) as s:
        row = s.get(WebSession, _digest(secret))
        if row is None:
            return None
        if row.expires_at <= now:
            s.delete(row)
            return None
        staff = s.get(Staff, row.staff_id)
        if staff is None or not staff.active:
            return None
        if now - row.seen_at > timedelta(minutes=1):  # one write a minute, not one per request
            row.seen_at = now
            row.expires_at = min(now + IDLE, row.created_at + ABSOLUTE)
            s.add(row)
        assert staff.id is not None
        return SignedIn(
            staff.id,
            staff.role,
            staff.email,
            staff.name,
            staff.language,
            row.csrf,
            staff.organization_id,
        )


def end_session(engine: sa.Engine, secret: str) -> None:
    with session_scope(engine) as s:
        s.exec(delete(WebSession).where(col(WebSession.digest) == _digest(secret)))


def audit(
    session: Session,
    now: datetime,
    staff_id: int | None,
    action: str,
    *,
    client_id: int | None = None,
    detail: str = "",
    ip: str = "",
) -> None:
    from storage.tenancy import ALL, scope_of

    org = scope_of(session)
    if org is None and staff_id is not None:  # a sign-in: the staff member's program
        staff = session.get(Staff, staff_id, execution_options=ALL)
        org = staff.organization_id if staff is not None else None
    session.add(
        AuditEntry(
            organization_id=org,
            at=now,
            staff_id=staff_id,
            action=action[:40],
            client_id=client_id,
            detail=detail[:300],
            ip=ip[:64],
        )
    )


def audit_rows(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)))


class Failures:
    """Failed sign-ins by key, in this process's memory (the tests; one web process)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def recent(self, key: str, since: float) -> list[float]:
        with self._lock:
            failures = self._failures.setdefault(key, deque())
            while failures and failures[0] <= since:
                failures.popleft()
            return list(failures)

    def add(self, keys: tuple[str, ...], at: float, since: float) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque()).append(at)
            if len(self._failures) > 100_000:  # a flood of keys: forget the quiet ones
                for k in [k for k, v in self._failures.items() if not v or v[-1] <= since]:
                    del self._failures[k]

    def forget(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class StoredFailures:
    """Failed sign-ins by hashed key, in the database: every web worker weighs the same."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def recent(self, key: str, since: float) -> list[float]:
        query = (
            select(SignInFailure.at)
            .where(SignInFailure.key == self._digest(key), col(SignInFailure.at) > since)
            .order_by(col(SignInFailure.at))
        )
        with session_scope(self.engine) as s:
            return list(s.exec(query))

    def add(self, keys: tuple[str, ...], at: float, since: float) -> None:
        with session_scope(self.engine) as s:
            s.execute(sa.delete(SignInFailure).where(col(SignInFailure.at) <= since))
            for key in keys:
                s.add(SignInFailure(key=self._digest(key), at=at))

    def forget(self, keys: tuple[str, ...]) -> None:
        digests = [self._digest(k) for k in keys]
        with session_scope(self.engine) as s:
            s.execute(sa.delete(SignInFailure).where(col(SignInFailure.key).in_(digests)))


class Throttle:
    """Failed sign-ins in the last ``window`` seconds (kept by ``failures``: the database for
    the web app, shared by its worker processes; memory by default):

    - ``per_pair`` failures for one email *from one address* lock that pair: someone guessing
      from elsewhere cannot lock an attorney out of their own desk before a hearing;
    - ``per_address`` failures from one address lock the address (whatever the emails);
    - failures for one email from every address slow it down instead of locking it: past
      ``free`` of them, each further one makes the email wait 2, 4, 8 ... seconds (at most
      ``max_wait``) before the next try is weighed.
    """

    def __init__(
        self,
        per_pair: int = 5,
        per_address: int = 50,
        window: float = 900.0,
        free: int = 10,
        max_wait: float = 30.0,
        clock: Callable[[], float] = time.time,
        failures: Failures | StoredFailures | None = None,
    ) -> None:
        self.per_pair, self.per_address, self.window = per_pair, per_address, window
        self.free, self.max_wait, self.clock = free, max_wait, clock
        self.failures = failures if failures is not None else Failures()

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str, str]:
        return f"pair:{email}|{address}", f"ip:{address}", f"email:{email}"

    def wait(self, email: str, address: str) -> float:
        """Seconds before a sign-in of ``email`` from ``address`` is weighed (0: now; the lock
        of a pair or an address: the rest of its window)."""
        now = self.clock()
        since = now - self.window
        pair, ip, mail = self._keys(email, address)
        for key, limit in ((pair, self.per_pair), (ip, self.per_address)):
            recent = self.failures.recent(key, since)
            if len(recent) >= limit:
                return recent[0] + self.window - now
        recent = self.failures.recent(mail, since)
        if len(recent) <= self.free:
            return 0.0
        backoff = min(2.0 ** (len(recent) - self.free), self.max_wait)
        return max(0.0, recent[-1] + backoff - now)

    def blocked(self, email: str, address: str) -> bool:
        return self.wait(email, address) > 0

    def failed(self, email: str, address: str) -> None:
        now = self.clock()
        self.failures.add(self._keys(email, address), now, now - self.window)

    def succeeded(self, email: str, address: str) -> None:
        pair, _, mail = self._keys(email, address)
        self.failures.forget((pair, mail))
