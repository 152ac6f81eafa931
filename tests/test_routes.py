"""The web app's contract, derived from ``app.routes`` (no hand-kept list of pages):

- every route belongs to an area: a signed-in router, whose roles come from the one table
  :data:`web.deps.ROLES`, or a public one (sign-in, links, webhooks, health);
- every state-changing route of a signed-in router depends on the CSRF guard;
- called as every role, as another attorney of the program and as the other program's users,
  every signed-in route answers as documented: 403 for a role the table leaves out, 403 for a
  change without the CSRF token, 404 for another program's or another attorney's row, and for
  everyone allowed an answer of the route's own (never 403, 404 or 5xx).

In-process over the ASGI interface (Starlette's test client), on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.support.routes import app_routes, guard, is_public
from tests.support.two_programs import Rows, Who, two_programs
from web.deps import PUBLIC_AREAS, ROLES, csrf_guard

ROW_PARAMS = ("client_id", "event_id", "staff_id")  # path parameters naming a program's row
ATTORNEY_ROWS = ("client_id", "event_id")  # ... and those an attorney sees only for their own
# Sample values of form fields, by name (a route reads its fields; these make a valid form).
FORM = {
    "phone": "(213) 555-0123",
    "language": "es",
    "how": "phone",
    "via": "sms",
    "name": "Zed Doe",
    "email": "zed@example.org",
    "role": "attorney",
    "action": "new",
    "back": "/alerts",
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Any]:
    yield from two_programs(tmp_path_factory.mktemp("routes"), sqlite_template)


def _calls(route: APIRoute) -> set[Any]:
    """Every dependency the route runs, its routers' included."""
    seen: set[Any] = set()

    def walk(dependant: Any) -> None:
        for dep in dependant.dependencies:
            seen.add(dep.call)
            walk(dep)

    walk(route.dependant)
    return seen


def test_every_route_has_an_area_and_its_guards(setup: Any) -> None:
    app, _, _ = setup
    for route in app_routes(app):
        found = guard(route)
        if is_public(route):
            assert found is None and str(route.tags[0]).removeprefix("public:") in PUBLIC_AREAS
            continue
        assert found is not None, f"{route.path}: neither public nor signed-in with a role"
        assert found.roles == ROLES[found.area], route.path
        for method in (route.methods or set()) - {"GET", "HEAD"}:
            assert csrf_guard in _calls(route), f"{method} {route.path}: no CSRF guard"


def _path(route: APIRoute, rows: Rows) -> str:
    values = {
        "client_id": rows.client_id,
        "event_id": rows.event_id,
        "staff_id": rows.staff_id,
        "fmt": "csv",
        "action": "pause",
        "token": "no-such-upload",
        # a token no program has (the walk's own POST /api-tokens makes tokens, in whatever
        # order the programs' walks run): the route's own 404, for every program
        "token_id": 999_999,
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), route.path)


def _expected(route: APIRoute, who: Who, rows_param: set[str]) -> int | None:
    """The documented refusal for ``who`` on ``route`` (None: an answer of the route's own)."""
    found = guard(route)
    assert found is not None
    if who.role not in found.roles:
        return 403
    if "token_id" in rows_param:
        return 404  # no such token (see _path)
    if who.program == "b" and rows_param & set(ROW_PARAMS):
        return 404
    if who.role == "attorney" and who.email.startswith("dan") and rows_param & set(ATTORNEY_ROWS):
        return 404
    return None


def _upload(person: Who) -> str:
    """A roster file previewed by ``person``: the token of their upload."""
    assert person.client is not None
    roster = f"A-Number,Name,Nationality\n9{abs(hash(person.email)) % 10**8:08d},DOE, JO,MX\n"
    answer = person.client.post(
        "/roster/preview",
        data={"csrf_token": person.csrf},
        files={"file": ("roster.csv", roster.encode())},
    )
    assert answer.status_code == 200, answer.text[:300]
    found = re.search(r'name="token" value="([^"]+)"', answer.text)
    assert found is not None
    return found.group(1)


