"""The read-only JSON API (issue 28, point 5): per-program tokens (digests, revocable, audited
when used), clients with their next hearing and custody, events since a cursor, the caseload
query, and the OpenAPI document; over real HTTP on the served web app."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import select

from monitor.events import EventInput
from monitor.route import emit
from storage.api_tokens import create_token, digest_of
from storage.db import session_scope
from storage.models import ApiToken, AuditEntry, CustodyLookup, Hearing, Organization
from storage.people import add_client, add_staff, assign
from tests.support.alerting import web_server
from tests.support.cli import run_cli
from tests.support.web import sign_in as signed_in

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)


def _two_programs(engine: sa.Engine) -> tuple[str, str, int]:
    with session_scope(engine) as s:
        first = s.exec(select(Organization)).one()
        other = Organization(slug="santa-ana", name="Santa Ana", created_at=NOW)
        s.add(other)
        s.flush()
        assert first.id is not None and other.id is not None
        add_staff(s, name="Ana", email="ana@example.org", role="attorney", organization_id=first.id)
        jane = add_client(
            s, a_number="912000001", name="DOE, JANE", nationality="MX", organization_id=first.id
        )
        add_client(
            s, a_number="912000002", name="ROE, RITA", nationality="GT", organization_id=other.id
        )
        assign(s, "912000001", "ana@example.org", "primary")
        assert jane.id is not None
        s.add(
            Hearing(
                client_id=jane.id,
                hearing_on=date(2027, 1, 5),
                hearing_time="8:30 AM",
                court_code="ADL",
                judge="SMITH, JOHN",
                medium="In person",
                seen_at=NOW,
            )
        )
        s.add(
            CustodyLookup(
                client_id=jane.id,
                observed_at=NOW,
                outcome="ok",
                detained=True,
                status_text="In ICE Custody",
                facility_name="ADELANTO ICE PROCESSING CENTER",
            )
        )
        for n in range(3):
            emit(
                s,
                EventInput(
                    kind="hearing_moved_later",
                    subject_type="client",
                    subject_key=str(jane.id),
                    client_id=jane.id,
                    dedup_key=f"api-test:{n}",
                    payload={
                        "changes": [{"field": "date", "old": "2026-12-01", "new": "2027-01-05"}]
                    },
                    occurred_at=NOW,
                ),
                NOW,
            )
        mine = create_token(s, first.id, "dashboard", NOW)
        theirs = create_token(s, other.id, "spreadsheet", NOW)
        return mine, theirs, jane.id


def test_the_api_serves_each_program_its_own(sqlite_engine: sa.Engine) -> None:
    mine, theirs, jane = _two_programs(sqlite_engine)
    server = web_server(sqlite_engine, "s3cret", 0)
    try:
        base = f"http://127.0.0.1:{server.port}"
        auth = {"Authorization": f"Bearer {mine}"}
        with httpx.Client(base_url=base, timeout=30) as web:
            refused = web.get("/api/v1/clients")
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
            assert "token" in refused.json()["detail"]
            assert (
                web.get("/api/v1/clients", headers={"Authorization": "Bearer dwapi_x"}).status_code
                == 401
            )

            clients = web.get("/api/v1/clients", headers=auth).json()
            (one,) = clients["clients"]
            assert one["id"] == jane and one["a_number"] == "A-912-000-001"
            assert one["attorney"] == "ana@example.org"
            assert one["next_hearing"] == {
                "date": "2027-01-05",
                "time": "8:30 AM",
                "court": "ADL",
                "judge": "SMITH, JOHN",
                "medium": "In person",
            }
            assert one["custody"]["facility"] == "ADELANTO ICE PROCESSING CENTER"
            other = web.get("/api/v1/clients", headers={"Authorization": f"Bearer {theirs}"})
            assert [c["a_number"] for c in other.json()["clients"]] == ["A-912-000-002"]

            first = web.get("/api/v1/events", params={"limit": 2}, headers=auth).json()
            assert [e["kind"] for e in first["events"]] == ["hearing_moved_later"] * 2
            rest = web.get("/api/v1/events", params={"since": first["cursor"]}, headers=auth)
            assert len(rest.json()["events"]) == 1
            later = web.get("/api/v1/events", params={"since": rest.json()["cursor"]}, headers=auth)
            assert later.json() == {"events": [], "cursor": rest.json()["cursor"]}
            assert (
                web.get("/api/v1/events", headers={"Authorization": f"Bearer {theirs}"}).json()[
                    "events"
                ]
                == []
            )
            bad = web.get("/api/v1/events", params={"since": "x"}, headers=auth)
            assert bad.status_code == 400 and bad.json()["detail"].startswith("not valid")
            # no FOIA release yet: said plainly, as JSON
            caseload = web.get("/api/v1/caseload/unrepresented", headers=auth)
            assert caseload.status_code in (400, 404) and "detail" in caseload.json()

            document = web.get("/api/openapi.json").json()
            assert set(document["paths"]) == {
                "/api/v1/clients",
                "/api/v1/events",
                "/api/v1/caseload/unrepresented",
            }
            assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    finally:
        server.stop()
    with session_scope(sqlite_engine) as s:
        used = s.exec(select(AuditEntry).where(AuditEntry.action == "api_used")).all()
        assert len(used) >= 8 and all("dwapi_" not in u.detail for u in used)
        stored = s.exec(select(ApiToken)).all()
        assert {t.digest for t in stored} == {digest_of(mine), digest_of(theirs)}
        assert all(t.last_used_at is not None for t in stored)


def test_tokens_from_the_command_line(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).returncode == 0
    made = run_cli("api", "create", "intake dashboard", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = re.search(r"(dwapi_\S+)", made.stdout)
    assert token
    listed = run_cli("api", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and token.group(1) not in listed.stdout
    assert '"name": "intake dashboard"' in listed.stdout
    revoked = run_cli("api", "revoke", "1", cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert run_cli("api", "revoke", "7", cwd=tmp_path).returncode != 0
    assert not [
        p for p in tmp_path.rglob("*") if p.is_file() and token.group(1).encode() in p.read_bytes()
    ]


def test_an_admin_makes_and_revokes_a_token_on_the_web(sqlite_engine: sa.Engine) -> None:
    from fastapi.testclient import TestClient

    from storage.settings import Settings
    from web.app import create_app

    with session_scope(sqlite_engine) as s:
        ids = {
            role: add_staff(s, name=role, email=f"{role}@example.org", role=role).id
            for role in ("admin", "coordinator")
        }
    app = create_app(sqlite_engine, Settings(ack_secret="s3cret"), clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as web:

        def sign_in(role: str) -> str:
            return signed_in(web, sqlite_engine, ids[role], "s3cret", NOW)

        csrf = sign_in("coordinator")
        assert web.get("/api-tokens").status_code == 403
        assert web.post("/api-tokens", data={"name": "x", "csrf_token": csrf}).status_code == 403
        csrf = sign_in("admin")
        made = web.post("/api-tokens", data={"name": "intake dashboard", "csrf_token": csrf})
        assert made.status_code == 200
        (token,) = re.findall(r"<code>(dwapi_[^<]+)</code>", made.text)
        assert (
            web.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
        listed = web.get("/api-tokens").text
        assert token not in listed and "intake dashboard" in listed
        with session_scope(sqlite_engine) as s:
            (row,) = s.exec(select(ApiToken)).all()
        gone = web.post(f"/api-tokens/{row.id}/revoke", data={"csrf_token": csrf})
        assert gone.status_code == 303
        assert (
            web.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
        with session_scope(sqlite_engine) as s:
            actions = [a.action for a in s.exec(select(AuditEntry))]
        assert "api_token_made" in actions and "api_token_revoked" in actions
