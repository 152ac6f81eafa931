"""Signed webhook channels (Standard Webhooks): each alert POSTed as JSON to a program's system,
signed with a per-channel secret shown once, retried by the outbox with the same id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.messages import Message
from monitor.webhooks import signed_request
from sandbox.mail import SmtpSink
from sandbox.webhook import WebhookSink
from storage.channel_targets import check_web_channel
from storage.db import session_scope
from storage.errors import ChannelError
from storage.models import Delivery, StaffChannel
from storage.people import check_channel, update_staff
from storage.settings import mask_channel
from storage.webhook_channels import parse, with_secret
from tests.support.alerting import START, Clock, dispatcher, emit_one, hearing_moved, make_org
from tests.support.cli import run_cli
from tests.support.web import sign_in


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


def _spec_signature(secret: str, msg_id: str, stamp: str, body: bytes) -> str:
    """The signature as the specification defines it, computed without the library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_the_signature_is_the_specifications() -> None:
    # The specification's own example (secret, id, timestamp, body and signature).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    body = b'{"test": 2432232314}'
    assert _spec_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body) == expected
    # docketwatch's request, signed by the library, is the same computation.
    url = f"webhooks://receiver.example.org/in?secret={secret}"
    message = Message(title="t", text="x", html="x", markdown="x", key="dw_7")
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    endpoint, headers, text = signed_request(url, message, now)
    assert endpoint == "https://receiver.example.org/in"  # the secret is never sent
    assert headers["webhook-id"] == "dw_7"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"] == _spec_signature(
        secret, "dw_7", headers["webhook-timestamp"], text.encode()
    )


def test_channel_addresses_are_checked_and_masked() -> None:
    url, secret = with_secret("webhooks://receiver.example.org/hooks/docketwatch")
    assert secret is not None and secret.startswith("whsec_")
    assert parse(url).secret == secret  # carried in the address's query, URL-encoded
    assert mask_channel(url) == "webhooks://receiver.example.org/hooks/dock***?secret=***"
    assert check_channel(url) == url
    assert with_secret(url) == (url, None)  # a secret given is kept, never replaced
    for bad, why in [
        ("webhook://receiver.example.org/in?secret=" + secret, "only reach this machine"),
        ("webhooks://receiver.example.org/in?secret=whsec_c2hvcnQ=", "at least 24 bytes"),
        ("webhooks://receiver.example.org/in?secret=abc", "whsec_"),
        ("webhooks://receiver.example.org/in", "exactly one secret"),
        ("webhooks:///in?secret=" + secret, "names no host"),
    ]:
        with pytest.raises(ChannelError, match=why):
            check_channel(bad)
    # A program's admin on the web: HTTPS to a public host only.
    with pytest.raises(ChannelError, match="cannot be added here"):
        check_web_channel("webhook://127.0.0.1:9/in?secret=" + secret)
    with pytest.raises(ChannelError, match="loopback, private"):
        check_web_channel("webhooks://127.0.0.1:9/in?secret=" + secret)