def _signed_in_routes(app: FastAPI) -> list[tuple[APIRoute, str]]:
    """Every signed-in route and method; signing out last (it ends the session)."""
    found = [
        (route, method)
        for route in app_routes(app)
        if not is_public(route)
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    return sorted(found, key=lambda pair: pair[0].path == "/logout")


@pytest.mark.parametrize("who", ["ana", "dan", "cora", "adam", "bea", "bob", "bill"])
def test_every_route_as_every_role_and_program(setup: Any, who: str) -> None:
    app, people, rows = setup
    person = people[who]
    client = person.client
    token = _upload(person) if person.role in ROLES["roster"] else "no-such-upload"
    form = {**FORM, "token": token}
    called = 0
    for route, method in _signed_in_routes(app):
        params = set(re.findall(r"\{(\w+)\}", route.path))
        path = _path(route, rows).replace("no-such-upload", token)
        expected = _expected(route, person, params)
        if method == "GET":
            answer = client.get(path)
        else:
            refused = client.post(path, data=form)  # no CSRF token
            assert refused.status_code == 403, (who, method, path, refused.status_code)
            answer = client.post(path, data={**form, "csrf_token": person.csrf})
        called += 1
        if expected is None:
            assert answer.status_code < 500 and answer.status_code not in (403, 404), (
                who,
                method,
                path,
                answer.status_code,
                answer.text[:300],
            )
        else:
            assert answer.status_code == expected, (who, method, path, answer.status_code)
    assert called >= 25
    person.sign_in(app.state.web.engine)


def test_signed_out_every_signed_in_route_goes_to_sign_in(setup: Any) -> None:
    app, _, rows = setup
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as anonymous:
        for route, method in _signed_in_routes(app):
            answer = anonymous.request(method, _path(route, rows), data=FORM)
            assert answer.status_code == 303, (method, route.path)
            assert answer.headers["location"].startswith("/login?next=")


def test_a_post_body_over_the_routes_limit_is_refused_before_it_is_read(setup: Any) -> None:
    _, people, rows = setup
    client = people["adam"].client
    big = {"csrf_token": people["adam"].csrf, "back": "/" + "x" * 5000}
    refused = client.post(f"/alerts/{rows.event_id}/ack", data=big)
    assert refused.status_code == 413
    # the early refusals carry the security headers every answer has (issue 27, point 7)
    unmeasured = client.post(f"/alerts/{rows.event_id}/ack", content=iter([b"back=/"]))
    assert unmeasured.status_code == 411
    for answer in (refused, unmeasured):
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
    # the roster upload declares a larger limit: the same body is read there
    answer = client.post("/roster/preview", data=big)
    assert answer.status_code == 400 and "choose a roster file" in answer.text


HUGE = str(2**63)  # one past the largest id a database stores
FAR_DAYS = {"from": "9999-12-31", "to": "9999-12-31", "hearing_from": "9999-12-31"}
FAR_MONTHS = {"from": "9999-12", "to": "9999-12"}


@pytest.mark.parametrize("who", ["dan", "adam"])
def test_numbers_and_dates_out_of_range_are_404_and_400(setup: Any, who: str) -> None:
    """Every route read with an id past 2^63 - 1 answers 404 (no such row), and with a date or
    month past 9999 400 with the page's own message: never 500."""
    app, people, _ = setup
    person = people[who]
    client = person.client
    assert client is not None
    for route, method in _signed_in_routes(app):
        if route.path == "/logout" or (who not in ("adam",) and _guard_refuses(route, person)):
            continue
        ids = re.findall(r"\{(\w+)\}", route.path)
        if any(name.endswith("_id") for name in ids):
            path = re.sub(r"\{\w+_id\}", HUGE, route.path)
            path = re.sub(
                r"\{(\w+)\}", lambda m: {"fmt": "csv", "action": "pause"}.get(m.group(1), "x"), path
            )
            form = {**FORM, "csrf_token": person.csrf}
            answer = client.get(path) if method == "GET" else client.post(path, data=form)
            assert answer.status_code == 404, (method, path, answer.status_code)
    for path, query in (
        ("/alerts", {"client": HUGE}),
        ("/caseload/hearings", FAR_DAYS),
        ("/caseload", FAR_DAYS),
        ("/reports", FAR_MONTHS),
        ("/reports/representation", FAR_MONTHS),
        ("/reports/program.csv", FAR_MONTHS),
    ):
        answer = client.get(path, params=query)
        if _guard_refuses_path(app, path, person):
            assert answer.status_code == 403
            continue
        expected = 404 if "client" in query else 400
        assert answer.status_code == expected, (path, query, answer.status_code)
        if expected == 400:
            assert "out of range" in answer.text, path
    public = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    assert public.get(f"/ack/{HUGE}", params={"t": "x"}).status_code == 404


def _guard_refuses(route: APIRoute, person: Who) -> bool:
    found = guard(route)
    return found is not None and person.role not in found.roles


def _guard_refuses_path(app: FastAPI, path: str, person: Who) -> bool:
    route = next(r for r in app_routes(app) if r.path_regex.match(path))
    return _guard_refuses(route, person)
