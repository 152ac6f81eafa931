"""The alerts inbox, filtered, and acknowledging an alert (checked and done in the signed-in
user's program-scoped session: an alert of another program or attorney is 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from web.deps import App, ClientFilter, RowId, Scoped, User, local, page, signed_in_router
from web.render import alert_rows

router = signed_in_router("alerts")


@router.get("/alerts")
def alerts(
    request: Request,
    user: User,
    s: Scoped,
    kind: str = "",
    severity: str = "",
    client: ClientFilter = None,
    ack: str = "no",
) -> Response:
    from monitor.views import InboxFilter, event_kinds, inbox

    flt = InboxFilter(
        kind[:40], severity[:10], client, ack if ack in ("no", "yes", "all") else "no"
    )
    rows = inbox(s, user.role, user.staff_id, flt)
    back = f"{request.url.path}?{request.url.query}"
    return page(
        request,
        "alerts/alerts.html",
        user,
        alerts=alert_rows(rows),
        flt=flt,
        kinds=event_kinds(),
        back=back,
    )


@router.get("/alerts/{event_id}")
def alert_page(request: Request, user: User, s: Scoped, event_id: RowId) -> Response:
    """One alert, as its message's link opens it (on a phone, between hearings): what changed,
    the client, and the Acknowledge button."""
    from monitor.messages import describe
    from monitor.views import may_acknowledge
    from storage.models import Client

    event = may_acknowledge(s, user.role, user.staff_id, event_id)
    client = s.get(Client, event.client_id) if event.client_id is not None else None
    _, facts, notes = describe(event, client, user.language)
    (row,) = alert_rows([(event, client)])
    return page(
        request,
        "alerts/alert.html",
        user,
        a=row,
        facts=facts,
        notes=notes,
        back=f"/alerts/{event_id}",
    )


@router.post("/alerts/{event_id}/ack")
def alerts_ack(
    w: App,
    user: User,
    s: Scoped,
    event_id: RowId,
    back: Annotated[str, Form(max_length=500)] = "/alerts",
) -> Response:
    from monitor.dispatch import acknowledge_in
    from monitor.views import may_acknowledge

    may_acknowledge(s, user.role, user.staff_id, event_id)
    acknowledge_in(s, event_id, user.email, w.now())
    return RedirectResponse(local(back), status_code=303)
