"""A program's admin cannot make the server call internal addresses through an alert channel
(issue 27, point 6): on the web, only the usual kinds of channel, to public addresses, and a
test message says only "sent" or "failed"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from storage.channel_targets import check_web_channel
from storage.db import session_scope
from storage.errors import ChannelError
from storage.models import Staff, StaffChannel
from storage.people import add_staff
from storage.settings import Settings

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:6379/x",
        "jsons://localhost/x",
        "mailto://127.0.0.1:25?from=a@example.org&to=b@example.org&mode=insecure",
        "json://10.1.2.3/hook",
        "form://192.168.1.10/hook",
        "json://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "json://[::1]:8080/x",
        "json://[::ffff:127.0.0.1]/x",
        "json://0.0.0.0/x",
        "json://no-such-host.invalid/x",  # a name that does not resolve
        "windows://",  # not a kind a program adds
        "syslog://127.0.0.1",
    ],
)
def test_a_channel_to_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(ChannelError):
        check_web_channel(url)


def test_what_a_program_may_add() -> None:
    check_web_channel("json://93.184.216.34/hook")  # a public address
    check_web_channel("slack://TokenA/TokenB/TokenC/#alerts")  # Slack's own host
    check_web_channel("json://127.0.0.1:9/x", allow_private=True)  # the host allowed it


def test_the_web_refuses_it_and_a_test_message_says_only_failed(sqlite_engine: sa.Engine) -> None:
    from web import auth
    from web.app import create_app

    with session_scope(sqlite_engine) as s:
        admin = add_staff(s, name="Adam", email="adam@example.org", role="admin")
        # added by the host's admin (the CLI may): a closed port on loopback
        add_staff(
            s,
            name="Fay",
            email="fay@example.org",
            role="attorney",
            channels=["json://127.0.0.1:9/nothing-listens"],
        )
        s.flush()
        assert admin.id is not None
        admin_id = admin.id
    app = create_app(sqlite_engine, Settings(ack_secret="s3cret"), clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as web:
        secret, csrf = auth.start_session(sqlite_engine, admin_id, NOW)
        web.cookies.set(auth.COOKIE, auth.sign("s3cret", secret))
        form = {
            "name": "Gil",
            "email": "gil@example.org",
            "role": "attorney",
            "channel": "json://127.0.0.1:6379/x",
            "csrf_token": csrf,
        }
        refused = web.post("/staff", data=form)
        assert refused.status_code == 400 and "loopback, private" in refused.text
        with session_scope(sqlite_engine) as s:
            assert s.exec(select(Staff).where(Staff.email == "gil@example.org")).first() is None
            fay = s.exec(select(Staff).where(Staff.email == "fay@example.org")).one()
            fay_id = fay.id
            assert len(list(s.exec(select(StaffChannel)))) == 1
        tried = web.post(f"/staff/{fay_id}/test", data={"csrf_token": csrf})
        assert tried.status_code == 200 and ": failed" in tried.text
        assert "refused" not in tried.text.lower() and "errno" not in tried.text.lower()
