"""Which program's data a session sees: every ORM query on a program's tables is scoped.

One deployment may serve several programs (:class:`~storage.models.Organization`). A session
scoped to one (``session_scope(engine, organization_id=N)``; for a whole CLI process, ``--org``
through :func:`use`) reads only that program's clients and staff and what hangs off them:
its events (about its clients, channels, deliveries; its monthly report), deliveries to its
staff or its clients, reminders, lookups, hearings, federal case links, check requests, channels
and audit rows.
Public data (FOIA releases, statistics, court status, federal dockets' entries, and the events
about them: a court closure, a source's health) is every program's.

The criteria are added to every SELECT the ORM runs in a scoped session (SQLAlchemy's
``with_loader_criteria`` in a ``do_orm_execute`` hook, its documented way for this), so a query
written without a thought for programs cannot show another program's rows. A new client or staff
member takes the session's program (:func:`owner`); in an unscoped session (the scheduler, the
workers), the only program when there is one, and otherwise must be given.

Unscoped sessions (the service, the workers, the checks) see everything: they look a person up
once for every program that watches them, and route each program's alerts to its own staff.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session, col, select

from storage.errors import ValidationError
from storage.models import (
    AcisLookup,
    AuditEntry,
    CheckRequest,
    Client,
    CustodyLookup,
    Delivery,
    Event,
    FederalCase,
    Hearing,
    Organization,
    Reminder,
    ReminderContact,
    Staff,
    StaffChannel,
)

#: the program of this process's (a CLI command's) sessions, when not set on the session
_CURRENT: ContextVar[int | None] = ContextVar("docketwatch_organization", default=None)

#: execution option for the rare query that must see every program (choosing one, say)
ALL = {"all_organizations": True}


def use(organization_id: int | None) -> None:
    """Scope this process's (context's) sessions to one program."""
    _CURRENT.set(organization_id)


def scope_of(session: Any) -> int | None:
    value = session.info.get("organization_id")
    return value if value is not None else _CURRENT.get()


def _criteria(org: int) -> list[Any]:
    clients = select(Client.id).where(Client.organization_id == org)
    staff = select(Staff.id).where(Staff.organization_id == org)
    reminders = select(Reminder.id).where(col(Reminder.client_id).in_(clients))
    of_clients = [
        with_loader_criteria(table, col(table.client_id).in_(clients), include_aliases=True)
        for table in (
            AcisLookup,
            CustodyLookup,
            Hearing,
            CheckRequest,
            Reminder,
            ReminderContact,
            FederalCase,
        )
    ]
    return [
        with_loader_criteria(Client, col(Client.organization_id) == org, include_aliases=True),
        with_loader_criteria(Staff, col(Staff.organization_id) == org, include_aliases=True),
        with_loader_criteria(
            StaffChannel, col(StaffChannel.staff_id).in_(staff), include_aliases=True
        ),
        with_loader_criteria(
            Event,
            sa.or_(col(Event.organization_id).is_(None), col(Event.organization_id) == org),
            include_aliases=True,
        ),
        with_loader_criteria(
            Delivery,
            sa.or_(
                col(Delivery.staff_id).in_(staff),
                col(Delivery.reminder_id).in_(reminders),
                sa.and_(  # a case note: the event's program
                    col(Delivery.kind) == "case_note",
                    col(Delivery.event_id).in_(
                        select(Event.id).where(Event.organization_id == org)
                    ),
                ),
            ),
            include_aliases=True,
        ),
        with_loader_criteria(
            AuditEntry, col(AuditEntry.organization_id) == org, include_aliases=True
        ),
        with_loader_criteria(Organization, col(Organization.id) == org, include_aliases=True),
        *of_clients,
    ]


@sa.event.listens_for(Session, "do_orm_execute")
def _scope(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("all_organizations"):
        return
    org = scope_of(state.session)
    if org is not None:
        state.statement = state.statement.options(*_criteria(org))


def only_organization(session: Session) -> int | None:
    """The deployment's one program, or None when it serves several (or none)."""
    ids = session.exec(select(Organization.id).limit(2).execution_options(**ALL)).all()
    return ids[0] if len(ids) == 1 else None


def owner(session: Session, organization_id: int | None = None) -> int:
    """The program new rows go to: the one given, the session's, or the only one."""
    org = organization_id if organization_id is not None else scope_of(session)
    if org is None:
        org = only_organization(session)
    if org is None:
        raise ValidationError("this deployment serves several programs: say which one (--org SLUG)")
    return org


def organizations(session: Session) -> list[Organization]:
    return list(
        session.exec(select(Organization).order_by(Organization.slug).execution_options(**ALL))
    )


def resolve(session: Session, slug: str | None) -> Organization:
    """The program called ``slug``; with none given, the deployment's only program."""
    every = organizations(session)
    if slug:
        for org in every:
            if org.slug == slug.strip().lower():
                return org
        known = ", ".join(o.slug for o in every) or "none"
        raise ValidationError(f"no program is called {slug!r} (programs: {known})")
    if len(every) == 1:
        return every[0]
    if not every:
        raise ValidationError("no program exists yet: `docketwatch orgs add SLUG NAME`")
    raise ValidationError(
        f"this deployment serves {len(every)} programs ({', '.join(o.slug for o in every)}): "
        "say which with --org SLUG (or DOCKETWATCH_ORG)"
    )
