"""Issue 29, point 4: erasing a client leaves their name and A-number nowhere in the database's
files (after its compaction), keeps the anonymous counts, and writes an audit row naming no
one; retention drops old raw answers and erases long-closed clients; export gives everything."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from monitor.reports import program_report
from sandbox.mail import SmtpSink
from storage.db import session_scope
from storage.erasure import apply_retention, compact, erase_client, placeholder
from storage.models import (
    AcisLookup,
    AuditEntry,
    Client,
    CustodyLookup,
    Event,
    Hearing,
    ReminderContact,
    Staff,
)
from storage.people import add_client
from storage.reminders import Consent, store_consent
from tests.support.alerting import START, Clock, dispatcher, emit_one, hearing_moved, make_org
from tests.support.cli import run_cli

SECRET_NAME = "ZEBULONIA"
SECRET_NUMBER = "913572468"
KEPT_NAME = "KEEPSAKE"


def _seed(engine: sa.Engine) -> tuple[int, int]:
    """A client with every kind of personal data docketwatch keeps, and one who stays."""
    with SmtpSink() as sink:
        org = make_org(engine, sink, START)
        with session_scope(engine) as s:
            gone = add_client(
                s, a_number=SECRET_NUMBER, name=f"{SECRET_NAME}, ANA", nationality="HO", now=START
            )
            kept = add_client(s, a_number="913572469", name=f"{KEPT_NAME}, LU", nationality="MX")
            s.flush()
            assert gone.id is not None and kept.id is not None
            gone.notes = f"met {SECRET_NAME} at Adelanto"
            gone.primary_attorney_id = None
            s.add(gone)
            for minutes, who in ((0, gone.id), (5, gone.id), (0, kept.id)):
                s.add(
                    AcisLookup(
                        client_id=who,
                        observed_at=START + timedelta(minutes=minutes),
                        outcome="ok",
                        raw=json.dumps({"name": f"{SECRET_NAME} ANA", "alien": SECRET_NUMBER})
                        if who == gone.id
                        else json.dumps({"name": KEPT_NAME}),
                        message=f"A-{SECRET_NUMBER} found" if who == gone.id else "",
                        status={"name": SECRET_NAME} if who == gone.id else None,
                    )
                )
            s.add(
                CustodyLookup(
                    client_id=gone.id,
                    observed_at=START,
                    outcome="found",
                    raw=f"<td>{SECRET_NAME}</td><td>{SECRET_NUMBER}</td>",
                    status_text="In ICE custody",
                )
            )
            s.add(
                Hearing(client_id=gone.id, hearing_on=START.date(), court_code="ADL", seen_at=START)
            )
            store_consent(
                s,
                gone.id,
                Consent(
                    phone="+12135550188", language="es", how="phone", by=org.attorney, at=START
                ),
                START,
            )
            s.add(
                AuditEntry(
                    at=START,
                    staff_id=None,
                    action="reveal",
                    client_id=gone.id,
                    detail=f"shown {SECRET_NAME}",
                )
            )
            ids = (gone.id, kept.id)
        event = hearing_moved(org, START, key="erase").model_copy(
            update={"client_id": ids[0], "subject_key": str(ids[0])}
        )
        emit_one(engine, event, START)
        dispatcher(engine, Clock(START)).run_once()
    return ids


def _database_bytes(engine: sa.Engine) -> bytes:
    if engine.dialect.name == "sqlite":
        db = Path(str(engine.url.database))
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        return b"".join(p.read_bytes() for p in files if p.exists())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CHECKPOINT")  # what the buffers hold, on disk
        base = Path(str(conn.exec_driver_sql("SHOW data_directory").scalar()))
        paths = conn.exec_driver_sql(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i') "
            "AND pg_relation_filepath(c.oid) IS NOT NULL"
        ).scalars()
        found = []
        for rel in paths:
            for part in sorted((base / rel).parent.glob(Path(rel).name + "*")):
                found.append(part.read_bytes())
        return b"".join(found)


def test_an_erased_client_is_nowhere_in_the_files_and_the_counts_still_add_up(
    engine: sa.Engine,
) -> None:
    gone_id, _ = _seed(engine)
    month = START.date().replace(day=1)
    zone = "America/Los_Angeles"
    with session_scope(engine) as s:
        before = [f.rows for f in program_report(s, month, month, zone, START).figures]
    assert SECRET_NAME.encode() in _database_bytes(engine)  # the grep sees it before

    with session_scope(engine) as s:
        client = s.get(Client, gone_id)
        assert client is not None
        erased = erase_client(s, client, START + timedelta(days=1))
    assert erased.lookups == 2 and erased.custody == 1 and erased.consent
    compact(engine)
    # PostgreSQL's VACUUM FULL keeps a row version another open transaction may still see
    # (other tests' databases share the server): compact again until none can.
    deadline = time.monotonic() + 60
    while SECRET_NAME.encode() in _database_bytes(engine) and time.monotonic() < deadline:
        time.sleep(0.5)
        compact(engine)

    data = _database_bytes(engine)
    assert SECRET_NAME.encode() not in data and SECRET_NUMBER.encode() not in data
    assert KEPT_NAME.encode() in data  # the other client is untouched (and the grep can see)
    with session_scope(engine) as s:
        client = s.get(Client, gone_id)
        assert client is not None and client.a_number == placeholder(gone_id)
        assert client.name == "" and client.erased_at is not None and not client.active
        assert s.get(ReminderContact, gone_id) is None
        assert len(list(s.exec(select(Hearing).where(Hearing.client_id == gone_id)))) == 1
        assert len(list(s.exec(select(Event).where(Event.client_id == gone_id)))) == 1
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "client_erased")).one()
        assert audit.client_id == gone_id and audit.detail == ""
        after = [f.rows for f in program_report(s, month, month, zone, START).figures]
    assert after == before  # the program report still adds up


def test_retention_drops_old_raw_answers_but_the_newest_and_erases_long_closed_clients(
    sqlite_engine: sa.Engine,
) -> None:
    gone_id, kept_id = _seed(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        closed = s.get(Client, kept_id)
        assert closed is not None
        closed.active = False
        closed.updated_at = START
        s.add(closed)
    later = START + timedelta(days=200)
    with session_scope(sqlite_engine) as s:
        done = apply_retention(s, later, raw_answer_days=180, closed_client_days=365)
    assert done.raw_answers == 1 and done.erased == []  # gone's older answer; the kept's newest
    with session_scope(sqlite_engine) as s:
        raws = [
            x.raw
            for x in s.exec(
                select(AcisLookup)
                .where(AcisLookup.client_id == gone_id)
                .order_by(col(AcisLookup.id))
            )
        ]
    assert raws[0] == "" and SECRET_NAME in raws[1]  # the newest is always kept
    with session_scope(sqlite_engine) as s:
        done = apply_retention(s, START + timedelta(days=400), 180, 365)
    assert done.erased == [kept_id]  # deactivated more than a year ago


def test_export_and_erase_from_the_command_line(sqlite_engine: sa.Engine, tmp_path: Path) -> None:
    _seed(sqlite_engine)
    env = {"DATABASE_URL": str(sqlite_engine.url)}
    exported = run_cli("clients", "export", SECRET_NUMBER, cwd=tmp_path, env=env)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["client"]["name"].startswith(SECRET_NAME)
    assert data["reminder_consent"]["phone"] == "+12135550188"
    assert len(data["acis_lookups"]) == 2 and len(data["alerts"]) == 1
    erased = run_cli("clients", "erase", SECRET_NUMBER, "--yes", cwd=tmp_path, env=env)
    assert erased.returncode == 0, erased.stderr
    assert SECRET_NUMBER not in erased.stdout and "erased" in erased.stdout
    again = run_cli("clients", "export", SECRET_NUMBER, cwd=tmp_path, env=env)
    assert again.returncode == 2 and "no client" in (again.stderr + again.stdout).lower()
    assert SECRET_NAME.encode() not in _database_bytes(sqlite_engine)  # compacted too


def test_an_admin_erases_from_the_clients_page_after_ticking_the_box(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from storage.settings import Settings
    from web import auth
    from web.app import create_app

    gone_id, _ = _seed(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        admin = s.exec(select(Staff).where(Staff.role == "admin")).first()
        assert admin is not None and admin.id is not None
        admin_id = admin.id
    settings = Settings(ack_secret="s", data_dir=tmp_path)
    app = create_app(sqlite_engine, settings, clock=lambda: START + timedelta(minutes=5))
    client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
    secret, csrf = auth.start_session(sqlite_engine, admin_id, START)
    client.cookies.set(auth.COOKIE, auth.sign("s", secret))
    page = client.get(f"/clients/{gone_id}")
    assert page.status_code == 200 and "Erase this client" in page.text
    unticked = client.post(f"/clients/{gone_id}/erase", data={"csrf_token": csrf})
    assert unticked.status_code == 400 and "cannot be undone" in unticked.text
    with session_scope(sqlite_engine) as s:
        still = s.get(Client, gone_id)
        assert still is not None and still.erased_at is None  # nothing happened
    done = client.post(f"/clients/{gone_id}/erase", data={"csrf_token": csrf, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/clients/{gone_id}?erased=1"
    after = client.get(f"/clients/{gone_id}")
    assert "personal data was erased" in after.text and SECRET_NAME not in after.text
    assert "Erase this client" not in after.text
    assert SECRET_NAME.encode() not in _database_bytes(sqlite_engine)  # compacted after it
