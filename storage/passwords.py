"""Staff passwords for the web app: argon2id hashes (argon2-cffi, RFC 9106 defaults).

A new password ends the staff member's open web sessions. Checking a password for an unknown
email costs the same time as for a known one (a decoy hash), so timing does not tell which
emails have accounts.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from storage.errors import NotFoundError, ValidationError
from storage.models import Staff, WebSession

MIN_PASSWORD = 12
LINK_HOURS = 72


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, the library's (RFC 9106) defaults


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise ValidationError("a password may have at most 1024 characters")
    return str(_hasher().hash(password))


# A hash made once, checked when the email is unknown: a wrong email costs the same time as a
# wrong password, so timing does not tell which emails have accounts.
_DECOY: list[str] = []


def verify_password(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not _DECOY:
        _DECOY.append(_hasher().hash(secrets.token_hex(16)))
    try:
        return bool(_hasher().verify(stored or _DECOY[0], password[:1024])) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, email: str, password: str) -> Staff:
    staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
    if staff is None:
        raise NotFoundError(f"no staff member with email {email!r}")
    staff.password_hash = hash_password(password)
    staff.password_link_digest = staff.password_link_expires_at = None
    session.add(staff)
    # A new password ends every session of the old one.
    session.exec(delete(WebSession).where(col(WebSession.staff_id) == staff.id))
    return staff


def _link_digest(token: str) -> str:
    return hashlib.sha256(f"password-link:{token}".encode()).hexdigest()


def issue_link(session: Session, email: str, now: datetime) -> str:
    """A one-time secret for a link that lets the staff member set their own password within
    :data:`LINK_HOURS` hours (the admin never learns the password). A new link replaces the
    old one; only a digest is stored."""
    staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
    if staff is None:
        raise NotFoundError(f"no staff member with email {email!r}")
    token = secrets.token_urlsafe(32)
    staff.password_link_digest = _link_digest(token)
    staff.password_link_expires_at = now + timedelta(hours=LINK_HOURS)
    session.add(staff)
    return token


def staff_for_link(session: Session, token: str, now: datetime) -> Staff | None:
    """The active staff member whose unexpired one-time link this is, or None."""
    if not token.isascii() or not 20 <= len(token) <= 100:
        return None
    staff = session.exec(
        select(Staff).where(Staff.password_link_digest == _link_digest(token))
    ).first()
    if staff is None or not staff.active or staff.password_link_expires_at is None:
        return None
    return staff if staff.password_link_expires_at > now else None


def use_link(session: Session, token: str, password: str, now: datetime) -> Staff:
    """Set the password through the one-time link, which then stops working."""
    staff = staff_for_link(session, token, now)
    if staff is None:
        raise NotFoundError("this link is not valid any more: ask your admin for a new one")
    return set_password(session, staff.email, password)
