"""The signed-in user's own account: signing out, the calendar address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from web import auth
from web.deps import App, Scoped, User, client_ip, page, signed_in_router

router = signed_in_router("account")


@router.post("/logout")
def logout(request: Request, w: App) -> Response:
    value = auth.unsign(w.secret, request.cookies.get(auth.COOKIE, ""))
    if value:
        auth.end_session(w.engine, value)
    response = RedirectResponse("/login?out=1", status_code=303)
    response.delete_cookie(auth.COOKIE)
    return response


@router.post("/calendar")
def calendar_new(
    request: Request,
    w: App,
    user: User,
    s: Scoped,
    action: Annotated[str, Form(max_length=10)] = "new",
) -> Response:
    """A new secret calendar address for the signed-in staff member (shown once), or none."""
    from monitor.calendar import feed_path, issue, revoke

    if action == "revoke":
        revoke(s, user.email)
        address = ""
    else:
        address = f"{w.base_url(request)}{feed_path(issue(s, user.email))}"
    auth.audit(s, w.now(), user.staff_id, f"calendar_{action}"[:40], ip=client_ip(request))
    return page(request, "clients/calendar.html", user, address=address, revoked=action == "revoke")
