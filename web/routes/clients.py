"""The home page and a client's page: hearings, custody, alerts, the reminders' consent, a check
now. A client outside an attorney's scope, or of another program, is 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import BackgroundTasks, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from storage.errors import ValidationError
from web import auth
from web.deps import App, RowId, Scoped, User, Web, client_ip, day_param, page, signed_in_router
from web.render import alert_rows

router = signed_in_router("clients")


@router.get("/")
def home(request: Request, user: User, s: Scoped) -> Response:
    from monitor.views import InboxFilter, client_lines, inbox

    lines = client_lines(s, user.role, user.staff_id)
    alerts = inbox(s, user.role, user.staff_id, InboxFilter(), limit=50)
    return page(request, "clients/home.html", user, lines=lines, alerts=alert_rows(alerts))


def client_view(
    request: Request,
    w: Web,
    user: auth.SignedIn,
    s: Session,
    client_id: int,
    reveal: bool = False,
    problem: str = "",
) -> Response:
    from monitor.reminders import client_reminders, mask_phone
    from monitor.views import InboxFilter, client_history, inbox, visible_client

    client = visible_client(s, user.role, user.staff_id, client_id)
    assert client.id is not None
    if reveal:
        auth.audit(
            s,
            w.now(),
            user.staff_id,
            "reveal",
            client_id=client.id,
            detail="full name and A-number shown",
            ip=client_ip(request),
        )
    from storage.federal_dockets import entries_of, links_of
    from storage.models import FederalDocket

    federal = []
    for case in links_of(s, client.id):
        docket = s.get(FederalDocket, case.docket_id) if case.docket_id else None
        federal.append((case, docket, entries_of(s, docket.id, 50) if docket and docket.id else []))
    reminders = client_reminders(s, w.settings, client.id)
    masked = mask_phone(reminders.contact.phone) if reminders.contact else ""
    return page(
        request,
        "clients/client.html",
        user,
        h=client_history(s, client),
        open_alerts=alert_rows(
            inbox(s, user.role, user.staff_id, InboxFilter(client_id=client.id), limit=20)
        ),
        reveal=reveal,
        checked=request.query_params.get("checked"),
        r=reminders,
        masked_phone=masked,
        done=request.query_params.get("reminders", ""),
        today=w.now().date(),
        federal=federal,
        federal_done=request.query_params.get("federal", ""),
        problem=problem,
        status=400 if problem else 200,
    )


@router.get("/clients/{client_id}")
def client_page(request: Request, w: App, user: User, s: Scoped, client_id: RowId) -> Response:
    return client_view(request, w, user, s, client_id)


@router.post("/clients/{client_id}/reveal")
def client_reveal(request: Request, w: App, user: User, s: Scoped, client_id: RowId) -> Response:
    return client_view(request, w, user, s, client_id, reveal=True)


@router.post("/clients/{client_id}/reminders/consent")
def reminders_consent(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    client_id: RowId,
    phone: Annotated[str, Form(max_length=40)],
    language: Annotated[str, Form(max_length=5)],
    how: Annotated[str, Form(max_length=12)],
    via: Annotated[str, Form(max_length=10)] = "sms",
    consent_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    from monitor.reminders import Consent, record_consent
    from monitor.views import visible_client

    day = day_param(consent_on, "consent date") if consent_on else None
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if day else None
    consent = Consent(
        phone=phone,
        via=via,
        language=language,
        how=how,
        by=user.email,
        at=min(at, w.now()) if at else None,
    )
    client = visible_client(s, user.role, user.staff_id, client_id)
    try:  # checked before anything is stored: refused, the page says what to correct
        record_consent(s, w.settings, client, consent, w.now())
    except ValidationError as exc:
        return client_view(request, w, user, s, client_id, problem=str(exc))
    auth.audit(
        s,
        w.now(),
        user.staff_id,
        "reminder_consent",
        client_id=client.id,
        detail=f"{how}, {via}, {language}",
        ip=client_ip(request),
    )
    return RedirectResponse(f"/clients/{client_id}?reminders=consent#reminders", status_code=303)


@router.post("/clients/{client_id}/reminders/{action}")
def reminders_change(
    request: Request, w: App, user: User, s: Scoped, client_id: RowId, action: str
) -> Response:
    from monitor.reminders import set_paused, withdraw_consent
    from monitor.views import visible_client

    if action not in ("withdraw", "pause", "resume"):
        raise HTTPException(status_code=404)
    client = visible_client(s, user.role, user.staff_id, client_id)
    assert client.id is not None
    if action == "withdraw":
        withdraw_consent(s, client.id, f"withdrawn by {user.email}", w.now())
    else:
        set_paused(s, client.id, action == "pause", user.email, w.now())
    auth.audit(
        s, w.now(), user.staff_id, f"reminders_{action}", client_id=client.id, ip=client_ip(request)
    )
    return RedirectResponse(f"/clients/{client_id}?reminders={action}#reminders", status_code=303)


@router.post("/clients/{client_id}/check")
def client_check(w: App, user: User, s: Scoped, client_id: RowId) -> Response:
    from monitor.views import request_check, visible_client

    client = visible_client(s, user.role, user.staff_id, client_id)
    queued = request_check(s, client, "acis", user.email, w.now())
    flag = "queued" if queued else "pending"
    return RedirectResponse(f"/clients/{client_id}?checked={flag}", status_code=303)


@router.post("/clients/{client_id}/federal")
def client_federal(
    request: Request,
    background: BackgroundTasks,
    w: App,
    user: User,
    s: Scoped,
    client_id: RowId,
    court: Annotated[str, Form(max_length=15)] = "",
    docket_number: Annotated[str, Form(max_length=60)] = "",
    action: Annotated[str, Form(max_length=10)] = "link",
) -> Response:
    """Link the client to a federal case (resolved through CourtListener right after the
    answer; the page says how it went), or stop watching one."""
    from checks.federal_dockets import resolve_waiting
    from monitor.views import visible_client
    from storage.federal_dockets import link, normalize, unlink

    client = visible_client(s, user.role, user.staff_id, client_id)
    if client.erased_at is not None:
        raise HTTPException(status_code=404)
    try:
        key = normalize(court, docket_number)
    except ValidationError as exc:
        return client_view(request, w, user, s, client_id, problem=str(exc))
    if action == "unlink":
        if not unlink(s, client, key):
            raise HTTPException(status_code=404)
        done = "unlinked"
    else:
        link(s, client, key, w.now())
        background.add_task(resolve_waiting, w.engine, w.settings)
        done = "linked"
    auth.audit(
        s,
        w.now(),
        user.staff_id,
        "federal_unlink" if action == "unlink" else "federal_link",
        client_id=client.id,
        detail=str(key),
        ip=client_ip(request),
    )
    return RedirectResponse(f"/clients/{client_id}?federal={done}#federal", status_code=303)
