"""Clients and staff: add, list, show, deactivate, assign.

Inputs are checked here (A-number, nationality, email, Apprise URL, quiet hours) before any row
is written, and each refusal says what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.errors import ChannelError, NotFoundError, ValidationError
from storage.identifiers import parse_a_number, parse_nationality
from storage.models import (
    AssignmentRole,
    Client,
    ClientStatus,
    Language,
    Severity,
    Staff,
    StaffChannel,
    StaffRole,
)
from storage.tenancy import ALL, owner

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not an email address")
    return email


def check_channel(url: str) -> str:
    """Validate an Apprise URL the way Apprise itself will read it (a signed webhook channel,
    :mod:`storage.webhook_channels`, as docketwatch reads it)."""
    import apprise

    from storage.webhook_channels import is_webhook
    from storage.webhook_channels import parse as parse_webhook

    url = url.strip()
    if not url:
        raise ChannelError("channel URL is empty")
    if "://" not in url:
        raise ChannelError(
            f"{url!r} is not an Apprise URL (expected scheme://..., e.g. mailto://, slack://)"
        )
    if is_webhook(url):  # docketwatch's own signed webhooks, not Apprise's
        parse_webhook(url)
        return url
    if not apprise.Apprise().add(url):
        scheme = url.split("://", 1)[0]
        raise ChannelError(
            f"Apprise cannot use the channel URL with scheme {scheme!r}: unknown scheme or "
            "missing parts (see Apprise's documentation for that service)"
        )
    return url


def parse_quiet_hours(text: str | None) -> tuple[time | None, time | None]:
    """``"21:00-07:00"`` -> (21:00, 07:00); empty -> no quiet hours."""
    if not text:
        return None, None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValidationError(f"quiet hours {text!r} must look like 21:00-07:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValidationError(f"quiet hours {text!r}: {exc}") from None
    if start == end:
        raise ValidationError(f"quiet hours {text!r} start and end at the same time")
    return start, end


# ---------------------------------------------------------------------------------------- clients


def add_client(
    session: Session,
    *,
    a_number: str,
    name: str,
    nationality: str,
    country_of_birth: str | None = None,
    born_on: date | None = None,
    status: str = ClientStatus.represented.value,
    now: datetime | None = None,
    organization_id: int | None = None,
) -> Client:
    """A new client of the session's program (or ``organization_id``; or the only one)."""
    number = parse_a_number(a_number)
    if not name.strip():
        raise ValidationError("client name is missing")
    if status not in ClientStatus.__members__:
        raise ValidationError(f"status {status!r} is not prospect, represented or closed")
    org = owner(session, organization_id)
    if session.exec(
        select(Client).where(Client.a_number == number, Client.organization_id == org)
    ).first():
        raise ValidationError("a client with that A-number exists already (see `clients show`)")
    stamp = _now(now)
    client = Client(
        organization_id=org,
        a_number=number,
        name=" ".join(name.split()),
        nationality_code=parse_nationality(nationality),
        country_of_birth_code=parse_nationality(country_of_birth) if country_of_birth else None,
        born_on=born_on,
        status=status,
        created_at=stamp,
        updated_at=stamp,
    )
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, a_number: str) -> Client:
    """The client with ``a_number`` among those the session sees (its program's, when scoped)."""
    number = parse_a_number(a_number)
    found = session.exec(select(Client).where(Client.a_number == number).limit(2)).all()
    if not found:
        raise NotFoundError("no client with that A-number")
    if len(found) > 1:
        raise ValidationError(
            "several programs watch a client with that A-number: say which program (--org SLUG)"
        )
    return found[0]


@dataclass
class ClientRow:
    client: Client
    primary: str | None
    backup: str | None

    def as_record(self) -> dict[str, Any]:
        """The row as ``clients list`` shows it (full A-number: the caller redacts)."""
        c = self.client
        return {
            "a_number": c.a_number,
            "name": c.name,
            "nationality": c.nationality_code,
            "country_of_birth": c.country_of_birth_code,
            "born_on": c.born_on.isoformat() if c.born_on else None,
            "status": c.status,
            "active": c.active,
            "primary_attorney": self.primary,
            "backup_attorney": self.backup,
        }


def _staff_emails(session: Session) -> dict[int | None, str]:
    return {sid: email for sid, email in session.exec(select(Staff.id, Staff.email))}


def list_clients(
    session: Session, *, include_inactive: bool = False, status: str | None = None
) -> list[ClientRow]:
    query = select(Client).order_by(Client.name, Client.a_number)
    if not include_inactive:
        query = query.where(Client.active == True)  # noqa: E712
    if status:
        query = query.where(Client.status == status)
    emails = _staff_emails(session)
    return [
        ClientRow(c, emails.get(c.primary_attorney_id), emails.get(c.backup_attorney_id))
        for c in session.exec(query)
    ]


def client_details(session: Session, a_number: str) -> dict[str, Any]:
    client = get_client(session, a_number)
    emails = _staff_emails(session)
    row = ClientRow(
        client, emails.get(client.primary_attorney_id), emails.get(client.backup_attorney_id)
    )
    return {
        **row.as_record(),
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
    }


def deactivate_client(session: Session, a_number: str, now: datetime | None = None) -> Client:
    client = get_client(session, a_number)
    client.active = False
    client.updated_at = _now(now)
    session.add(client)
    return client


# ------------------------------------------------------------------------------------------ staff


