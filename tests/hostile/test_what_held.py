"""Issue 27: a representative sample of the attacks that held, kept as tests so that the next
change to a route cannot quietly reopen one. Two programs, every role (the route contract,
``tests/test_routes.py``, calls every route as each of them; these are the attacks around it):
forged and borrowed sessions, another session's CSRF token, the other program's rows, forged
acknowledgement tokens, guessed calendar addresses, a spoofed client address against the
sign-in throttle, redirects off the site and paths out of the static folder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.messages import ack_link, ack_token
from storage.passwords import hash_password
from tests.support.two_programs import NOW, SECRET, two_programs
from web import auth

PEOPLE = ("ana", "dan", "cora", "adam", "bea", "bob", "bill")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Any]:
    yield from two_programs(tmp_path_factory.mktemp("held"), sqlite_template)


def _fresh(app: Any) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


@pytest.mark.parametrize("who", PEOPLE)
def test_a_forged_or_altered_session_cookie_is_no_session(setup: Any, who: str) -> None:
    app, people, _ = setup
    real = people[who].client.cookies.get(auth.COOKIE)
    assert people[who].client.get("/alerts").status_code == 200  # the real one works
    secret_part = real.rsplit(".", 1)[0]
    forgeries = [
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),  # the signature altered
        auth.sign("a-guessed-secret", secret_part),  # signed with another key
        auth.sign(SECRET, "x" * len(secret_part)),  # signed right, names no session
    ]
    for forged in forgeries:
        client = _fresh(app)
        client.cookies.set(auth.COOKIE, forged)
        answer = client.get("/alerts")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("who", PEOPLE)
def test_another_sessions_csrf_token_is_refused(setup: Any, who: str) -> None:
    """Each person's change carrying someone else's valid token (one stolen from a page of
    theirs) is refused, whoever that is."""
    _, people, rows = setup
    me = people[who]
    other = people["bea" if who != "bea" else "ana"]
    for path in ("/calendar", "/logout"):
        assert me.client.post(path, data={"csrf_token": other.csrf}).status_code == 403
    assert me.client.get("/alerts").status_code == 200  # still signed in: nothing happened
    answer = me.client.post(f"/alerts/{rows.event_id}/ack", data={"csrf_token": other.csrf})
    assert answer.status_code in (403, 404)  # refused by the token, or not theirs to see


@pytest.mark.parametrize("who", ("bea", "bob", "bill"))
def test_the_other_programs_rows_do_not_exist_for_it(setup: Any, who: str) -> None:
    _, people, rows = setup
    me = people[who]
    assert me.client.get(f"/clients/{rows.client_id}").status_code == 404
    assert me.client.get(f"/alerts?client={rows.client_id}").status_code in (200, 404)
    assert "DOE" not in me.client.get(f"/alerts?client={rows.client_id}").text
    posted = me.client.post(f"/clients/{rows.client_id}/check", data={"csrf_token": me.csrf})
    assert posted.status_code in (403, 404)
    if people[who].role == "admin":
        edit = me.client.post(
            f"/staff/{rows.staff_id}", data={"csrf_token": me.csrf, "action": "deactivate"}
        )
        assert edit.status_code == 404


def test_acknowledgement_tokens_cannot_be_moved_or_forged(setup: Any) -> None:
    app, _, rows = setup
    client = _fresh(app)
    link = ack_link("http://127.0.0.1", SECRET, rows.event_id, NOW)
    assert link is not None
    good = link.split("?t=", 1)[1]
    expires = int((NOW + timedelta(days=30)).timestamp())
    forged = [
        ack_token(SECRET, rows.event_id + 1, expires),  # another alert's token
        ack_token("a-guessed-secret", rows.event_id, expires),  # another key
        good.split(".")[0] + "." + "A" * len(good.split(".")[1]),  # the signature replaced
    ]
    for token in forged:
        assert client.get(f"/ack/{rows.event_id}?t={token}").status_code == 403
        assert client.post(f"/ack/{rows.event_id}", data={"t": token}).status_code == 403
    assert client.get(f"/ack/{rows.event_id}?t={good}").status_code == 200  # asks to confirm


def test_guessed_calendar_addresses_are_not_found(setup: Any) -> None:
    app, _, _ = setup
    client = _fresh(app)
    for name in ("1.ics", "0" * 43 + ".ics", "../../etc/passwd", "%2e%2e%2fdw.db", "x" * 400):
        assert client.get(f"/calendar/{name}").status_code == 404


def test_a_spoofed_forwarded_address_does_not_escape_the_throttle(setup: Any) -> None:
    """From an address that is not the proxy, X-Forwarded-For is not believed: five wrong
    passwords under five made-up addresses lock the real one, right password included."""
    app, people, _ = setup
    from storage.db import session_scope
    from storage.models import Staff

    engine = app.state.web.engine
    with session_scope(engine) as s:
        dan = s.get(Staff, people["dan"].staff_id)
        assert dan is not None
        dan.password_hash = hash_password("dan's real password")
        s.add(dan)
    client = TestClient(app, base_url="http://127.0.0.1", client=("198.51.100.23", 40000))

    def sign_in(password: str, spoofed: str) -> int:
        form = client.get("/login")
        token = form.cookies.get("dw_login") or client.cookies.get("dw_login", "")
        answer = client.post(
            "/login",
            data={"email": people["dan"].email, "password": password, "login_token": token},
            headers={"X-Forwarded-For": spoofed},
            follow_redirects=False,
        )
        return answer.status_code

    for i in range(5):
        assert sign_in("guess", f"203.0.113.{i}") == 401
    assert sign_in("dan's real password", "203.0.113.99") == 429
    other_desk = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.7", 40000))
    form = other_desk.get("/login")
    answer = other_desk.post(
        "/login",
        data={
            "email": people["dan"].email,
            "password": "dan's real password",
            "login_token": form.cookies.get("dw_login") or other_desk.cookies.get("dw_login", ""),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303  # Dan at his own desk is not locked out


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_signing_in_never_leaves_the_site(setup: Any, target: str) -> None:
    app, people, _ = setup
    client = _fresh(app)
    answer = client.get("/login", params={"next": target})
    assert answer.status_code == 200 and "evil.example" not in answer.text.split("<main", 1)[-1]
    # Acknowledging with a crafted "back" address returns to a page of the site.
    _, _, rows = setup
    answer = people["adam"].client.post(
        f"/alerts/{rows.event_id}/ack", data={"csrf_token": people["adam"].csrf, "back": target}
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/") and "evil" not in answer.headers["location"]


@pytest.mark.parametrize(
    "path", ["/static/../storage/db.py", "/static/%2e%2e/app.py", "/static/..%2fdeps.py"]
)
def test_nothing_outside_the_static_folder_is_served(setup: Any, path: str) -> None:
    app, _, _ = setup
    answer = _fresh(app).get(path)
    assert answer.status_code == 404 and "import" not in answer.text
