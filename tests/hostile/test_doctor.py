"""``docketwatch doctor``: what an admin runs when something is off."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from monitor.dispatch import Dispatcher
from monitor.events import EventInput
from monitor.route import emit
from sandbox.mail import SmtpSink
from scheduler import heartbeat
from storage.db import make_engine, session_scope
from storage.settings import Settings
from tests.support.cli import run_cli


def _doctor(tmp_path: Path, env: dict[str, str]) -> tuple[int, dict[str, tuple[str, str]]]:
    result = run_cli("doctor", "--json", cwd=tmp_path, env=env)
    findings = {f["check"]: (f["status"], f["detail"]) for f in json.loads(result.stdout)}
    return result.returncode, findings


def _alert_admins(engine: sa.Engine, key: str) -> None:
    """An admin alert through the outbox, sent (or tried) by the dispatcher."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        emit(
            s,
            EventInput(
                kind="facility_added",
                subject_type="source",
                subject_key="x",
                dedup_key=f"doctor-{key}",
                payload={"detail": "test"},
                occurred_at=now,
            ),
            now,
        )
    Dispatcher(engine, Settings(database_url=str(engine.url))).run_once()


def test_doctor_names_what_is_off_and_passes_when_nothing_is(tmp_path: Path) -> None:
    db = tmp_path / "dw.db"
    nightly = tmp_path / "backups"
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "DOCKETWATCH_DATA_DIR": str(tmp_path),
        "DOCKETWATCH_BACKUP_DIR": str(nightly),
    }
    with SmtpSink() as sink:
        assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
        no_backup = _doctor(tmp_path, env)[1]["backups"]
        assert no_backup[0] == "warn" and "none yet" in no_backup[1]
        backed = run_cli("backup", str(nightly / "docketwatch-1.tar"), cwd=tmp_path, env=env)
        assert backed.returncode == 0, backed.stderr
        admin = ["--name", "Ad", "--email", "ad@example.org", "--role", "admin"]
        channel_url = sink.url("ad@example.org")
        added = run_cli("staff", "add", *admin, "--channel", channel_url, cwd=tmp_path, env=env)
        assert added.returncode == 0, added.stderr
        engine = make_engine(env["DATABASE_URL"])
        _alert_admins(engine, "1")
        heartbeat(engine)
        code, found = _doctor(tmp_path, env)
        assert code == 0, found
        assert {status for status, _ in found.values()} == {"ok"}, found
        channel = next(k for k in found if k.startswith("channel ad@example.org"))
        assert "last delivered" in found[channel][1]

        # Now break things: a world-readable database, a missing browser, a dead mail server.
        os.chmod(db, 0o644)
        sink.stop()
        _alert_admins(engine, "2")
        engine.dispose()
        broken = {
            **env,
            "DOCKETWATCH_BROWSER_EXECUTABLE": str(tmp_path / "no-chromium"),
            "DOCKETWATCH_BROWSER_HEADLESS_EXECUTABLE": str(tmp_path / "no-shell"),
        }
        code, found = _doctor(tmp_path, broken)
    assert code == 1
    assert found["database file"][0] == "fail" and "chmod 600" in found["database file"][1]
    assert found["browser"][0] == "fail" and "no-chromium" in found["browser"][1]
    shell = found["headless browser"]
    assert shell[0] == "warn" and "no-shell" in shell[1] and "chromium-headless-shell" in shell[1]
    assert found[channel][0] == "fail" and "failed" in found[channel][1]
    assert found["database"][0] == "ok"


def test_doctor_on_an_unreachable_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    code, found = _doctor(tmp_path, env)
    assert code == 1 and found["database"][0] == "fail"
    assert "not reachable" in found["database"][1]
