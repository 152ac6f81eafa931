"""Retention and erasure of client data, which is privileged.

- :func:`erase_client` removes a client's name, A-number, birth date, country of birth, notes,
  phone and consent, and every raw answer about them (ACIS's and the locator's bodies and the
  messages kept with them), the error texts of their deliveries and the details of their audit
  rows; it keeps what is anonymous (the client's row under a placeholder number, with its
  status and program; their hearings' dates and courts; their alerts' kinds and deliveries'
  statuses), so the program report still adds up. It writes an audit row that names no one.
- :func:`compact` makes the removal physical: SQLite ``VACUUM`` and a truncating WAL checkpoint;
  PostgreSQL ``VACUUM FULL`` of the touched tables. (PostgreSQL's own write-ahead log keeps old
  records until its segments are recycled, as for any update: see the README.)
- :func:`apply_retention` is the daily pass: raw answers older than ``raw_answer_days`` are
  dropped (the newest of each client and source is always kept), and a client closed or
  deactivated more than ``closed_client_days`` ago is erased.
- :func:`export_client` is everything held about one client, for a client who asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import (
    AcisLookup,
    AuditEntry,
    CheckRequest,
    Client,
    ClientStatus,
    CustodyLookup,
    Delivery,
    DeliveryAttempt,
    Event,
    FederalCase,
    Hearing,
    Reminder,
    ReminderContact,
)
from storage.tenancy import ALL

#: the tables an erasure writes to (compacted after it)
TOUCHED = (
    "client",
    "acis_lookup",
    "custody_lookup",
    "reminder_contact",
    "delivery",
    "delivery_attempt",
    "check_request",
    "audit_entry",
)


def placeholder(client_id: int) -> str:
    """The number an erased client keeps: never an A-number (those are digits only)."""
    return f"X{client_id:08d}"[-9:]


@dataclass
class Erased:
    client_id: int
    lookups: int = 0
    custody: int = 0
    attempts: int = 0
    audit_rows: int = 0
    consent: bool = False


def erase_client(s: Session, client: Client, now: datetime, by_staff: int | None = None) -> Erased:
    """Remove ``client``'s personal data everywhere (see the module's docstring)."""
    assert client.id is not None
    cid = client.id
    done = Erased(cid)
    # Every row below is keyed by this client's id (the caller found the client in its own
    # program): no program's scope may hide one of them, an audit row written without one say.
    every = dict(ALL)
    acis = sa.update(AcisLookup).where(col(AcisLookup.client_id) == cid)
    acis = acis.values(raw="", raw_sha256="", message="", status=None)
    done.lookups = s.execute(acis, execution_options=every).rowcount  # type: ignore[attr-defined]
    custody = sa.update(CustodyLookup).where(col(CustodyLookup.client_id) == cid)
    custody = custody.values(raw="", raw_sha256="", status_text="", facility_address="", message="")
    done.custody = s.execute(custody, execution_options=every).rowcount  # type: ignore[attr-defined]
    gone = sa.delete(ReminderContact).where(col(ReminderContact.client_id) == cid)
    done.consent = bool(s.execute(gone, execution_options=every).rowcount)  # type: ignore[attr-defined]
    events = select(Event.id).where(col(Event.client_id) == cid)
    reminders = select(Reminder.id).where(col(Reminder.client_id) == cid)
    deliveries = select(Delivery.id).where(
        sa.or_(col(Delivery.event_id).in_(events), col(Delivery.reminder_id).in_(reminders))
    )
    attempts = (
        sa.update(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_(deliveries))
        .values(error="")
    )
    done.attempts = s.execute(attempts, execution_options=every).rowcount  # type: ignore[attr-defined]
    errors = sa.update(Delivery).where(col(Delivery.id).in_(deliveries)).values(last_error="")
    s.execute(errors, execution_options=every)
    audit = sa.update(AuditEntry).where(col(AuditEntry.client_id) == cid).values(detail="")
    done.audit_rows = s.execute(audit, execution_options=every).rowcount  # type: ignore[attr-defined]
    asked = sa.update(CheckRequest).where(col(CheckRequest.client_id) == cid).values(reason="")
    s.execute(asked, execution_options=every)
    client.a_number = placeholder(cid)
    client.name = ""
    client.born_on = None
    client.country_of_birth_code = None
    client.notes = ""
    client.case_uuid = None  # its matter in the program's LegalServer: no note goes there now
    client.federal_cases = ""  # its federal cases name it in public records: unlinked too
    for case in s.exec(select(FederalCase).where(FederalCase.client_id == client.id)):
        case.active = False
        s.add(case)
    client.roster_source = None  # no sync lists it any more
    client.active = False
    client.status = ClientStatus.closed.value
    client.erased_at = now
    client.updated_at = now
    s.add(client)
    s.add(
        AuditEntry(
            at=now,
            organization_id=client.organization_id,
            staff_id=by_staff,
            action="client_erased",
            client_id=cid,
            detail="",
        )
    )
    return done


def compact(engine: sa.Engine) -> None:
    """Make removed values physically gone from the database's files (see the docstring)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TOUCHED:
            conn.exec_driver_sql(f'VACUUM FULL "{table}"')