def test_an_alert_reaches_the_receiver_signed_and_a_retry_keeps_its_id(
    sqlite_engine: sa.Engine, sink: SmtpSink
) -> None:
    engine = sqlite_engine
    org = make_org(engine, sink, START)
    clock = Clock(START)
    with WebhookSink() as hook:
        url, secret = with_secret(hook.signed_url("/in/docketwatch"))
        assert secret is not None
        with session_scope(engine) as s:
            update_staff(s, org.attorney, add_channels=[url])
        hook.statuses = [503]  # the receiver is down for the first attempt
        emit_one(engine, hearing_moved(org, START), START)
        d = dispatcher(engine, clock)
        d.run_once()
        assert len(hook.posts) == 1
        with session_scope(engine) as s:
            (channel,) = [c for c in s.exec(select(StaffChannel)) if c.url == url]
            webhook_delivery = s.exec(
                select(Delivery).where(Delivery.channel_id == channel.id)
            ).one()
            assert webhook_delivery.status == "pending"
            assert "HTTP 503" in webhook_delivery.last_error
            assert secret not in webhook_delivery.last_error
        clock.advance(seconds=61)
        d.run_once()
        assert len(hook.posts) == 2
        with session_scope(engine) as s:
            assert s.get(Delivery, webhook_delivery.id).status == "sent"  # type: ignore[union-attr]
    (first_path, first, _), (path, headers, body) = hook.posts
    assert path == first_path == "/in/docketwatch"
    assert headers["webhook-id"] == first["webhook-id"]  # the receiver can drop a repeat
    raw = hook.raw[1]
    # Verified as a receiver would, with the library and with the specification's formula.
    assert Webhook(secret).verify(raw, headers) == body
    assert headers["webhook-signature"] == _spec_signature(
        secret, headers["webhook-id"], headers["webhook-timestamp"], raw
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(raw.replace(b"2026-12-01", b"2026-12-02"), headers)
    other, _ = with_secret("webhooks://x.example.org/")
    with pytest.raises(WebhookVerificationError):
        Webhook(parse(other).secret).verify(raw, headers)
    # What it says: the event, its change and hearing; the client as other alerts name them.
    assert body["type"] == "docketwatch.alert"
    (event,) = body["data"]["events"]
    assert event["kind"] == "hearing_moved_earlier" and event["severity"] == "urgent"
    assert event["changes"] == [{"field": "date", "old": "2027-01-05", "new": "2026-12-01"}]
    assert event["hearing"]["court"] == "ADL"
    assert event["client"] == "J.D. ***5678"
    assert org.a_number not in raw.decode() and "DOE" not in raw.decode()


def test_staff_add_shows_the_secret_once_and_lists_it_masked(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    with WebhookSink() as hook:
        added = run_cli(
            "staff",
            "add",
            "--name",
            "Case System",
            "--email",
            "cms@example.org",
            "--role",
            "coordinator",
            "--channel",
            hook.signed_url(),
            cwd=tmp_path,
        )
        assert added.returncode == 0, added.stderr
        found = re.search(r"signing secret is (whsec_\S+)", added.stdout)
        assert found, added.stdout
        secret = found.group(1)
        listed = run_cli("staff", "list", "--json", cwd=tmp_path)
        assert listed.returncode == 0 and secret not in listed.stdout
        (member,) = json.loads(listed.stdout)
        assert member["channels"][0].startswith(f"webhook://127.0.0.1:{hook.port}/hook?secret=")
        tested = run_cli("alerts", "test", "cms@example.org", cwd=tmp_path)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert len(hook.posts) == 1
    _, headers, body = hook.posts[0]
    assert Webhook(secret).verify(hook.raw[0], headers) == body
    assert body["type"] == "docketwatch.test"
    # Sealed at rest with the channel's address: no file the deployment wrote holds it.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written)
    forms = (secret.encode(), quote(secret, safe="").encode())
    assert not [p for p in written if any(f in p.read_bytes() for f in forms)]


def test_an_admin_adds_one_on_the_web_and_sees_its_secret_once(sqlite_engine: sa.Engine) -> None:
    from fastapi.testclient import TestClient

    from storage.people import add_staff
    from storage.settings import Settings
    from web.app import create_app

    now = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    with session_scope(sqlite_engine) as s:
        admin = add_staff(s, name="Adam", email="adam@example.org", role="admin")
        s.flush()
        assert admin.id is not None
        admin_id = admin.id
    app = create_app(sqlite_engine, Settings(ack_secret="s3cret"), clock=lambda: now)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as web:
        csrf = sign_in(web, sqlite_engine, admin_id, "s3cret", now)
        form = {
            "name": "Case System",
            "email": "cms@example.org",
            "role": "coordinator",
            "channel": "webhooks://93.184.216.34/docketwatch",  # a public address
            "csrf_token": csrf,
        }
        added = web.post("/staff", data=form)
        assert added.status_code == 200, added.text
        (secret,) = re.findall(r"<code>(whsec_[^<]+)</code>", added.text)
        with session_scope(sqlite_engine) as s:
            (channel,) = s.exec(select(StaffChannel)).all()
            assert parse(channel.url).secret == secret
            staff_id = channel.staff_id
        again = web.get(f"/staff/{staff_id}")
        assert again.status_code == 200 and secret not in again.text
        assert "secret=***" in again.text
        form["email"] = "other@example.org"
        form["channel"] = "webhook://93.184.216.34/docketwatch"  # plain HTTP: not on the web
        assert web.post("/staff", data=form).status_code == 400
