"""``docketwatch run`` starts on the embedded default, logs what it does, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.db import make_engine


def _start(tmp_path: Path, command: str = "run", **extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env.pop("DATABASE_URL", None)
    env["DOCKETWATCH_HEARTBEAT_SECONDS"] = "0.5"
    env["DOCKETWATCH_SOURCES"] = ""  # no public site is polled from a test
    env.update(extra)
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("docketwatch")), command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _wait_for(proc: subprocess.Popen[str], text: str, seen: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} never appeared; output:\n{''.join(seen)}")


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_starts_on_sqlite_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    from sandbox.mail import free_port

    port = free_port()  # with the web app: served by the service, stopped with it
    web = {"DOCKETWATCH_WEB_LISTEN": f"127.0.0.1:{port}", "DOCKETWATCH_ACK_SECRET": "s3cret"}
    proc = _start(tmp_path, **web)
    seen: list[str] = []
    try:
        _wait_for(proc, "web app listening on 127.0.0.1", seen)
        _wait_for(proc, "docketwatch running", seen)
        _wait_for(proc, "heartbeat: 0 active clients", seen)
        assert _status(f"http://127.0.0.1:{port}/health") == 200
        assert _status(f"http://127.0.0.1:{port}/login") == 200
        workers = _web_workers(proc.pid)  # pages are served by processes of their own
        assert len(workers) == 2, workers
        _wait_for(proc, "heartbeat: 0 active clients", seen)  # the schedule keeps running
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    assert proc.returncode == 0, output
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]  # stopped with it
    assert f"received {sig.name}, stopping" in output
    assert output.rstrip().endswith("docketwatch stopped")
    assert "Traceback" not in output
    # The embedded default: a SQLite file under ./data, in WAL mode, with the heartbeat stored.
    db = tmp_path / "data" / "docketwatch.db"
    assert db.exists()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        detail = conn.execute(sa.text("SELECT detail FROM heartbeat WHERE component='scheduler'"))
        assert detail.scalar() == "0 active clients"
    engine.dispose()
    if sig is signal.SIGTERM:  # and `docketwatch web` serves the same app alone
        alone = _start(tmp_path, "web", **web)
        seen = []
        try:
            _wait_for(alone, "web app on http://127.0.0.1", seen)  # said once it listens
            assert _status(f"http://127.0.0.1:{port}/health") == 200
            alone.send_signal(signal.SIGTERM)
            rest, _ = alone.communicate(timeout=30)
        finally:
            if alone.poll() is None:
                alone.kill()
        assert alone.returncode == 0 and "stopped" in rest, "".join(seen) + rest


def _web_workers(parent: int) -> list[int]:
    """The web worker processes started by ``parent``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            command = (status.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if int(fields.get("PPid", "0").strip()) == parent and b"web.workers" in command:
            found.append(int(status.parent.name))
    return found


def test_web_workers_stop_when_the_service_is_killed(tmp_path: Path) -> None:
    """A service killed outright (SIGKILL, the OOM killer) leaves no web worker behind holding
    its port: each notices and stops."""
    from sandbox.mail import free_port

    port = free_port()
    web = {"DOCKETWATCH_WEB_LISTEN": f"127.0.0.1:{port}", "DOCKETWATCH_ACK_SECRET": "s3cret"}
    proc = _start(tmp_path, **web)
    seen: list[str] = []
    try:
        _wait_for(proc, "web app listening on 127.0.0.1", seen)
        workers = _web_workers(proc.pid)
        assert len(workers) == 2
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    deadline = time.monotonic() + 30
    while [p for p in workers if Path(f"/proc/{p}").exists()] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in workers if Path(f"/proc/{p}").exists()]
    with pytest.raises(OSError):  # nobody listens on the port any more
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_run_refuses_an_unreachable_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("docketwatch")), "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none" in (
        result.stderr
    )


def test_a_stopped_scheduler_submits_no_job(
    sqlite_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """APScheduler 3.x wakes its thread once more after shutdown() closed the executors: the
    job store then hands it no job. (Before, a job due at that moment was submitted to the
    closed pool: "Error submitting job" with a traceback in the service's log, and the job's
    next run moved on as if it had run.)"""
    import logging
    from datetime import UTC, datetime, timedelta

    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    import scheduler as service
    from monitor.faults import FaultJournal

    store = service.SteadyJobStore(
        FaultJournal(), engine=sqlite_engine, tablename="apscheduler_jobs"
    )
    sched = BackgroundScheduler(jobstores={"default": store})
    sched.start(paused=True)
    due = datetime.now(UTC)
    sched.add_job("scheduler:heartbeat_job", IntervalTrigger(hours=1), id="beat", next_run_time=due)
    later = due + timedelta(minutes=1)
    assert [j.id for j in store.get_due_jobs(later)] == ["beat"]
    with caplog.at_level(logging.ERROR, logger="apscheduler"):
        sched.shutdown(wait=True)  # the thread's last pass happens in here
    assert not [r for r in caplog.records if "Error submitting job" in r.getMessage()]
    job = store.lookup_job("beat")
    assert job is not None and job.next_run_time <= later  # still due: it never "ran"
    assert store.get_due_jobs(later) == []
