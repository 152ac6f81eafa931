"""docketwatch's web app (FastAPI, server-rendered Jinja2 pages, plain HTML forms).

Pages, by role (every page and action checks the role on the server):

- ``/``: the signed-in staff member's clients (an attorney's own, primary or backup; every
  client for coordinators and admins) with their next hearing and custody, and their
  unacknowledged alerts with an Acknowledge button.
- ``/clients/<id>``: a client's hearings over time, ACIS lookups, custody history, alerts with
  their deliveries; "check now"; the assisted refresh steps when ACIS is blocked; the full name
  and A-number only on "reveal", which is audited. A client outside an attorney's scope is 404.
  Its reminders: the client's consent (recorded, withdrawn), pause and resume, every reminder
  sent or not and why.
- ``/alerts``: the inbox, filtered by kind, severity, client and acknowledgement.
- ``/caseload`` and ``/caseload/hearings`` (coordinators, admins): the unrepresented caseload at
  a court from the FOIA release (filters, counts, sorting, pages, CSV and XLSX, the trend), and
  the hearings of unrepresented respondents day by day.
- ``/facilities``: detention population per edition of ICE's statistics, charted.
- ``/roster`` (coordinators, admins): roster import by upload, with a preview and the rejects.
- ``/reports`` (coordinators, admins): the program report, and its files.
- ``/sources`` and ``/staff`` (admins): sources' health, blocked lookups, channels, FOIA
  releases; staff, their channels and preferences, test messages.
- ``/login``, ``/login/oidc`` (the organization's account), ``/welcome/<secret>`` (a one-time
  password link), ``/logout``.
- ``/ack/<id>?t=…``: the acknowledgement links of alerts (no sign-in: the signed token is the
  authority); a GET only asks to confirm (mail scanners open links), the POST acknowledges.
- ``/calendar/<secret>.ics``: a staff member's calendar feed; ``/health``.
- ``/hooks/reminders/twilio``: the SMS/WhatsApp gateway's inbound replies (no sign-in: Twilio's
  signature is the authority); STOP or ALTO withdraws the client's consent.

Sign-in, sessions and CSRF: :mod:`web.auth`. Pages are in English or Spanish, by the staff
member's language (``web/locale``, Babel).
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from sqlmodel import Session
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from storage.db import session_scope
from storage.errors import DocketwatchError, NotFoundError, ValidationError
from storage.models import StaffRole
from storage.passwords import verify_password
from storage.settings import Settings
from web import auth
from web.i18n import environments

HERE = Path(__file__).parent
MAX_BODY = 4096
PAGE = 100  # rows per page of a long table
ATTORNEY, COORDINATOR, ADMIN = (r.value for r in StaffRole)
EVERYONE = (ATTORNEY, COORDINATOR, ADMIN)
LOGIN_COOKIE = "dw_login"
OIDC_COOKIE = "dw_oidc"


MAX_UPLOAD = 20 * 1024 * 1024  # a roster upload
UPLOAD_PATHS = ("/roster/preview",)
INBOUND_PATHS = ("/hooks/reminders/twilio",)  # a reply's form: up to 1600 characters and more


class NotSignedIn(Exception):
    pass


class Uploads:
    """Roster files uploaded for a preview, kept owner-only until imported or an hour old; each
    is known by a random token and belongs to the staff member who uploaded it."""

    KEEP = 3600.0

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._owners: dict[str, tuple[int, Path, float]] = {}

    def put(self, token: str, staff_id: int, suffix: str, data: bytes) -> Path:
        from storage.files import private_file

        if len(data) > MAX_UPLOAD:
            raise ValidationError(f"a roster file may be at most {MAX_UPLOAD // 2**20} MB")
        self._sweep()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{token}{suffix}"
        with private_file(path, "wb") as out:
            out.write(data)
        self._owners[token] = (staff_id, path, time.monotonic())
        return path

    def get(self, token: str, staff_id: int) -> Path:
        owner = self._owners.get(token)
        if owner is None or owner[0] != staff_id or not owner[1].exists():
            raise NotFoundError("that upload is gone: upload the file again")
        return owner[1]

    def _sweep(self) -> None:
        old = [t for t, (_, _, at) in self._owners.items() if time.monotonic() - at > self.KEEP]
        for token in old:
            _, path, _ = self._owners.pop(token)
            path.unlink(missing_ok=True)


class Headers(BaseHTTPMiddleware):
    """Security headers on every answer; request bodies capped before they are read."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                return PlainTextResponse("Request not accepted: no length.", status_code=411)
            limit = MAX_UPLOAD + 65536 if request.url.path in UPLOAD_PATHS else MAX_BODY
            if request.url.path in INBOUND_PATHS:
                limit = 65536
            if int(length) > limit:
                return PlainTextResponse("Request too large.", status_code=413)
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(
    engine: sa.Engine,
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
    throttle: auth.Throttle | None = None,
    page_size: int = PAGE,
) -> FastAPI:
    """The web app on ``engine``. ``settings.ack_secret`` signs cookies and ack links."""
    if settings.ack_secret is None or not settings.ack_secret.get_secret_value():
        from storage.errors import ConfigError

        raise ConfigError("the web app needs ack_secret: it signs session cookies and ack links")
    secret = settings.ack_secret.get_secret_value()
    now = clock or (lambda: datetime.now(UTC))
    limiter = throttle or auth.Throttle()
    envs = environments(HERE / "templates")
    for env in envs.values():
        env.filters["initials"] = _initials
        env.filters["last_four"] = _last_four
        env.filters["headline"] = _headline
        env.filters["chart"] = _chart
        env.filters["zone"] = _zone
        env.filters["row_label"] = _row_label
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    provider = None
    if settings.oidc_issuer:
        from web.oidc import Provider

        if not settings.oidc_client_id or settings.oidc_client_secret is None:
            from storage.errors import ConfigError

            raise ConfigError("oidc_issuer is set: set oidc_client_id and oidc_client_secret too")
        client_secret = settings.oidc_client_secret.get_secret_value()
        provider = Provider(
            settings.oidc_issuer, settings.oidc_client_id, client_secret, settings.oidc_label
        )

    def callback_uri(request: Request) -> str:
        base = settings.web_base_url or str(request.base_url)
        return f"{base.rstrip('/')}/login/oidc/callback"

    # -------------------------------------------------------------------------- helpers

    def page(
        request: Request, name: str, user: auth.SignedIn | None, status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        lang = user.language if user else _accept_language(request)
        template = envs[lang].get_template(name)
        body = template.render(user=user, lang=lang, request=request, path=request.url.path, **ctx)
        return HTMLResponse(body, status_code=status)

    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or (settings.web_base_url or "").startswith("https:")

    def signed_in(request: Request) -> auth.SignedIn:
        cookie = request.cookies.get(auth.COOKIE, "")
        value = auth.unsign(secret, cookie) if cookie else None
        user = auth.current(engine, value, now()) if value else None
        if user is None:
            raise NotSignedIn()
        return user

    def role(*allowed: str) -> Any:
        def check(request: Request) -> auth.SignedIn:
            user = signed_in(request)
            if user.role not in allowed:
                raise HTTPException(status_code=403)
            return user

        return Depends(check)

    def csrf(user: auth.SignedIn, token: str) -> None:
        if not secrets.compare_digest(user.csrf.encode(), (token or "").encode()):
            raise HTTPException(status_code=403, detail="csrf")

    def ip(request: Request) -> str:
        return request.client.host if request.client else ""

    def form_page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        """A page with a form posted before sign-in: its token, also set as a strict cookie
        (a form from another site cannot know it)."""
        token = secrets.token_urlsafe(24)
        response = page(request, name, None, status, login_token=token, **ctx)
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure(request),
            max_age=3600,
        )  # fmt: skip
        return response

    def check_form_token(request: Request, token: str) -> None:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(expected.encode(), token.encode()):
            raise HTTPException(status_code=403, detail="csrf")

    def signed_in_as(request: Request, staff_id: int, target: str, spent: str) -> Response:
        """Start a session for ``staff_id`` and go to ``target`` (a path on this site)."""
        session_secret, _ = auth.start_session(engine, staff_id, now())
        response = RedirectResponse(_local(target), status_code=303)
        response.set_cookie(
            auth.COOKIE, auth.sign(secret, session_secret), httponly=True, samesite="lax",
            secure=secure(request), max_age=int(auth.ABSOLUTE.total_seconds()),
        )  # fmt: skip
        response.delete_cookie(spent)
        return response

    @app.exception_handler(NotSignedIn)
    async def _to_sign_in(request: Request, _exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, _exc: NotFoundError) -> Response:
        return page(request, "error.html", None, 404, title="Not found", message="not_found")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = {403: "forbidden", 404: "not_found"}.get(exc.status_code, "error")
        if exc.detail == "csrf":
            message = "csrf"
        return page(request, "error.html", None, exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, _exc: RequestValidationError) -> Response:
        # An address or form that does not parse (/clients/abc): a page, not the framework's
        # JSON, and nothing of what was sent echoed back.
        detail = "The address or the form is not valid."
        return page(request, "error.html", None, 400, message="invalid", detail=detail)

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: ValidationError) -> Response:
        return page(request, "error.html", None, 400, message="invalid", detail=str(exc))

    # -------------------------------------------------------------------------- public

    @app.get("/health", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    @app.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:
        return form_page(request, "login.html", next=_local(next), provider=provider)

    @app.post("/login")
    def login(
        request: Request,
        email: Annotated[str, Form(max_length=200)],
        password: Annotated[str, Form(max_length=1024)],
        login_token: Annotated[str, Form(max_length=100)] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        check_form_token(request, login_token)
        email = email.strip().lower()
        where = ip(request)
        again = {"login_token": login_token, "next": _local(next), "provider": provider}
        if limiter.blocked(f"email:{email}", f"ip:{where}"):
            return page(request, "login.html", None, 429, problem="throttled", **again)
        from sqlmodel import select

        from storage.models import Staff

        with session_scope(engine) as s:
            staff = s.exec(select(Staff).where(Staff.email == email)).first()
            stored = staff.password_hash if staff and staff.active else None
            ok = verify_password(stored, password)
            auth.audit(s, now(), staff.id if staff else None,
                       "sign_in" if ok else "sign_in_failed", ip=where)  # fmt: skip
            staff_id = staff.id if staff else None
        if not ok or staff_id is None:
            limiter.failed(f"email:{email}", f"ip:{where}")
            return page(request, "login.html", None, 401, problem="wrong", **again)
        limiter.succeeded(f"email:{email}")
        return signed_in_as(request, staff_id, next, LOGIN_COOKIE)

    @app.get("/login/oidc")
    def oidc_start(request: Request, next: str = "/") -> Response:
        if provider is None:
            raise NotFoundError("no sign-in provider is configured")
        started = provider.start(callback_uri(request))
        response = RedirectResponse(started.url, status_code=303)
        value = ".".join(
            (started.state, started.nonce, started.verifier, quote(_local(next), safe=""))
        )
        response.set_cookie(
            OIDC_COOKIE, auth.sign(secret, value), httponly=True, samesite="lax",
            secure=secure(request), max_age=600,
        )  # fmt: skip
        return response

    @app.get("/login/oidc/callback")
    def oidc_callback(request: Request, code: str = "", state: str = "") -> Response:
        from urllib.parse import unquote

        from sqlmodel import select

        from storage.models import Staff

        if provider is None:
            raise NotFoundError("no sign-in provider is configured")
        value = auth.unsign(secret, request.cookies.get(OIDC_COOKIE, ""))
        parts = value.split(".") if value else []
        if len(parts) != 4 or not secrets.compare_digest(parts[0].encode(), state.encode()):
            raise HTTPException(status_code=403, detail="csrf")
        _, nonce, verifier, target = parts
        email = provider.finish(callback_uri(request), code[:500], verifier, nonce)
        with session_scope(engine) as s:
            staff = s.exec(select(Staff).where(Staff.email == email)).first()
            ok = staff is not None and staff.active
            action = "sign_in_oidc" if ok else "sign_in_oidc_refused"
            auth.audit(s, now(), staff.id if staff else None, action,
                       detail="" if ok else email, ip=ip(request))  # fmt: skip
            staff_id = staff.id if staff is not None and ok else None
        if staff_id is None:
            refused = RedirectResponse("/login?refused=1", status_code=303)
            refused.delete_cookie(OIDC_COOKIE)
            return refused
        return signed_in_as(request, staff_id, unquote(target), OIDC_COOKIE)

    @app.get("/welcome/{token}")
    def welcome_form(request: Request, token: str) -> Response:
        from storage.passwords import staff_for_link

        with session_scope(engine) as s:
            member = staff_for_link(s, token, now())
            if member is None:
                raise NotFoundError("no such link")
            name = member.name
        return form_page(request, "welcome.html", who=name, token=token)

    @app.post("/welcome/{token}")
    def welcome(
        request: Request,
        token: str,
        password: Annotated[str, Form(max_length=1024)],
        again: Annotated[str, Form(max_length=1024)],
        login_token: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        from storage.passwords import use_link

        check_form_token(request, login_token)
        if password != again:
            with session_scope(engine) as s:
                from storage.passwords import staff_for_link

                member = staff_for_link(s, token, now())
                if member is None:
                    raise NotFoundError("no such link")
                name = member.name
            return page(request, "welcome.html", None, 400, who=name, token=token,
                        login_token=login_token, problem="mismatch")  # fmt: skip
        with session_scope(engine) as s:
            member = use_link(s, token, password, now())
            staff_id = member.id
            auth.audit(s, now(), staff_id, "password_set", detail="one-time link", ip=ip(request))
        assert staff_id is not None
        return signed_in_as(request, staff_id, "/", LOGIN_COOKIE)

    @app.post("/logout")
    def logout(
        request: Request,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        csrf(user, csrf_token)
        value = auth.unsign(secret, request.cookies.get(auth.COOKIE, ""))
        if value:
            auth.end_session(engine, value)
        response = RedirectResponse("/login?out=1", status_code=303)
        response.delete_cookie(auth.COOKIE)
        return response

    # -------------------------------------------------------------------------- pages

    @app.get("/")
    def home(request: Request, user: auth.SignedIn = role(*EVERYONE)) -> Response:
        from monitor.views import InboxFilter, client_lines, inbox

        with session_scope(engine, user.organization_id) as s:
            lines = client_lines(s, user.role, user.staff_id)
            alerts = inbox(s, user.role, user.staff_id, InboxFilter(), limit=50)
            return page(request, "home.html", user, lines=lines, alerts=_alert_rows(alerts))

    @app.post("/calendar")
    def calendar_new(
        request: Request,
        action: Annotated[str, Form(max_length=10)] = "new",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        """A new secret calendar address for the signed-in staff member (shown once), or none."""
        from monitor.calendar import feed_path, issue, revoke

        csrf(user, csrf_token)
        with session_scope(engine, user.organization_id) as s:
            if action == "revoke":
                revoke(s, user.email)
                address = ""
            else:
                token = issue(s, user.email)
                base = settings.web_base_url or str(request.base_url)
                address = f"{base.rstrip('/')}{feed_path(token)}"
            auth.audit(s, now(), user.staff_id, f"calendar_{action}"[:40], ip=ip(request))
        return page(request, "calendar.html", user, address=address, revoked=action == "revoke")

    @app.get("/clients/{client_id}")
    def client_page(
        request: Request, client_id: int, user: auth.SignedIn = role(*EVERYONE)
    ) -> Response:
        return _client(request, client_id, user, reveal=False)

    @app.post("/clients/{client_id}/reveal")
    def client_reveal(
        request: Request,
        client_id: int,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        csrf(user, csrf_token)
        return _client(request, client_id, user, reveal=True)

    def _client(
        request: Request, client_id: int, user: auth.SignedIn, reveal: bool, problem: str = ""
    ) -> Response:
        from monitor.views import client_history, visible_client

        with session_scope(engine, user.organization_id) as s:
            client = visible_client(s, user.role, user.staff_id, client_id)
            if reveal:
                auth.audit(s, now(), user.staff_id, "reveal", client_id=client.id,
                           detail="full name and A-number shown", ip=ip(request))  # fmt: skip
            history = client_history(s, client)
            from monitor.reminders import client_reminders, mask_phone

            assert client.id is not None
            reminders = client_reminders(s, settings, client.id)
            return page(request, "client.html", user, h=history, reveal=reveal,
                        checked=request.query_params.get("checked"), r=reminders,
                        masked_phone=mask_phone(reminders.contact.phone) if reminders.contact
                        else "", done=request.query_params.get("reminders", ""),
                        today=now().date(), problem=problem,
                        status=400 if problem else 200)  # fmt: skip

    @app.post("/clients/{client_id}/reminders/consent")
    def reminders_consent(
        request: Request,
        client_id: int,
        phone: Annotated[str, Form(max_length=40)],
        language: Annotated[str, Form(max_length=5)],
        how: Annotated[str, Form(max_length=12)],
        via: Annotated[str, Form(max_length=10)] = "sms",
        consent_on: Annotated[str, Form(max_length=10)] = "",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        from monitor.reminders import Consent, record_consent
        from monitor.views import visible_client

        csrf(user, csrf_token)
        day = _day_param(consent_on, "consent date") if consent_on else None
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) if day else None
        consent = Consent(phone=phone, via=via, language=language, how=how, by=user.email,
                          at=min(at, now()) if at else None)  # fmt: skip
        try:
            with session_scope(engine, user.organization_id) as s:
                client = visible_client(s, user.role, user.staff_id, client_id)
                record_consent(s, settings, client, consent, now())
                auth.audit(s, now(), user.staff_id, "reminder_consent", client_id=client.id,
                           detail=f"{how}, {via}, {language}", ip=ip(request))  # fmt: skip
        except ValidationError as exc:  # the page again, saying what to correct; nothing stored
            return _client(request, client_id, user, reveal=False, problem=str(exc))
        return RedirectResponse(f"/clients/{client_id}?reminders=consent#reminders",
                                status_code=303)  # fmt: skip

    @app.post("/clients/{client_id}/reminders/{action}")
    def reminders_change(
        request: Request,
        client_id: int,
        action: str,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        from monitor.reminders import set_paused, withdraw_consent
        from monitor.views import visible_client

        csrf(user, csrf_token)
        if action not in ("withdraw", "pause", "resume"):
            raise HTTPException(status_code=404)
        with session_scope(engine, user.organization_id) as s:
            client = visible_client(s, user.role, user.staff_id, client_id)
            assert client.id is not None
            if action == "withdraw":
                withdraw_consent(s, client.id, f"withdrawn by {user.email}", now())
            else:
                set_paused(s, client.id, action == "pause", user.email, now())
            auth.audit(s, now(), user.staff_id, f"reminders_{action}", client_id=client.id,
                       ip=ip(request))  # fmt: skip
        return RedirectResponse(f"/clients/{client_id}?reminders={action}#reminders",
                                status_code=303)  # fmt: skip

    @app.post("/hooks/reminders/twilio")
    async def reminders_inbound(request: Request) -> Response:
        """A client's reply to a reminder, from the gateway (Twilio's signed webhook). STOP or
        ALTO withdraws consent and tells the attorney; anything else is left to the gateway's
        own inbox (nothing of it is stored)."""
        from twilio.request_validator import RequestValidator

        from monitor.reminders import is_stop, stop_reply

        token = _webhook_token(settings)
        if token is None:
            raise HTTPException(status_code=404)
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        base = settings.web_base_url or str(request.base_url)
        url = f"{base.rstrip('/')}{request.url.path}"
        if request.url.query:
            url += f"?{request.url.query}"
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(token).validate(url, params, signature):
            raise HTTPException(status_code=403, detail="signature")
        sender = params.get("From", "").removeprefix("whatsapp:")
        body = params.get("Body", "")
        if sender and is_stop(body):
            word = body.strip().split()[0].upper()
            try:
                with session_scope(engine) as s:
                    stop_reply(s, sender, word, now())
            except ValidationError:  # a sender that is no phone number: no client of ours
                pass
        return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
                        media_type="application/xml")  # fmt: skip

    @app.post("/clients/{client_id}/check")
    def client_check(
        request: Request,
        client_id: int,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        from monitor.views import request_check, visible_client

        csrf(user, csrf_token)
        with session_scope(engine, user.organization_id) as s:
            client = visible_client(s, user.role, user.staff_id, client_id)
            queued = request_check(s, client, "acis", user.email, now())
        flag = "queued" if queued else "pending"
        return RedirectResponse(f"/clients/{client_id}?checked={flag}", status_code=303)

    @app.get("/alerts")
    def alerts(
        request: Request,
        kind: str = "",
        severity: str = "",
        client: int | None = None,
        ack: str = "no",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        from monitor.views import InboxFilter, event_kinds, inbox

        flt = InboxFilter(
            kind[:40], severity[:10], client, ack if ack in ("no", "yes", "all") else "no"
        )
        with session_scope(engine, user.organization_id) as s:
            rows = inbox(s, user.role, user.staff_id, flt)
            back = f"{request.url.path}?{request.url.query}"
            return page(request, "alerts.html", user, alerts=_alert_rows(rows), flt=flt,
                        kinds=event_kinds(), back=back)  # fmt: skip

    @app.post("/alerts/{event_id}/ack")
    def alerts_ack(
        request: Request,
        event_id: int,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        back: Annotated[str, Form(max_length=500)] = "/alerts",
        user: auth.SignedIn = role(*EVERYONE),
    ) -> Response:
        from monitor.dispatch import acknowledge
        from monitor.views import may_acknowledge

        csrf(user, csrf_token)
        with session_scope(engine, user.organization_id) as s:
            may_acknowledge(s, user.role, user.staff_id, event_id)
        acknowledge(engine, event_id, user.email, now())
        return RedirectResponse(_local(back), status_code=303)

    @app.get("/caseload")
    def caseload(
        request: Request,
        court: str = "ADL",
        detained: str = "",
        by: str = "",
        new: str = "",
        nationality: str = "",
        language: str = "",
        case_type: str = "",
        judge: str = "",
        hearing_from: str = "",
        hearing_to: str = "",
        sort: str = "",
        desc: str = "",
        page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
        format: str = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        from monitor.eoir_foia import (
            GROUPS,
            CaseloadFilter,
            caseload_choices,
            caseload_trend,
            caseload_unrepresented,
        )

        court = court.strip().upper()[:3] or "ADL"
        grouping = by if by in GROUPS else None
        flt = CaseloadFilter(
            nationality[:2], language[:3], case_type[:3], judge[:3],
            _day_param(hearing_from, "hearing from"), _day_param(hearing_to, "hearing to"),
        )  # fmt: skip
        params = {"court": court, "detained": detained, "by": by, "new": new,
                  "nationality": flt.nationality, "language": flt.language,
                  "case_type": flt.case_type, "judge": flt.judge,
                  "hearing_from": hearing_from, "hearing_to": hearing_to}  # fmt: skip
        context: dict[str, Any] = {"court": court, "params": params, "groups": GROUPS,
                                   "table": None, "trend": None, "choices": {}}  # fmt: skip
        with session_scope(engine, user.organization_id) as s:
            try:
                table = caseload_unrepresented(
                    s, court, detained=bool(detained), by=grouping, new_only=bool(new), flt=flt
                )
                context["choices"] = caseload_choices(s, court)
            except NotFoundError as exc:
                return page(request, "caseload.html", user, problem=str(exc), **context)
            context["trend"] = caseload_trend(s, court)
        if sort in table.columns:  # sorted as text, numbers as numbers, blanks last
            i = table.columns.index(sort)
            table.rows.sort(key=lambda r: (r[i] in ("", None), _sort_key(r[i])), reverse=bool(desc))
        if format in ("csv", "xlsx"):
            name = f"caseload-{court}.{format}"
            if format == "csv":
                return _csv(table.columns, table.rows, name)
            return _xlsx(table.columns, table.rows, name, table.title)
        pages = max(1, -(-len(table.rows) // page_size))
        page_no = min(page_no, pages)
        shown = table.rows[(page_no - 1) * page_size : page_no * page_size]
        link = lambda **kw: "/caseload?" + urlencode({**params, "sort": sort, "desc": desc, **kw})  # noqa: E731
        return page(request, "caseload.html", user, shown=shown, page_no=page_no, pages=pages,
                    sort=sort, desc=desc, link=link, **{**context, "table": table})  # fmt: skip

    @app.get("/caseload/hearings")
    def caseload_hearings_page(
        request: Request,
        court: str = "ADL",
        start: Annotated[str, Query(alias="from")] = "",
        end: Annotated[str, Query(alias="to")] = "",
        format: str = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        from monitor.eoir_foia import caseload_hearings

        court = court.strip().upper()[:3] or "ADL"
        first = _day_param(start, "from") or now().date()
        last = _day_param(end, "to") or first + timedelta(days=6)
        if last < first or (last - first).days > 92:
            raise ValidationError("the days run from 'from' to 'to', at most 93 days")
        with session_scope(engine, user.organization_id) as s:
            try:
                table = caseload_hearings(s, court, first, last)
            except NotFoundError as exc:
                return page(request, "hearings.html", user, problem=str(exc), court=court,
                            first=first, last=last, days=[])  # fmt: skip
        if format == "csv":
            return _csv(table.columns, table.rows, f"hearings-{court}-{first}.csv")
        days: dict[str, list[list[Any]]] = {}
        for row in table.rows:
            days.setdefault(row[0], []).append(row[1:])
        query = urlencode({"court": court, "from": first, "to": last, "format": "csv"})
        return page(request, "hearings.html", user, court=court, first=first, last=last,
                    table=table, days=list(days.items()), query=query)  # fmt: skip

    @app.get("/facilities")
    def facilities(
        request: Request, q: str = "", user: auth.SignedIn = role(*EVERYONE)
    ) -> Response:
        from monitor.detention_stats import svg_chart, trend_records
        from storage.detention_stats import trend

        names = [q.strip()[:80]] if q.strip() else ["Adelanto", "Desert View"]
        with session_scope(engine, user.organization_id) as s:
            series: dict[str, Any] = {}
            for name in names:
                series.update(trend(s, name))
            records = trend_records(series)
        chart = Markup(svg_chart(series, "Average daily population per edition")) if series else ""
        return page(request, "facilities.html", user, q=q, names=names, chart=chart,
                    records=records)  # fmt: skip

    @app.get("/reports")
    def reports_page(
        request: Request,
        start: Annotated[str, Query(alias="from", max_length=7)] = "",
        end: Annotated[str, Query(alias="to", max_length=7)] = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        from monitor.reports import parse_month, previous_month, program_report

        last_month = f"{previous_month(now().date()):%Y-%m}"
        start, end = start or last_month, end or start or last_month
        first, last = parse_month(start, "from"), parse_month(end, "to")
        with session_scope(engine, user.organization_id) as s:
            report = program_report(s, first, last, settings.timezone, now()).published()
        query = urlencode({"from": start, "to": end})
        return page(request, "reports.html", user, report=report, start=start, end=end,
                    query=query)  # fmt: skip

    @app.get("/reports/program.{fmt}")
    def report_file(
        request: Request,
        fmt: str,
        start: Annotated[str, Query(alias="from", max_length=7)],
        end: Annotated[str, Query(alias="to", max_length=7)],
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        from monitor.report_files import FORMATS
        from monitor.reports import parse_month, program_report

        if fmt not in FORMATS:
            raise NotFoundError("no such format")
        first, last = parse_month(start, "from"), parse_month(end, "to")
        with session_scope(engine, user.organization_id) as s:
            report = program_report(s, first, last, settings.timezone, now()).published()
        return _report_response(report, fmt, f"program-{first:%Y-%m}-{last:%Y-%m}.{fmt}")

    def _report_response(report: Any, fmt: str, name: str) -> Response:
        from monitor.report_files import MEDIA, render

        data = render(report, fmt)
        headers = {}
        if fmt == "html":  # its own inline styles; still no script, nothing from elsewhere
            headers["Content-Security-Policy"] = (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
            )
        else:
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(data, media_type=MEDIA[fmt], headers=headers)

    def _representation(s: Session, court: str, start: str, end: str) -> tuple[Any, str, str, str]:
        """The representation report (published form), and the months and court it covers:
        by default the twelve months before the release's."""
        from monitor.reports import parse_month, previous_month, year_up_to
        from monitor.representation import history_release, representation_report

        code = (court or settings.eoir_foia_alert_court).strip().upper()[:3]
        if not start or not end:
            release = history_release(s, code)
            last_month = previous_month(release.as_of)
            first_month = year_up_to(last_month)
            start = start or f"{first_month:%Y-%m}"
            end = end or f"{last_month:%Y-%m}"
        first, last = parse_month(start, "from"), parse_month(end, "to")
        report = representation_report(s, code, first, last, now()).published()
        return report, code, f"{first:%Y-%m}", f"{last:%Y-%m}"  # as parsed: safe in a filename

    @app.get("/reports/representation")
    def representation_page(
        request: Request,
        court: Annotated[str, Query(max_length=3)] = "",
        start: Annotated[str, Query(alias="from", max_length=7)] = "",
        end: Annotated[str, Query(alias="to", max_length=7)] = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        report, error = None, ""
        code = (court or settings.eoir_foia_alert_court).upper()
        try:
            with session_scope(engine, user.organization_id) as s:
                report, code, start, end = _representation(s, code, start, end)
        except ValidationError as exc:
            error = str(exc)
        query = urlencode({"court": code, "from": start, "to": end})
        return page(request, "representation.html", user, report=report, error=error,
                    court=code, start=start, end=end, query=query)  # fmt: skip

    @app.get("/reports/representation.{fmt}")
    def representation_file(
        request: Request,
        fmt: str,
        start: Annotated[str, Query(alias="from", max_length=7)],
        end: Annotated[str, Query(alias="to", max_length=7)],
        court: Annotated[str, Query(max_length=3)] = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        from monitor.report_files import FORMATS

        if fmt not in FORMATS:
            raise NotFoundError("no such format")
        with session_scope(engine, user.organization_id) as s:
            report, code, start, end = _representation(s, court, start, end)
        return _report_response(report, fmt, f"representation-{code}-{start}-{end}.{fmt}")

    @app.get("/sources")
    def sources(request: Request, user: auth.SignedIn = role(ADMIN)) -> Response:
        from monitor.views import blocked_clients, channel_lines, foia_releases, source_lines

        at = now()
        with session_scope(engine, user.organization_id) as s:
            return page(request, "sources.html", user, lines=source_lines(s, settings, at),
                        blocked=blocked_clients(s), channels=channel_lines(s),
                        releases=foia_releases(s), at=at)  # fmt: skip

    # -------------------------------------------------------------------------- staff

    @app.get("/staff")
    def staff_list(request: Request, user: auth.SignedIn = role(ADMIN)) -> Response:
        from storage.people import list_staff
        from storage.settings import mask_channel

        with session_scope(engine, user.organization_id) as s:
            rows = [
                (st, [(mask_channel(c.url), c) for c in channels]) for st, channels in list_staff(s)
            ]
            return page(request, "staff.html", user, rows=rows,
                        done=request.query_params.get("done", "")[:200])  # fmt: skip

    @app.post("/staff")
    def staff_add(
        request: Request,
        name: Annotated[str, Form(max_length=120)],
        email: Annotated[str, Form(max_length=200)],
        staff_role: Annotated[str, Form(alias="role", max_length=20)],
        language: Annotated[str, Form(max_length=2)] = "en",
        channel: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(ADMIN),
    ) -> Response:
        from storage.people import add_staff

        csrf(user, csrf_token)
        with session_scope(engine, user.organization_id) as s:
            added = add_staff(s, name=name, email=email, role=staff_role, language=language,
                              channels=[channel] if channel.strip() else [])  # fmt: skip
            auth.audit(s, now(), user.staff_id, "staff_added", detail=added.email, ip=ip(request))
            target = added.id
        return RedirectResponse(f"/staff/{target}?done=added", status_code=303)

    def staff_view(
        request: Request, user: auth.SignedIn, staff_id: int, done: str, outcomes: Any = None
    ) -> Response:
        from sqlmodel import select

        from storage.models import Staff, StaffChannel
        from storage.settings import mask_channel

        with session_scope(engine, user.organization_id) as s:
            member = s.get(Staff, staff_id)
            if member is None:
                raise NotFoundError("no such staff member")
            channels = [
                (mask_channel(c.url), c)
                for c in s.exec(select(StaffChannel).where(StaffChannel.staff_id == staff_id))
            ]
            return page(request, "staff_edit.html", user, member=member, channels=channels,
                        done=done, outcomes=outcomes)  # fmt: skip

    def staff_email(staff_id: int, org: int) -> str:
        from storage.models import Staff

        with session_scope(engine, org) as s:
            member = s.get(Staff, staff_id)
            if member is None:
                raise NotFoundError("no such staff member")
            return member.email

    @app.get("/staff/{staff_id}")
    def staff_page(request: Request, staff_id: int, user: auth.SignedIn = role(ADMIN)) -> Response:
        return staff_view(request, user, staff_id, request.query_params.get("done", "")[:40])

    @app.post("/staff/{staff_id}")
    def staff_edit(
        request: Request,
        staff_id: int,
        language: Annotated[str, Form(max_length=2)] = "en",
        quiet_hours: Annotated[str, Form(max_length=20)] = "",
        digest: Annotated[str, Form(max_length=5)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
        channel: Annotated[str, Form(max_length=1000)] = "",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(ADMIN),
    ) -> Response:
        from storage.people import update_staff

        csrf(user, csrf_token)
        email = staff_email(staff_id, user.organization_id)
        with session_scope(engine, user.organization_id) as s:
            update_staff(
                s, email, language=language, quiet_hours=quiet_hours.strip() or "off",
                digest=bool(digest), active=bool(active),
                add_channels=[channel] if channel.strip() else None,
            )  # fmt: skip
            auth.audit(s, now(), user.staff_id, "staff_changed", detail=email, ip=ip(request))
        return RedirectResponse(f"/staff/{staff_id}?done=saved", status_code=303)

    @app.post("/staff/{staff_id}/test")
    def staff_test(
        request: Request,
        staff_id: int,
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(ADMIN),
    ) -> Response:
        from monitor.alerts import send_test

        csrf(user, csrf_token)
        email = staff_email(staff_id, user.organization_id)
        with session_scope(engine, user.organization_id) as s:
            outcomes = send_test(s, email)
        return staff_view(request, user, staff_id, "", outcomes)

    # -------------------------------------------------------------------------- roster

    @app.get("/roster")
    def roster_form(request: Request, user: auth.SignedIn = role(COORDINATOR, ADMIN)) -> Response:
        return page(request, "roster.html", user, report=None, token="")

    @app.post("/roster/preview")
    async def roster_preview(
        request: Request, user: auth.SignedIn = role(COORDINATOR, ADMIN)
    ) -> Response:
        from starlette.concurrency import run_in_threadpool
        from starlette.datastructures import UploadFile

        form = await request.form(max_files=1, max_fields=5)
        csrf(user, str(form.get("csrf_token", "")))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("choose a roster file (CSV or XLSX) to upload")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in (".csv", ".xlsx", ".txt"):
            raise ValidationError(f"{upload.filename}: a roster is a .csv or .xlsx file")
        token = secrets.token_urlsafe(18)
        path = uploads.put(token, user.staff_id, suffix, await upload.read(MAX_UPLOAD + 1))
        report = await run_in_threadpool(_roster_run, path, True, user.organization_id)
        with session_scope(engine, user.organization_id) as s:
            auth.audit(s, now(), user.staff_id, "roster_preview",
                       detail=f"{report.rows} rows, {len(report.rejects)} rejected",
                       ip=ip(request))  # fmt: skip
        return page(request, "roster.html", user, report=report, token=token,
                    filename=upload.filename[:120])  # fmt: skip

    @app.post("/roster/import")
    def roster_import(
        request: Request,
        token: Annotated[str, Form(max_length=40)],
        csrf_token: Annotated[str, Form(max_length=100)] = "",
        user: auth.SignedIn = role(COORDINATOR, ADMIN),
    ) -> Response:
        csrf(user, csrf_token)
        path = uploads.get(token, user.staff_id)
        report = _roster_run(path, False, user.organization_id)
        with session_scope(engine, user.organization_id) as s:
            auth.audit(s, now(), user.staff_id, "roster_import",
                       detail=f"{report.created} created, {report.updated} updated, "
                              f"{len(report.rejects)} rejected", ip=ip(request))  # fmt: skip
        return page(request, "roster.html", user, report=report, token=token, imported=True)

    @app.get("/roster/rejects/{token}.csv")
    def roster_rejects(
        request: Request, token: str, user: auth.SignedIn = role(COORDINATOR, ADMIN)
    ) -> Response:
        path = uploads.get(token, user.staff_id)
        report = _roster_run(path, True, user.organization_id)
        with session_scope(
            engine, user.organization_id
        ) as s:  # the rows as they were: names and A-numbers
            auth.audit(s, now(), user.staff_id, "roster_rejects_download",
                       detail=f"{len(report.rejects)} rows", ip=ip(request))  # fmt: skip
        width = max([len(report.header), *(len(r.values) for r in report.rejects)], default=0)
        rows = [[r.line, r.column, r.reason, *r.values, *[""] * (width - len(r.values))]
                for r in report.rejects]  # fmt: skip
        return _csv(["line", "column", "reason", *report.header], rows, "roster.rejects.csv")

    def _roster_run(path: Path, dry_run: bool, org: int) -> Any:
        from monitor.reminders import switched_on
        from storage.roster import import_roster

        with session_scope(engine, org) as s:
            languages = frozenset(switched_on(s, settings))
        return import_roster(engine, path, dry_run=dry_run, now=now(), write_rejects=False,
                             reminder_languages=languages, organization_id=org)  # fmt: skip

    uploads = Uploads(settings.data_dir / "uploads")

    # -------------------------------------------------------------------------- links

    @app.get("/ack/{event_id}")
    def ack_page(request: Request, event_id: int, t: str = "") -> Response:
        problem = _ack_problem(event_id, t)
        if problem:
            return problem
        return page(request, "ack.html", None, event_id=event_id, token=quote(t, safe="."))

    @app.post("/ack/{event_id}")
    def ack_post(
        request: Request, event_id: int, t: Annotated[str, Form(max_length=200)] = ""
    ) -> Response:
        from monitor.dispatch import acknowledge

        problem = _ack_problem(event_id, t)
        if problem:
            return problem
        try:
            event = acknowledge(engine, event_id, "web link", now())
        except NotFoundError:
            return page(request, "error.html", None, 404, message="not_found")
        return page(request, "ack.html", None, event_id=event_id, done=event.acknowledged_at)

    def _ack_problem(event_id: int, token: str) -> Response | None:
        from monitor.messages import check_ack_token

        problem = check_ack_token(secret, event_id, token, now())
        if problem == "expired":
            return PlainTextResponse(
                f"This link to acknowledge alert #{event_id} has expired. Sign in to "
                f"docketwatch to acknowledge it, or run `docketwatch alerts ack {event_id}`.",
                status_code=410,
            )
        if problem:
            return PlainTextResponse("This acknowledgement link is not valid.", status_code=403)
        return None

    @app.get("/calendar/{name}")
    def calendar(name: str) -> Response:
        from monitor.calendar import feed_for_token

        token = name.removesuffix(".ics")
        if not name.endswith(".ics") or not 16 <= len(token) <= 100 or not token.isascii():
            raise NotFoundError("no such calendar")
        body = feed_for_token(engine, token, now())
        if body is None:
            raise NotFoundError("no such calendar")
        return Response(body, media_type="text/calendar; charset=utf-8")

    @app.exception_handler(DocketwatchError)
    async def _other(request: Request, exc: DocketwatchError) -> Response:
        return page(request, "error.html", None, 400, message="invalid", detail=str(exc))

    return app


def _alert_rows(rows: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    from monitor.events import KINDS
    from monitor.messages import initials
    from monitor.views import last_four

    out = []
    for event, client in rows:
        spec = KINDS.get(event.kind)
        out.append(
            {
                "event": event,
                "headline_en": spec.en if spec else event.kind,
                "headline_es": spec.es if spec else event.kind,
                "client": client,
                "who": f"{initials(client.name)} {last_four(client.a_number)}" if client else "",
            }
        )
    return out


def _webhook_token(settings: Settings) -> str | None:
    """The key inbound replies are signed with: the setting, else the gateway URL's token."""
    if settings.reminder_webhook_token is not None:
        return settings.reminder_webhook_token.get_secret_value()
    if settings.reminder_gateway_url is None:
        return None
    from urllib.parse import unquote, urlsplit

    url = urlsplit(settings.reminder_gateway_url.get_secret_value())
    return unquote(url.password) if url.password else None


def _initials(name: str) -> str:
    from monitor.messages import initials

    return initials(name)


def _last_four(a_number: str) -> str:
    from monitor.views import last_four

    return last_four(a_number)


def _headline(kind: str, lang: str) -> str:
    from monitor.events import KINDS

    spec = KINDS.get(kind)
    return (spec.es if lang == "es" else spec.en) if spec else kind


def _row_label(value: Any, lang: str) -> str:
    from monitor.reports import row_label

    return row_label(value, lang)


def _zone(hearing: Any) -> str:
    from monitor.messages import zone_name

    return zone_name(hearing.timezone, hearing.hearing_on.isoformat())


def _chart(table: Any) -> Any:
    from monitor.charts import trend_chart

    return trend_chart(table)


def _day_param(text: str, what: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ValidationError(f"{what}: {text[:20]!r} is not a date (YYYY-MM-DD)") from None


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float):
        return (0, value)
    text = str(value or "")
    return (0, int(text)) if text.isdigit() and len(text) < 19 else (1, text.lower())


def _xlsx(columns: list[str], rows: list[list[Any]], filename: str, title: str) -> Response:
    """An XLSX whose every text cell is a string, never a formula (openpyxl reads a text that
    starts with = as one)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("caseload")

    def cell(value: Any) -> Any:
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        return c

    sheet.append([cell(title)])
    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv(columns: list[str], rows: list[list[Any]], filename: str) -> Response:
    from storage.files import spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([spreadsheet_cell(v) for v in row] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _local(target: str) -> str:
    """Only a path on this site (an open redirect would hand a signed-in user to anyone).
    Browsers drop tabs and line breaks from an address (a slash, a tab, a slash is ``//``):
    anything but printable text is refused too."""
    if not target.startswith("/") or "\\" in target or not target.isprintable():
        return "/"
    if target.lstrip("/") != target[1:] or target.lower().startswith(("/%2f", "/%5c")):
        return "/"  # //host, or an encoded second slash
    return target


def _accept_language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return "es" if header.lower().startswith("es") else "en"
