"""Routes whose authority is not a signed-in session: an alert's acknowledgement link (its
signed token), a calendar feed (its secret address), the SMS gateway's inbound replies (Twilio's
signature), CourtListener's docket alerts (the secret in their address), and ``/health``
(answered by :mod:`web.gate`, before any route).

An ack link's GET only asks to confirm (mail scanners open links); the POST acknowledges.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import BackgroundTasks, Form, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from storage.db import session_scope
from storage.errors import NotFoundError, ValidationError
from storage.settings import Settings
from web.deps import BODY_LIMIT, App, RowId, Web, page, public_router

router = public_router("links")
INBOUND_LIMIT = 65536  # a reply's form: up to 1600 characters and the gateway's fields


@router.get("/ready", response_class=PlainTextResponse)
def ready(w: App) -> Response:
    """Readiness, for a load balancer or a monitor: the app answers through its whole stack
    (routing, middleware, a thread of the pool) and reaches its database. ``/health`` only
    says the process is alive (:mod:`web.gate`)."""
    import sqlalchemy as sa

    try:
        with w.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return PlainTextResponse("the database does not answer", status_code=503)
    return PlainTextResponse("ready")


@router.get("/metrics")
def metrics(request: Request, w: App) -> Response:
    """Prometheus' scrape: with ``metrics_token`` set, ``Authorization: Bearer TOKEN``;
    without it, loopback only (behind the proxy, a remote reader's own address is seen)."""
    import hmac
    import ipaddress

    from prometheus_client import CONTENT_TYPE_LATEST

    from monitor.metrics import DatabaseCollector, exposition, queue_depth

    token = w.settings.metrics_token.get_secret_value() if w.settings.metrics_token else ""
    if token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse(
                "a bearer token is needed", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
    else:
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return PlainTextResponse(
                "metrics are read from this machine only, or set metrics_token", status_code=403
            )
    collector = DatabaseCollector(w.engine, w.settings, queue_depth=queue_depth(w.settings))
    return Response(exposition(collector), media_type=CONTENT_TYPE_LATEST)


def ack_problem(w: Web, event_id: int, token: str) -> Response | None:
    from monitor.messages import check_ack_token

    problem = check_ack_token(w.secret, event_id, token, w.now())
    if problem == "expired":
        return PlainTextResponse(
            f"This link to acknowledge alert #{event_id} has expired. Sign in to "
            f"docketwatch to acknowledge it, or run `docketwatch alerts ack {event_id}`.",
            status_code=410,
        )
    if problem:
        return PlainTextResponse("This acknowledgement link is not valid.", status_code=403)
    return None


@router.get("/ack/{event_id}")
def ack_page(request: Request, w: App, event_id: RowId, t: str = "") -> Response:
    problem = ack_problem(w, event_id, t)
    if problem:
        return problem
    return page(request, "links/ack.html", None, event_id=event_id, token=quote(t, safe="."))


@router.post("/ack/{event_id}")
def ack_post(
    request: Request, w: App, event_id: RowId, t: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    from monitor.dispatch import acknowledge

    problem = ack_problem(w, event_id, t)
    if problem:
        return problem
    try:
        event = acknowledge(w.engine, event_id, "web link", w.now())
    except NotFoundError:
        return page(request, "error.html", None, 404, message="not_found")
    return page(request, "links/ack.html", None, event_id=event_id, done=event.acknowledged_at)


@router.get("/calendar/{name}")
def calendar(w: App, name: str) -> Response:
    from monitor.calendar import feed_for_token

    token = name.removesuffix(".ics")
    if not name.endswith(".ics") or not 16 <= len(token) <= 100 or not token.isascii():
        raise NotFoundError("no such calendar")
    body = feed_for_token(w.engine, token, w.now())
    if body is None:
        raise NotFoundError("no such calendar")
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.post("/hooks/reminders/twilio", openapi_extra={BODY_LIMIT: INBOUND_LIMIT})
async def reminders_inbound(request: Request, w: App) -> Response:
    """A client's reply to a reminder, from the gateway (Twilio's signed webhook). STOP or
    ALTO withdraws consent and tells the attorney; anything else is left to the gateway's
    own inbox (nothing of it is stored)."""
    from twilio.request_validator import RequestValidator

    from monitor.reminders import is_stop, stop_reply

    token = webhook_token(w.settings)
    if token is None:
        raise HTTPException(status_code=404)
    form = await request.form()
    params = {k: str(v) for k, v in form.items()}
    url = f"{w.base_url(request)}{request.url.path}"
    if request.url.query:
        url += f"?{request.url.query}"
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token).validate(url, params, signature):
        raise HTTPException(status_code=403, detail="signature")
    sender = params.get("From", "").removeprefix("whatsapp:")
    body = params.get("Body", "")
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    if sender and is_stop(body) and sid:  # the gateway names every message; no id, no action
        word = body.strip().split()[0].upper()
        try:
            with session_scope(w.engine) as s:
                stop_reply(s, sender, word, w.now(), message_sid=sid)
        except ValidationError:  # a sender that is no phone number: no client of ours
            pass
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="application/xml"
    )


FEDERAL_LIMIT = 1_048_576  # a DOCKET_ALERT body: entries with their documents' fields


@router.post(
    "/hooks/federal_dockets/courtlistener/{secret}", openapi_extra={BODY_LIMIT: FEDERAL_LIMIT}
)
async def federal_dockets_inbound(
    request: Request, w: App, secret: str, background: BackgroundTasks
) -> Response:
    """CourtListener's DOCKET_ALERT webhook. CourtListener does not sign webhooks: the
    deployment's secret in the address is the authority (refused otherwise). The event is kept
    by its Idempotency-Key (a replay is answered and dropped) and answered at once; its entries
    are confirmed through the API before anyone is alerted, after the answer."""
    import hmac
    import json

    from checks.federal_dockets import process_webhooks
    from storage.federal_dockets import record_webhook

    expected = w.settings.federal_dockets_webhook_secret
    if expected is None or not hmac.compare_digest(
        secret.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(status_code=404)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 100:
        raise HTTPException(status_code=400, detail="an Idempotency-Key header is required")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(status_code=400, detail="the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
        raise HTTPException(status_code=400, detail="not a CourtListener webhook event")
    with session_scope(w.engine) as s:
        fresh = record_webhook(s, key, body, w.now()) is not None
    if fresh:
        background.add_task(process_webhooks, w.engine, w.settings)
    return PlainTextResponse("received" if fresh else "duplicate")


def webhook_token(settings: Settings) -> str | None:
    """The key inbound replies are signed with: the setting, else the gateway URL's token."""
    if settings.reminder_webhook_token is not None:
        return settings.reminder_webhook_token.get_secret_value()
    if settings.reminder_gateway_url is None:
        return None
    from urllib.parse import unquote, urlsplit

    url = urlsplit(settings.reminder_gateway_url.get_secret_value())
    return unquote(url.password) if url.password else None
