"""Issue 29, point 3: a backup of a running database restores, whole and consistent, on SQLite
and on PostgreSQL; nothing recorded as sent is sent again after a restore; the key at hand is
checked against the restored channels."""

from __future__ import annotations

import json
import tarfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from monitor.dispatch import Dispatcher
from sandbox.mail import SmtpSink
from sandbox.roster import make_roster, write_csv
from storage.backup import backup, read_manifest, restore
from storage.db import make_engine, session_scope
from storage.errors import ValidationError
from storage.models import Delivery
from storage.roster import import_roster
from storage.secrets import keyring_of
from storage.settings import Settings
from tests.support.alerting import START, Clock, emit_one, hearing_moved, make_org
from tests.support.cli import run_cli


@pytest.fixture
def empty(request: pytest.FixtureRequest, engine: sa.Engine, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of the same kind as ``engine``'s."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    from sandbox import pgserver as pg

    with pg.fresh_database(request.getfixturevalue("pg_admin_url")) as url:
        yield url


def _busy(engine: sa.Engine, sink: SmtpSink, tmp_path: Path) -> tuple[Any, threading.Event]:
    """Alerts being dispatched and a roster being imported, in threads, until told to stop."""
    org = make_org(engine, sink, START)
    for i in range(12):
        emit_one(engine, hearing_moved(org, START, key=f"b{i}"), START + timedelta(seconds=i))
    roster = write_csv(make_roster(1500, attorneys=[org.attorney]), tmp_path / "roster.csv")
    stop = threading.Event()
    clock = Clock(START + timedelta(minutes=1))

    def dispatching() -> None:
        dispatcher = Dispatcher(engine, Settings(), clock=clock)
        while not stop.is_set():
            dispatcher.run_once()

    def importing() -> None:
        import_roster(engine, roster, now=START)

    workers = [threading.Thread(target=dispatching), threading.Thread(target=importing)]
    for w in workers:
        w.start()
    return workers, stop


def _sent(engine: sa.Engine) -> dict[int, str]:
    with session_scope(engine) as s:
        return {d.id: d.status for d in s.exec(select(Delivery)) if d.id is not None}


def test_a_backup_taken_while_the_service_works_restores_whole(
    engine: sa.Engine, empty: str, tmp_path: Path
) -> None:
    path = tmp_path / "backups" / "nightly.tar"
    with SmtpSink() as sink:
        workers, stop = _busy(engine, sink, tmp_path)
        try:
            while not sink.messages:  # dispatch has begun
                threading.Event().wait(0.01)
            manifest = backup(engine, path)
            port = sink.port
        finally:
            stop.set()
            for w in workers:
                w.join()
    assert path.stat().st_mode & 0o777 == 0o600  # client data
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == sorted(["manifest.json", manifest.data_file])
    stored = read_manifest(path)
    assert stored == manifest and stored.dialect == engine.dialect.name
    assert stored.counts["client"] >= 1 and stored.counts["delivery"] >= 2
    assert stored.schema_revision and len(stored.sha256) == 64

    key = keyring_of(engine.dialect).path
    target = make_engine(empty, secrets_key_file=key)
    restored = restore(target, path)
    assert restored.unopened == 0 and restored.sealed >= 4  # the key opens every channel
    with target.connect() as conn:
        for table, n in manifest.counts.items():
            assert conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() == n
    before = _sent(target)
    assert set(before.values()) <= {"pending", "sent", "sending", "uncertain", "held"}

    # Dispatch on the restored database: what was recorded sent stays sent, and only what was
    # still to send goes out, once.
    with SmtpSink(port=port) as again:  # the mail server the channels name, back up
        # at the time of the backup: no escalation or digest is due yet
        Dispatcher(target, Settings(), clock=Clock(START + timedelta(minutes=1))).run_once()
        after = _sent(target)
        resent = [i for i, status in before.items() if status == "sent" and after[i] != "sent"]
        assert resent == []
        newly = [i for i, status in before.items() if status == "pending"]
        assert len(again.messages) == len(newly)
    target.dispose()


def test_restore_refuses_a_database_that_is_not_empty_and_a_damaged_file(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "b.tar"
    backup(sqlite_engine, path)
    with pytest.raises(ValidationError, match="not empty"):
        restore(sqlite_engine, path)  # a database with tables: nothing is replaced
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(path) as tar, tarfile.open(damaged, "w") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member)
            assert data is not None
            body = data.read()
            if member.name != "manifest.json":
                body = body[:-1] + bytes([body[-1] ^ 1])
            member.size = len(body)
            import io

            out.addfile(member, io.BytesIO(body))
    target = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(ValidationError, match="damaged"):
        restore(target, damaged)
    with pytest.raises(ValidationError, match="not a docketwatch backup"):
        read_manifest(tmp_path / "new.db")


def test_the_cli_says_plainly_when_the_key_does_not_open_the_channels(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    with SmtpSink() as sink:
        make_org(sqlite_engine, sink, START)  # four staff, each with a sealed channel URL
    db = str(sqlite_engine.url)
    made = run_cli("backup", str(tmp_path / "b.tar"), cwd=tmp_path, env={"DATABASE_URL": db})
    assert made.returncode == 0, made.stderr
    assert "backup written" in made.stdout and "secrets key is not in it" in made.stdout
    with tarfile.open(tmp_path / "b.tar") as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        manifest = json.loads(member.read())
    assert manifest["counts"]["staff_channel"] == 4

    # Another machine, another key: the restore works and says what cannot be opened.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"DATABASE_URL": f"sqlite:///{elsewhere / 'dw.db'}"}
    done = run_cli("restore", str(tmp_path / "b.tar"), cwd=elsewhere, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "restored" in done.stdout
    assert "the secrets key at hand opens none of the 4 sealed values" in done.stdout


def test_nightly_backups_keep_the_newest_and_the_doctor_reports_their_age(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    from monitor.doctor import _backups
    from scheduler import nightly_backup

    settings = Settings(database_url=str(sqlite_engine.url), backup_dir=tmp_path / "nightly")
    settings = settings.model_copy(update={"backup_keep": 2})
    assert _backups(settings, START).status == "warn"  # none yet
    made = [nightly_backup(sqlite_engine, settings, START + timedelta(days=d)) for d in range(3)]
    kept = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    assert kept == sorted(p.name for p in made[1:] if p is not None)  # the two newest
    import os

    for d, path in enumerate(made):
        if path is not None and path.exists():
            stamp = (START + timedelta(days=d)).timestamp()
            os.utime(path, (stamp, stamp))  # written on their nights
    assert _backups(settings, START + timedelta(days=2, hours=3)).status == "ok"
    late = _backups(settings, START + timedelta(days=4))
    assert late.status == "fail" and "stopped" in late.detail
    assert _backups(Settings(), START).status == "warn"  # no backup_dir: said plainly


def test_a_backup_of_the_running_service_while_a_roster_is_imported(
    sqlite_engine: sa.Engine, tmp_path: Path
) -> None:
    """The real service (`docketwatch run`) dispatching and `docketwatch clients import`
    writing, each its own process, while `docketwatch backup` copies the database."""
    import os
    import signal
    import subprocess

    from tests.support.service import EXE, wait_until

    db = str(sqlite_engine.url)
    with SmtpSink() as sink:
        org = make_org(sqlite_engine, sink, START)
        for i in range(8):
            emit_one(sqlite_engine, hearing_moved(org, START, key=f"s{i}"), START)
        roster = write_csv(make_roster(3000, attorneys=[org.attorney]), tmp_path / "r.csv")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
        env.update(
            {
                "DATABASE_URL": db,
                "DOCKETWATCH_SOURCES": "",
                "DOCKETWATCH_HEARTBEAT_SECONDS": "0.5",
                "DOCKETWATCH_DISPATCH_SECONDS": "0.5",
            }
        )
        service = subprocess.Popen(
            [EXE, "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=(tmp_path / "service.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        importing: subprocess.Popen[bytes] | None = None
        try:
            wait_until(lambda: sink.messages, 60, "the service to dispatch")
            importing = subprocess.Popen(
                [EXE, "clients", "import", str(roster)],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            taken = run_cli("backup", str(tmp_path / "live.tar"), cwd=tmp_path, env=env)
            assert taken.returncode == 0, taken.stderr
        finally:
            if importing is not None:
                importing.wait(timeout=120)
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
        assert service.returncode == 0 and importing is not None
        assert importing.returncode in (0, 1)  # 1: rows rejected, the others imported
        port = sink.port
    manifest = read_manifest(tmp_path / "live.tar")
    target = make_engine(
        f"sqlite:///{tmp_path / 'back.db'}", secrets_key_file=keyring_of(sqlite_engine.dialect).path
    )
    restored = restore(target, tmp_path / "live.tar")
    assert restored.unopened == 0 and restored.manifest.counts == manifest.counts
    before = _sent(target)
    with SmtpSink(port=port) as again:
        Dispatcher(target, Settings(), clock=Clock(START + timedelta(minutes=1))).run_once()
        after = _sent(target)
        assert [i for i, st in before.items() if st == "sent" and after[i] != "sent"] == []
        newly_sent = [i for i, st in after.items() if st == "sent" and before.get(i) != "sent"]
        assert len(again.messages) == len(newly_sent)  # each send recorded, none repeated
    target.dispose()
