"""What every route of the web app gets from its router, not from a line it must remember.

- :class:`Web` is the app's state (engine, settings, clock, templates ...) on ``app.state.web``;
  routes reach it through :func:`web`, so a test can override any part of it.
- :func:`current_user` is the signed-in staff member (no session: a redirect to sign-in).
- :class:`Require` checks the router's roles, read from :data:`ROLES`, the one table of who may
  reach which area; :func:`signed_in_router` puts it, and :func:`csrf_guard`, on the router, so
  every route of a signed-in area has its role check and every state-changing one its CSRF
  check. The guard reads the form's ``csrf_token`` itself.
- :data:`Scoped` is the program-scoped database session of the signed-in user, committed when
  the route returns (before the answer is sent). An unscoped session exists only in the public
  routers (sign-in, links, webhooks), where nobody is signed in.
- :class:`Bounded` is the route class of every router: a POST's body is capped by the limit the
  route declares (``openapi_extra={"x-body-limit": N}``), :data:`MAX_BODY` otherwise, before it
  is read.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as FastAPIPath
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from sqlmodel import Session

from storage.db import session_scope
from storage.errors import ValidationError
from storage.models import StaffRole
from storage.settings import Settings
from web import auth

ATTORNEY, COORDINATOR, ADMIN = (r.value for r in StaffRole)
EVERYONE = (ATTORNEY, COORDINATOR, ADMIN)
MAX_BODY = 4096  # a form's body, unless its route declares more
MAX_ID = 2**63 - 1  # the largest row id a database stores: a larger one names no row
# A row's id in an address: a number a row can have (a larger one is answered 404, as unknown).
RowId = Annotated[int, FastAPIPath(ge=1, le=MAX_ID)]
ClientFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
#: parameters that name a row: out of range, the answer is 404 (no such row), not 400
ROW_PARAMS = frozenset({"client_id", "event_id", "staff_id", "client", "token_id"})
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)  # the dates a page accepts
BODY_LIMIT = "x-body-limit"

# area -> the roles that may reach it (every other signed-in role gets 403). The routers of
# web/routes/ take their roles from here, and the route-contract tests read it.
ROLES: dict[str, tuple[str, ...]] = {
    "account": EVERYONE,
    "clients": EVERYONE,
    "alerts": EVERYONE,
    "facilities": EVERYONE,
    "caseload": (COORDINATOR, ADMIN),
    "reports": (COORDINATOR, ADMIN),
    "roster": (COORDINATOR, ADMIN),
    "admin": (ADMIN,),
}


# areas whose routes need no sign-in: each route checks its own authority (a form token set as
# a cookie, a signed link, a secret address, a webhook's signature, a program's API token)
PUBLIC_AREAS = ("auth", "links", "api")


class ApiError(Exception):
    """A refusal of the JSON API, answered as JSON (``{"detail": ...}``)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class NotSignedIn(Exception):
    """No live session: the answer is the sign-in page, then back."""


@dataclass
class Web:
    """The web app's state, on ``app.state.web``."""

    engine: sa.Engine
    settings: Settings
    clock: Callable[[], datetime]
    secret: str  # signs session cookies and ack links (ack_secret)
    limiter: auth.Throttle
    envs: dict[str, jinja2.Environment]
    provider: Any  # web.oidc.Provider, or None without a sign-in provider
    uploads: Any  # web.routes.roster.Uploads
    page_size: int

    def now(self) -> datetime:
        return self.clock()

    def secure(self, request: Request) -> bool:
        base = self.settings.web_base_url or ""
        return request.url.scheme == "https" or base.startswith("https:")

    def base_url(self, request: Request) -> str:
        return (self.settings.web_base_url or str(request.base_url)).rstrip("/")


def web(request: Request) -> Web:
    state: Web = request.app.state.web
    return state


App = Annotated[Web, Depends(web)]