def add_staff(
    session: Session,
    *,
    name: str,
    email: str,
    role: str,
    language: str = Language.en.value,
    channels: list[str] | None = None,
    quiet_hours: str | None = None,
    allow_personal_data: bool = False,
    digest: bool = False,
    min_severity: str = "info",
    muted_kinds: list[str] | None = None,
    now: datetime | None = None,
    organization_id: int | None = None,
) -> Staff:
    """A new staff member of the session's program (or ``organization_id``; or the only one).
    An email address is one person's in the whole deployment (it is how they sign in)."""
    if role not in StaffRole.__members__:
        raise ValidationError(f"role {role!r} is not attorney, coordinator or admin")
    if language not in Language.__members__:
        raise ValidationError(f"language {language!r} is not en or es")
    if not name.strip():
        raise ValidationError("staff name is missing")
    address = check_email(email)
    urls = [check_channel(u) for u in (channels or [])]
    _check_severity(min_severity)
    muted = [_check_kind(k) for k in (muted_kinds or [])]
    start, end = parse_quiet_hours(quiet_hours)
    if session.exec(select(Staff).where(Staff.email == address).execution_options(**ALL)).first():
        raise ValidationError(f"a staff member with email {address} exists already")
    staff = Staff(
        organization_id=owner(session, organization_id),
        name=" ".join(name.split()),
        email=address,
        role=role,
        language=language,
        quiet_start=start,
        quiet_end=end,
        digest=digest,
        min_severity=min_severity,
        muted_kinds=muted,
        created_at=_now(now),
    )
    session.add(staff)
    session.flush()
    assert staff.id is not None
    for url in dict.fromkeys(urls):
        session.add(
            StaffChannel(staff_id=staff.id, url=url, allow_personal_data=allow_personal_data)
        )
    session.flush()
    return staff


def _check_severity(value: str) -> str:
    if value not in Severity.__members__:
        raise ValidationError(f"severity {value!r} is not info, normal or urgent")
    return value


_KIND_NAME = re.compile(r"^[a-z][a-z_]{2,59}$")


def _check_kind(name: str) -> str:
    """An event kind's name, by its form: which kinds exist is the monitor's registry's to say
    (the CLI and the web app check muted kinds against it before they reach storage)."""
    if not _KIND_NAME.match(name):
        raise ValidationError(
            f"{name!r} is not an event kind name (see `docketwatch events kinds`)"
        )
    return name


def update_staff(
    session: Session,
    email: str,
    *,
    digest: bool | None = None,
    min_severity: str | None = None,
    mute: list[str] | None = None,
    unmute: list[str] | None = None,
    quiet_hours: str | None = None,
    add_channels: list[str] | None = None,
    language: str | None = None,
    active: bool | None = None,
    allow_personal_data: bool | None = None,
) -> Staff:
    """Change preferences; every value is checked before anything changes."""
    staff = get_staff(session, email)
    urls = [check_channel(u) for u in (add_channels or [])]
    muted = [_check_kind(k) for k in (mute or [])]
    unmuted = [_check_kind(k) for k in (unmute or [])]
    if min_severity is not None:
        staff.min_severity = _check_severity(min_severity)
    if language is not None:
        if language not in Language.__members__:
            raise ValidationError(f"language {language!r} is not en or es")
        staff.language = language
    if quiet_hours is not None:
        staff.quiet_start, staff.quiet_end = parse_quiet_hours(quiet_hours)
    if digest is not None:
        staff.digest = digest
    if active is not None:
        staff.active = active
    kinds = [k for k in staff.muted_kinds if k not in unmuted]
    kinds += [k for k in muted if k not in kinds]
    staff.muted_kinds = kinds
    session.add(staff)
    assert staff.id is not None
    channels = list(session.exec(select(StaffChannel).where(StaffChannel.staff_id == staff.id)))
    have = {c.url for c in channels}
    for url in dict.fromkeys(urls):
        if url not in have:
            channels.append(StaffChannel(staff_id=staff.id, url=url))
    for channel in channels:
        if allow_personal_data is not None:
            channel.allow_personal_data = allow_personal_data
        session.add(channel)
    session.flush()
    return staff


def get_staff(session: Session, email: str) -> Staff:
    staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
    if staff is None:
        raise NotFoundError(f"no staff member with email {email.strip().lower()!r}")
    return staff


def list_staff(session: Session) -> list[tuple[Staff, list[StaffChannel]]]:
    staff = list(session.exec(select(Staff).order_by(Staff.role, Staff.name)))
    channels: dict[int | None, list[StaffChannel]] = {}
    for ch in session.exec(select(StaffChannel).order_by(StaffChannel.id)):  # type: ignore[arg-type]
        channels.setdefault(ch.staff_id, []).append(ch)
    return [(s, channels.get(s.id, [])) for s in staff]


def assign(
    session: Session,
    a_number: str,
    email: str,
    role: str = AssignmentRole.primary.value,
    now: datetime | None = None,
) -> Client:
    """Make the attorney with ``email`` the client's primary or backup attorney."""
    if role not in AssignmentRole.__members__:
        raise ValidationError(f"assignment role {role!r} is not primary or backup")
    client = get_client(session, a_number)
    staff = get_staff(session, email)
    if staff.role != StaffRole.attorney.value:
        raise ValidationError(f"{staff.email} is a {staff.role}, not an attorney")
    if staff.organization_id != client.organization_id:
        raise ValidationError(f"{staff.email} is another program's attorney")
    other = client.backup_attorney_id if role == "primary" else client.primary_attorney_id
    if other == staff.id:
        other_role = "backup" if role == "primary" else "primary"
        raise ValidationError(f"{staff.email} is already this client's {other_role} attorney")
    if role == "primary":
        client.primary_attorney_id = staff.id
    else:
        client.backup_attorney_id = staff.id
    client.updated_at = _now(now)
    session.add(client)
    session.flush()
    return client


def count_active_clients(session: Session) -> int:
    return int(
        session.exec(
            select(sa.func.count()).select_from(Client).where(Client.active == True)  # noqa: E712
        ).one()
    )
