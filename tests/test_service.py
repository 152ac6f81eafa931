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


def _start(tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env.pop("DATABASE_URL", None)
    env["DOCKETWATCH_HEARTBEAT_SECONDS"] = "0.5"
    env["DOCKETWATCH_SOURCES"] = ""  # no public site is polled from a test
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("docketwatch")), "run"],
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


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_starts_on_sqlite_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    proc = _start(tmp_path)
    seen: list[str] = []
    try:
        _wait_for(proc, "docketwatch running", seen)
        _wait_for(proc, "heartbeat: 0 active clients", seen)
        _wait_for(proc, "heartbeat: 0 active clients", seen)  # the schedule keeps running
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    assert proc.returncode == 0, output
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
