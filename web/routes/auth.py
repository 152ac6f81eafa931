"""Sign-in: a password, the organization's account (OpenID Connect), a one-time link.

Sign-in forms are posted before any session exists: each carries a token also set as a strict
cookie (a form from another site cannot know it), checked by :func:`check_form_token`.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select

from storage.db import session_scope
from storage.errors import NotFoundError, ValidationError
from storage.models import Staff
from storage.passwords import staff_for_link, use_link, verify_password
from web import auth
from web.deps import (
    App,
    Web,
    client_ip,
    local,
    page,
    public_router,
    web,
)
from web.oidc import Identity

LOGIN_COOKIE = "dw_login"
OIDC_COOKIE = "dw_oidc"

public = public_router("auth")


def form_page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """A page with a form posted before sign-in: its token, also set as a strict cookie."""
    token = secrets.token_urlsafe(24)
    response = page(request, name, None, status, login_token=token, **ctx)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=web(request).secure(request),
        max_age=3600,
    )
    return response


def check_form_token(request: Request, token: str) -> None:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), token.encode()):
        raise HTTPException(status_code=403, detail="csrf")


def signed_in_as(request: Request, w: Web, staff_id: int, target: str, spent: str) -> Response:
    """Start a session for ``staff_id`` and go to ``target`` (a path on this site)."""
    session_secret, _ = auth.start_session(w.engine, staff_id, w.now())
    response = RedirectResponse(local(target), status_code=303)
    response.set_cookie(
        auth.COOKIE,
        auth.sign(w.secret, session_secret),
        httponly=True,
        samesite="lax",
        secure=w.secure(request),
        max_age=int(auth.ABSOLUTE.total_seconds()),
    )
    response.delete_cookie(spent)
    return response


def callback_uri(request: Request, w: Web) -> str:
    return f"{w.base_url(request)}/login/oidc/callback"


@public.get("/login")
def login_form(request: Request, w: App, next: str = "/") -> Response:
    return form_page(request, "auth/login.html", next=local(next), provider=w.provider)


@public.post("/login")
def login(
    request: Request,
    w: App,
    email: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    check_form_token(request, login_token)
    email = email.strip().lower()
    where = client_ip(request)
    again = {"login_token": login_token, "next": local(next), "provider": w.provider}
    if w.limiter.blocked(email, where):
        return page(request, "auth/login.html", None, 429, problem="throttled", **again)
    with session_scope(w.engine) as s:
        staff = s.exec(select(Staff).where(Staff.email == email)).first()
        ok = verify_password(staff.password_hash if staff and staff.active else None, password)
        staff_id = staff.id if staff else None
        auth.audit(s, w.now(), staff_id, "sign_in" if ok else "sign_in_failed", ip=where)
    if not ok or staff_id is None:
        w.limiter.failed(email, where)
        return page(request, "auth/login.html", None, 401, problem="wrong", **again)
    w.limiter.succeeded(email, where)
    return signed_in_as(request, w, staff_id, next, LOGIN_COOKIE)


@public.get("/login/oidc")
def oidc_start(request: Request, w: App, next: str = "/") -> Response:
    if w.provider is None:
        raise NotFoundError("no sign-in provider is configured")
    started = w.provider.start(callback_uri(request, w))
    response = RedirectResponse(started.url, status_code=303)
    value = ".".join((started.state, started.nonce, started.verifier, quote(local(next), safe="")))
    response.set_cookie(
        OIDC_COOKIE,
        auth.sign(w.secret, value),
        httponly=True,
        samesite="lax",
        secure=w.secure(request),
        max_age=600,
    )
    return response


def oidc_staff(s: Session, who: Identity) -> tuple[Staff | None, bool]:
    """The staff member an OIDC sign-in names, and whether this sign-in linked them: by the
    linked subject; else, at a first sign-in, by a vouched-for email, linking the subject.
    A staff member already linked to another subject is not taken over by an email."""
    staff = s.exec(select(Staff).where(Staff.oidc_subject == who.subject)).first()
    if staff is not None:
        return staff, False
    if not who.email or "@" not in who.email:
        raise ValidationError("the sign-in provider gave no email address")
    if not who.verified:
        raise ValidationError(f"the sign-in provider has not verified {who.email}")
    staff = s.exec(select(Staff).where(Staff.email == who.email)).first()
    if staff is None or not staff.active:
        return staff, False
    if staff.oidc_subject is not None:
        raise ValidationError(
            f"{who.email} is linked to another account at the sign-in provider; ask an admin"
        )
    staff.oidc_subject = who.subject
    s.add(staff)
    return staff, True


@public.get("/login/oidc/callback")
def oidc_callback(request: Request, w: App, code: str = "", state: str = "") -> Response:
    if w.provider is None:
        raise NotFoundError("no sign-in provider is configured")
    value = auth.unsign(w.secret, request.cookies.get(OIDC_COOKIE, ""))
    parts = value.split(".") if value else []
    if len(parts) != 4 or not secrets.compare_digest(parts[0].encode(), state.encode()):
        raise HTTPException(status_code=403, detail="csrf")
    _, nonce, verifier, target = parts
    who = w.provider.finish(callback_uri(request, w), code[:500], verifier, nonce)
    with session_scope(w.engine) as s:
        staff, linked = oidc_staff(s, who)  # ValidationError: a page saying why
        ok = staff is not None and staff.active
        action = "sign_in_oidc" if ok else "sign_in_oidc_refused"
        if ok and linked:
            auth.audit(
                s, w.now(), staff.id if staff else None, "oidc_linked", ip=client_ip(request)
            )
        auth.audit(
            s,
            w.now(),
            staff.id if staff else None,
            action,
            detail="" if ok else who.email,
            ip=client_ip(request),
        )
        staff_id = staff.id if staff is not None and ok else None
    if staff_id is None:
        refused = RedirectResponse("/login?refused=1", status_code=303)
        refused.delete_cookie(OIDC_COOKIE)
        return refused
    return signed_in_as(request, w, staff_id, unquote(target), OIDC_COOKIE)


def _link_holder(w: Web, token: str) -> str:
    with session_scope(w.engine) as s:
        member = staff_for_link(s, token, w.now())
        if member is None:
            raise NotFoundError("no such link")
        return member.name


@public.get("/welcome/{token}")
def welcome_form(request: Request, w: App, token: str) -> Response:
    return form_page(request, "auth/welcome.html", who=_link_holder(w, token), token=token)


@public.post("/welcome/{token}")
def welcome(
    request: Request,
    w: App,
    token: str,
    password: Annotated[str, Form(max_length=1024)],
    again: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_form_token(request, login_token)
    if password != again:
        return page(
            request,
            "auth/welcome.html",
            None,
            400,
            who=_link_holder(w, token),
            token=token,
            login_token=login_token,
            problem="mismatch",
        )
    with session_scope(w.engine) as s:
        member = use_link(s, token, password, w.now())
        staff_id = member.id
        auth.audit(
            s, w.now(), staff_id, "password_set", detail="one-time link", ip=client_ip(request)
        )
    assert staff_id is not None
    return signed_in_as(request, w, staff_id, "/", LOGIN_COOKIE)
