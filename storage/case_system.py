"""A program's LegalServer site, where hearing changes are written as case notes (the sending is
:mod:`monitor.case_notes`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.errors import ValidationError
from storage.models import CaseSystem, Language
from storage.roster_sync import check_address


def case_system(session: Session, organization_id: int) -> CaseSystem | None:
    return session.exec(
        select(CaseSystem).where(CaseSystem.organization_id == organization_id)
    ).first()


def set_case_system(
    session: Session,
    organization_id: int,
    *,
    now: datetime,
    site: str | None = None,
    token: str | None = None,
    note_type: str | None = None,
    language: str | None = None,
    enabled: bool | None = None,
) -> CaseSystem:
    """Set (or change) a program's LegalServer site; every value checked first."""
    row = case_system(session, organization_id)
    if row is None and (not site or not token):
        raise ValidationError(
            "a LegalServer site needs its address and the API user's token "
            "(--legalserver-site, --legalserver-token-file)"
        )
    if site is not None:
        site = site.strip().rstrip("/")
        check_address(site)
    if language is not None and language not in Language.__members__:
        raise ValidationError(f"language {language!r} is not en or es")
    if note_type is not None and not note_type.strip():
        raise ValidationError("the note type is empty (a Note Type lookup value of the site)")
    if row is None:
        assert site is not None and token is not None
        row = CaseSystem(organization_id=organization_id, site=site, token=token, created_at=now)
    row.site = site or row.site
    row.token = (token or "").strip() or row.token
    row.note_type = (note_type or "").strip() or row.note_type
    row.language = language or row.language
    row.enabled = row.enabled if enabled is None else enabled
    session.add(row)
    session.flush()
    return row
