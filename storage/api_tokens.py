"""Tokens of the read-only JSON API: one program's each, made and revoked by its admins, kept
as SHA-256 digests (the token itself is shown once, when made)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from storage.errors import NotFoundError, ValidationError
from storage.models import ApiToken
from storage.tenancy import ALL

PREFIX = "dwapi_"


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, organization_id: int, name: str, now: datetime) -> str:
    """A new token for the program (returned once; only its digest is stored)."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise ValidationError("name the token after what will use it (at most 80 characters)")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            organization_id=organization_id, name=name, digest=digest_of(token), created_at=now
        )
    )
    session.flush()
    return token


def tokens(session: Session, organization_id: int) -> list[ApiToken]:
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.organization_id == organization_id)
            .order_by(col(ApiToken.id))
        )
    )


def revoke_token(session: Session, organization_id: int, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.organization_id != organization_id:
        raise NotFoundError(f"no API token #{token_id} in this program")
    row.revoked_at = row.revoked_at or now
    session.add(row)
    session.flush()
    return row


def holder(session: Session, token: str) -> ApiToken | None:
    """The live token ``token`` is (any program's: the caller is not known yet)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken).where(ApiToken.digest == digest_of(token)).execution_options(**ALL)
    ).first()
    return row if row is not None and row.revoked_at is None else None
