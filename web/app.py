"""docketwatch's web app (FastAPI, server-rendered Jinja2 pages, plain HTML forms).

This module only assembles: the app's state, the security headers, the error pages and the
routers of ``web/routes/``, one per area, each with its guard rails on the router
(:mod:`web.deps`: roles from one table, CSRF on every change, the program-scoped session).

Areas (who may reach them: :data:`web.deps.ROLES`):

- ``clients``: ``/`` (the signed-in staff member's clients with their next hearing and custody,
  their unacknowledged alerts), ``/clients/<id>`` (hearings over time, lookups, custody, alerts
  with their deliveries, check now, the assisted refresh, reveal (audited), the reminders'
  consent, pause and resume). A client outside an attorney's scope is 404.
- ``alerts``: ``/alerts``, the inbox, filtered; acknowledging.
- ``caseload`` (coordinators, admins): ``/caseload``, ``/caseload/hearings``; ``facilities``:
  detention population per edition of ICE's statistics.
- ``roster`` (coordinators, admins): roster import by upload, preview and rejects.
- ``reports`` (coordinators, admins): the program report and the representation report.
- ``admin``: ``/sources`` and ``/staff``.
- ``account``: sign-out, the calendar address. Public: ``/login``, ``/login/oidc``,
  ``/welcome/<secret>``; ``/ack/<id>?t=…``, ``/calendar/<secret>.ics``,
  ``/hooks/reminders/twilio``, ``/health`` (:mod:`web.routes.links`).

Sign-in, sessions and CSRF: :mod:`web.auth`. Pages are in English or Spanish, by the staff
member's language (``web/locale``, Babel).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from storage.errors import ConfigError, DocketwatchError, NotFoundError, ValidationError
from storage.settings import Settings
from web import auth
from web.deps import ROW_PARAMS, TEMPLATES, ApiError, NotSignedIn, Web, page
from web.gate import SECURITY_HEADERS, Gate
from web.render import template_environments
from web.routes import ROUTERS
from web.routes.roster import Uploads

PAGE = 100  # rows per page of a long table


class Headers(BaseHTTPMiddleware):
    """Security headers on every answer."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/static/") and response.status_code == 200:
            # the stylesheet's address carries its digest; icons and the manifest change rarely
            response.headers["Cache-Control"] = "public, max-age=604800"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _out_of_range_id(error: Any) -> bool:
    location = tuple(error.get("loc") or ())
    bounds = ("less_than_equal", "greater_than_equal")
    return len(location) >= 2 and location[-1] in ROW_PARAMS and error.get("type") in bounds


def _provider(settings: Settings) -> object | None:
    if not settings.oidc_issuer:
        return None
    from web.oidc import Provider

    if not settings.oidc_client_id or settings.oidc_client_secret is None:
        raise ConfigError("oidc_issuer is set: set oidc_client_id and oidc_client_secret too")
    client_secret = settings.oidc_client_secret.get_secret_value()
    return Provider(
        settings.oidc_issuer, settings.oidc_client_id, client_secret, settings.oidc_label
    )


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _api_error(status: int, detail: str) -> Response:
    """The JSON API's errors are JSON (``{"detail": ...}``), never a page."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_refusal(request: Request, exc: ApiError) -> Response:
        return _api_error(exc.status, exc.detail)

    @app.exception_handler(NotSignedIn)
    async def _to_sign_in(request: Request, _exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, _exc: NotFoundError) -> Response:
        if _api(request):
            return _api_error(404, str(_exc))
        return page(request, "error.html", None, 404, title="Not found", message="not_found")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _api(request):
            return _api_error(exc.status_code, str(exc.detail))
        message = {403: "forbidden", 404: "not_found"}.get(exc.status_code, "error")
        if exc.detail == "csrf":
            message = "csrf"
        return page(request, "error.html", None, exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        # An address or form that does not parse (/clients/abc): a page, not the framework's
        # JSON, and nothing of what was sent echoed back. A row id that is a number no row can
        # have (past 2^63 - 1) names no row: 404, as an unknown one.
        errors = exc.errors()
        if _api(request):
            where = ", ".join(".".join(str(x) for x in e.get("loc", ())) for e in errors)
            return _api_error(400, f"not valid: {where}")
        if errors and all(_out_of_range_id(e) for e in errors):
            return page(request, "error.html", None, 404, title="Not found", message="not_found")
        detail = "The address or the form is not valid."
        return page(request, "error.html", None, 400, message="invalid", detail=detail)

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: ValidationError) -> Response:
        if _api(request):
            return _api_error(400, str(exc))
        return page(request, "error.html", None, 400, message="invalid", detail=str(exc))

    @app.exception_handler(DocketwatchError)
    async def _other(request: Request, exc: DocketwatchError) -> Response:
        return page(request, "error.html", None, 400, message="invalid", detail=str(exc))


def create_app(
    engine: sa.Engine,
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
    throttle: auth.Throttle | None = None,
    page_size: int = PAGE,
) -> FastAPI:
    """The web app on ``engine``. ``settings.ack_secret`` signs cookies and ack links."""
    if settings.ack_secret is None or not settings.ack_secret.get_secret_value():
        raise ConfigError("the web app needs ack_secret: it signs session cookies and ack links")
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = Web(
        engine=engine,
        settings=settings,
        clock=clock or (lambda: datetime.now(UTC)),
        secret=settings.ack_secret.get_secret_value(),
        limiter=throttle or auth.Throttle(failures=auth.StoredFailures(engine)),
        envs=template_environments(TEMPLATES),
        provider=_provider(settings),
        uploads=Uploads(settings.data_dir / "uploads"),
        page_size=page_size,
    )
    app.add_middleware(Headers)
    app.add_middleware(Gate, limit=settings.web_requests_in_flight)  # outermost: /health first
    app.mount("/static", StaticFiles(directory=TEMPLATES.parent / "static"), name="static")
    _error_pages(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
