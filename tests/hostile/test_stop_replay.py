"""A captured, correctly signed STOP sent again after the attorney recorded a new consent does
not withdraw it: Twilio's signature carries no time, so docketwatch remembers the message ids
of the replies it acted on (issue 27, point 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select
from twilio.request_validator import RequestValidator

from storage.db import session_scope
from storage.models import InboundReply, ReminderContact
from storage.people import add_client
from storage.reminders import Consent, store_consent
from storage.settings import Settings

TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed"
PHONE = "+12135550123"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
URL = "http://127.0.0.1/hooks/reminders/twilio"


def _consent(engine: sa.Engine, client_id: int, at: datetime) -> None:
    with session_scope(engine) as s:
        store_consent(
            s,
            client_id,
            Consent(phone=PHONE, language="es", how="phone", by="ana@example.org", at=at),
            at,
        )


def _consents(engine: sa.Engine, client_id: int) -> bool:
    with session_scope(engine) as s:
        contact = s.get(ReminderContact, client_id)
        return bool(contact and contact.consent)


def test_a_replayed_stop_does_not_withdraw_a_newer_consent(sqlite_engine: sa.Engine) -> None:
    from web.app import create_app

    engine = sqlite_engine
    with session_scope(engine) as s:
        client = add_client(s, a_number="912000077", name="DOE, JANE", nationality="MX")
        s.flush()
        assert client.id is not None
        client_id = client.id
    _consent(engine, client_id, NOW - timedelta(days=2))
    clock = {"now": NOW}
    settings = Settings(ack_secret="s3cret", reminder_webhook_token=TOKEN)
    app = create_app(engine, settings, clock=lambda: clock["now"])
    stop = {"From": PHONE, "To": "+12135550100", "Body": "STOP", "MessageSid": "SM0001"}
    signed = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, stop)}
    with TestClient(app, base_url="http://127.0.0.1") as gateway:
        assert gateway.post("/hooks/reminders/twilio", data=stop, headers=signed).status_code == 200
        assert not _consents(engine, client_id)
        clock["now"] = NOW + timedelta(hours=2)
        _consent(engine, client_id, clock["now"])  # the attorney asked the client again
        replay = gateway.post("/hooks/reminders/twilio", data=stop, headers=signed)
        assert replay.status_code == 200  # the gateway is told nothing more
        assert _consents(engine, client_id)  # the new consent stands
        unnamed = {k: v for k, v in stop.items() if k != "MessageSid"}
        bare = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(URL, unnamed)}
        assert (
            gateway.post("/hooks/reminders/twilio", data=unnamed, headers=bare).status_code == 200
        )
        assert _consents(engine, client_id)  # a reply with no message id is not acted on
        fresh = {**stop, "MessageSid": "SM0002"}  # a new STOP from the client still works
        signature = RequestValidator(TOKEN).compute_signature(URL, fresh)
        headers = {"X-Twilio-Signature": signature}
        assert (
            gateway.post("/hooks/reminders/twilio", data=fresh, headers=headers).status_code == 200
        )
        assert not _consents(engine, client_id)
    with session_scope(engine) as s:
        assert sorted(r.message_sid for r in s.exec(select(InboundReply))) == [
            "SM0001",
            "SM0002",
        ]