@dataclass
class Retention:
    raw_answers: int = 0  # lookups whose raw answer was dropped
    erased: list[int] = field(default_factory=list)


def _old_raw(s: Session, table: Any, before: datetime) -> int:
    newest = (
        select(sa.func.max(table.id)).group_by(table.client_id).scalar_subquery()
    )  # the newest lookup of each client is always kept
    query = (
        sa.update(table)
        .where(table.observed_at < before, table.raw != "", table.id.not_in(newest))
        .values(raw="")
    )
    return int(s.execute(query).rowcount)  # type: ignore[attr-defined]


def apply_retention(
    s: Session, now: datetime, raw_answer_days: int, closed_client_days: int
) -> Retention:
    """The daily pass: old raw answers dropped, long-closed clients erased."""
    done = Retention()
    before = now - timedelta(days=raw_answer_days)
    for table in (AcisLookup, CustodyLookup):
        done.raw_answers += _old_raw(s, table, before)
    closed_before = now - timedelta(days=closed_client_days)
    stale = s.exec(
        select(Client).where(
            col(Client.erased_at).is_(None),
            sa.or_(col(Client.active).is_(False), col(Client.status) == ClientStatus.closed.value),
            col(Client.updated_at) < closed_before,
        )
    )
    for client in list(stale):
        erase_client(s, client, now)
        assert client.id is not None
        done.erased.append(client.id)
    return done


def _row(obj: Any) -> dict[str, Any]:
    return {k: v for k, v in obj.model_dump(mode="json").items()}


def export_client(s: Session, client: Client) -> dict[str, Any]:
    """Everything held about ``client``, as JSON-ready data (the consent's phone in clear)."""
    cid = client.id

    def rows(model: Any) -> list[dict[str, Any]]:
        query = select(model).where(model.client_id == cid).order_by(model.id)
        return [_row(x) for x in s.exec(query)]

    events = [_row(e) for e in s.exec(select(Event).where(col(Event.client_id) == cid))]
    event_ids = [e["id"] for e in events]
    deliveries = [
        {k: v for k, v in _row(d).items() if k in ("id", "event_id", "status", "sent_at", "kind")}
        for d in s.exec(select(Delivery).where(col(Delivery.event_id).in_(event_ids)))
    ]
    contact = s.get(ReminderContact, cid)
    return {
        "client": _row(client),
        "hearings": rows(Hearing),
        "acis_lookups": rows(AcisLookup),
        "custody_lookups": rows(CustodyLookup),
        "alerts": events,
        "deliveries": deliveries,
        "reminder_consent": _row(contact) if contact is not None else None,
        "reminders": rows(Reminder),
        "audit": rows(AuditEntry),
    }