def current_user(request: Request, w: App) -> auth.SignedIn:
    cookie = request.cookies.get(auth.COOKIE, "")
    value = auth.unsign(w.secret, cookie) if cookie else None
    user = auth.current(w.engine, value, w.now()) if value else None
    if user is None:
        raise NotSignedIn()
    return user


User = Annotated[auth.SignedIn, Depends(current_user)]


class Require:
    """The router's role check: the signed-in user's role must be one of its area's."""

    def __init__(self, area: str) -> None:
        self.area = area
        self.roles = ROLES[area]

    def __call__(self, user: User) -> auth.SignedIn:
        if user.role not in self.roles:
            raise HTTPException(status_code=403)
        return user


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def csrf_guard(request: Request, user: User) -> None:
    """Every state-changing request of a signed-in router carries the session's CSRF token in
    its form's ``csrf_token`` (forms are the only bodies these routers read)."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form(max_files=1, max_fields=20)
    token = str(form.get("csrf_token", ""))
    if not token or not secrets.compare_digest(user.csrf.encode(), token.encode()):
        raise HTTPException(status_code=403, detail="csrf")


def scoped(user: User, w: App) -> Iterator[Session]:
    with session_scope(w.engine, user.organization_id) as session:
        yield session


# The signed-in user's program-scoped session: committed when the route returns, before the
# answer goes out (so the page a redirect leads to sees what was written).
Scoped = Annotated[Session, Depends(scoped, scope="function")]


class Bounded(APIRoute):
    """A route whose POST body is capped before it is read: the route's declared limit
    (``openapi_extra={"x-body-limit": N}``), else :data:`MAX_BODY`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = int((self.openapi_extra or {}).get(BODY_LIMIT, MAX_BODY))

        async def bounded(request: Request) -> Response:
            if request.method not in SAFE_METHODS:
                length = request.headers.get("content-length", "")
                if not length.isdigit():
                    return PlainTextResponse("Request not accepted: no length.", status_code=411)
                if int(length) > limit:
                    return PlainTextResponse("Request too large.", status_code=413)
            return await handler(request)

        return bounded


def signed_in_router(area: str) -> APIRouter:
    """A router of pages for signed-in staff: its area's roles, and CSRF on every change."""
    return APIRouter(
        dependencies=[Depends(Require(area)), Depends(csrf_guard)],
        route_class=Bounded,
        tags=[area],
    )


def public_router(area: str) -> APIRouter:
    """A router whose routes need no sign-in (sign-in itself, token links, webhooks, health):
    each route checks its own authority (a form token, a signed link, a signature)."""
    if area not in PUBLIC_AREAS:
        raise ValueError(f"{area!r} is not a public area ({', '.join(PUBLIC_AREAS)})")
    return APIRouter(route_class=Bounded, tags=[f"public:{area}"])


def page(
    request: Request, name: str, user: auth.SignedIn | None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    """A template rendered in the user's language (before sign-in: the browser's)."""
    lang = user.language if user else accept_language(request)
    template = web(request).envs[lang].get_template(name)
    body = template.render(user=user, lang=lang, request=request, path=request.url.path, **ctx)
    return HTMLResponse(body, status_code=status)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def accept_language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return "es" if header.lower().startswith("es") else "en"


def local(target: str) -> str:
    """Only a path on this site (an open redirect would hand a signed-in user to anyone).
    Browsers drop tabs and line breaks from an address (a slash, a tab, a slash is ``//``):
    anything but printable text is refused too."""
    if not target.startswith("/") or "\\" in target or not target.isprintable():
        return "/"
    if target.lstrip("/") != target[1:] or target.lower().startswith(("/%2f", "/%5c")):
        return "/"  # //host, or an encoded second slash
    return target


def day_param(text: str, what: str) -> date | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ValidationError(f"{what}: {text[:20]!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"{what}: {day} is out of range ({FIRST_DAY} to {LAST_DAY})")
    return day


TEMPLATES = Path(__file__).parent / "templates"
