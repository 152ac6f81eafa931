"""The read-only JSON API, for spreadsheets, dashboards and other systems: a program's clients
with their next hearing and custody, its events since a cursor, the caseload queries.

Every call carries one of the program's tokens (``Authorization: Bearer dwapi_...``; made and
revoked by its admins, kept as digests) and sees that program's data only; each call is an
audit row. The API's OpenAPI document is ``/api/openapi.json``. Full names and A-numbers are in
the answers: they are the program's own data, read by the program's own systems.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.identifiers import format_a_number
from storage.models import AuditEntry, Client, Event, Staff
from web.deps import ApiError, App, Web, client_ip, public_router

router = public_router("api")
VERSION = "1"


class Caller(BaseModel):
    organization_id: int
    token_id: int


def caller(request: Request, w: App) -> Caller:
    """The program whose token the call carries; the call audited."""
    from storage.api_tokens import holder

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "an API token is needed: Authorization: Bearer dwapi_...")
    now = w.now()
    with session_scope(w.engine) as s:  # the token says which program; then scoped to it
        found = holder(s, token.strip())
        if found is None or found.id is None:
            raise ApiError(401, "that API token is not valid (revoked, or never made)")
        found.last_used_at = now
        s.add(found)
        s.add(
            AuditEntry(
                at=now,
                organization_id=found.organization_id,
                action="api_used",
                detail=f"token #{found.id} ({found.name}): {request.url.path}"[:300],
                ip=client_ip(request),
            )
        )
        return Caller(organization_id=found.organization_id, token_id=found.id)


Program = Annotated[Caller, Depends(caller)]


class Hearing(BaseModel):
    date: date
    time: str | None
    court: str | None
    judge: str | None
    medium: str | None


class Custody(BaseModel):
    detained: bool | None
    status: str
    facility: str | None
    observed_at: datetime


class ClientOut(BaseModel):
    id: int
    a_number: str
    name: str
    status: str
    active: bool
    attorney: str | None
    next_hearing: Hearing | None
    custody: Custody | None


class ClientPage(BaseModel):
    clients: list[ClientOut]
    next_after: int | None  # pass as ``after`` for the next page; none: the last page


class EventOut(BaseModel):
    id: int
    kind: str
    severity: str
    client_id: int | None
    created_at: datetime
    acknowledged: bool
    payload: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    cursor: int  # pass as ``since`` next time: events after this one


def _scoped(w: Web, who: Caller) -> Any:
    return session_scope(w.engine, who.organization_id)


def _emails(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {m.id: m.email for m in s.exec(select(Staff).where(col(Staff.id).in_(ids))) if m.id}


@router.get("/api/v1/clients", response_model=ClientPage)
def api_clients(
    w: App,
    who: Program,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    include_inactive: bool = False,
) -> ClientPage:
    """The program's clients (active ones unless ``include_inactive``), by id, with their next
    hearing (as ACIS last showed it) and last known custody."""
    from monitor.views import current_hearings, latest_custody

    with _scoped(w, who) as s:
        query = select(Client).where(col(Client.id) > after, col(Client.erased_at).is_(None))
        if not include_inactive:
            query = query.where(col(Client.active).is_(True))
        found = list(s.exec(query.order_by(col(Client.id)).limit(limit + 1)))
        more, rows = len(found) > limit, found[:limit]
        ids = [c.id for c in rows if c.id is not None]
        hearings = current_hearings(s, ids)
        custody = latest_custody(s, ids)
        emails = _emails(s, {c.primary_attorney_id for c in rows if c.primary_attorney_id})
        out = []
        for c in rows:
            assert c.id is not None
            h, k = hearings.get(c.id), custody.get(c.id)
            out.append(
                ClientOut(
                    id=c.id,
                    a_number=format_a_number(c.a_number),
                    name=c.name,
                    status=c.status,
                    active=c.active,
                    attorney=emails.get(c.primary_attorney_id or 0),
                    next_hearing=Hearing(
                        date=h.hearing_on,
                        time=h.hearing_time or None,
                        court=h.court_code or None,
                        judge=h.judge or None,
                        medium=h.medium or None,
                    )
                    if h is not None
                    else None,
                    custody=Custody(
                        detained=k.detained,
                        status=k.status_text,
                        facility=k.facility_name or None,
                        observed_at=k.observed_at,
                    )
                    if k is not None
                    else None,
                )
            )
    return ClientPage(clients=out, next_after=ids[-1] if more and ids else None)


@router.get("/api/v1/events", response_model=EventPage)
def api_events(
    w: App,
    who: Program,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventPage:
    """The program's events after ``since`` (an event id; 0: from the first), oldest first:
    poll with the ``cursor`` of the last answer."""
    with _scoped(w, who) as s:
        rows = list(
            s.exec(
                select(Event)
                .where(col(Event.id) > since, Event.organization_id == who.organization_id)
                .order_by(col(Event.id))
                .limit(limit)
            )
        )
        events = [
            EventOut(
                id=e.id or 0,
                kind=e.kind,
                severity=e.severity,
                client_id=e.client_id,
                created_at=e.created_at,
                acknowledged=e.acknowledged_at is not None,
                payload=e.payload or {},
            )
            for e in rows
        ]
    return EventPage(events=events, cursor=events[-1].id if events else since)


@router.get("/api/v1/caseload/unrepresented")
def api_unrepresented(
    w: App,
    who: Program,
    court: Annotated[str, Query(max_length=3)] = "ADL",
    detained: bool = False,
    by: Annotated[str, Query(max_length=20)] = "",
    new: bool = False,
) -> dict[str, Any]:
    """The unrepresented caseload at a court from EOIR's latest FOIA release, as the Caseload
    page and ``docketwatch caseload unrepresented`` give it (``by``: a grouping)."""
    from monitor.eoir_foia import GROUPS, caseload_unrepresented

    with _scoped(w, who) as s:
        table = caseload_unrepresented(
            s,
            court.strip().upper() or "ADL",
            detained=detained,
            by=by if by in GROUPS else None,
            new_only=new,
        )
    rows = [dict(zip(table.columns, (_plain(v) for v in row), strict=False)) for row in table.rows]
    return {"title": table.title, "columns": table.columns, "rows": rows}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@router.get("/api/openapi.json", include_in_schema=False)
def api_openapi() -> JSONResponse:
    """The JSON API's OpenAPI document (its own routes only; the web pages are not an API)."""
    routes = [r for r in router.routes if getattr(r, "include_in_schema", True)]
    document = get_openapi(
        title="docketwatch read-only API",
        version=VERSION,
        description=(__doc__ or "").strip(),
        routes=routes,
    )
    document["components"] = document.get("components", {}) | {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
    }
    document["security"] = [{"bearer": []}]
    return JSONResponse(document)
