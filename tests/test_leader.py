"""One scheduler per database, with failover: two machines (two node names) share a PostgreSQL
database; the one holding the lease schedules, the other stands by. The leader killed with
SIGKILL, the standby takes over once the lease has run out, and no run is doubled; a leader that
finds its lease taken stops with status 3."""

from __future__ import annotations

import itertools
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from sandbox import pgserver as pg
from sandbox.court_status import CourtStatusSandbox
from storage.db import make_engine, upgrade
from storage.models import CrawlRun, ServiceLock
from storage.reference_data import load_reference_data
from tests.support.service import EXE, kill_tree, service_env, wait_until

LEASE = 10.0


@pytest.fixture
def database(pg_admin_url: str) -> Iterator[str]:
    with pg.fresh_database(pg_admin_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        load_reference_data(engine)
        engine.dispose()
        yield url


def _machine(cwd: Path, env: dict[str, str], name: str, *args: str) -> subprocess.Popen[bytes]:
    log = (cwd / f"{name}.log").open("ab")
    return subprocess.Popen(
        [EXE, "run", *args],
        cwd=cwd,
        env={**env, "DOCKETWATCH_NODE_NAME": name},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _holder(engine: sa.Engine) -> str | None:
    with Session(engine) as s:
        lock = s.get(ServiceLock, "scheduler")
        return lock.host if lock is not None else None


def _runs(engine: sa.Engine) -> list[CrawlRun]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(CrawlRun)
                .where(CrawlRun.source == "court_status")
                .order_by(col(CrawlRun.started_at))
            )
        )


@pytest.mark.slow(waits=True)
def test_the_standby_takes_over_within_the_lease_and_no_run_is_doubled(
    database: str, tmp_path: Path
) -> None:
    engine = make_engine(database)
    procs: list[subprocess.Popen[bytes]] = []
    with CourtStatusSandbox() as courts:
        env = service_env(database, courts.url, "http://127.0.0.1:9/none.zip")
        env.update(
            {"DOCKETWATCH_SOURCES": "court_status", "DOCKETWATCH_LEADER_LEASE_SECONDS": str(LEASE)}
        )
        try:
            a = _machine(tmp_path, env, "machine-a")
            procs.append(a)
            wait_until(lambda: _holder(engine) == "machine-a", 90, "machine-a to lead")
            b = _machine(tmp_path, env, "machine-b", "--standby")
            procs.append(b)
            wait_until(
                lambda: "standing by" in (tmp_path / "machine-b.log").read_text(),
                60,
                "machine-b to stand by",
            )
            refused = subprocess.run(
                [EXE, "run"],
                cwd=tmp_path,
                env={**env, "DOCKETWATCH_NODE_NAME": "machine-c"},
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
            assert refused.returncode == 2 and "--standby" in refused.stderr
            assert "on machine-a" in refused.stderr
            wait_until(lambda: any(r.finished_at for r in _runs(engine)), 90, "a run by machine-a")
            killed = datetime.now(UTC)
            kill_tree(a)  # machine-a's power is cut
            wait_until(lambda: _holder(engine) == "machine-b", 60, "machine-b to take over")
            took = datetime.now(UTC)
            waited = (took - killed).total_seconds()
            # Another machine's silence is only known when its lease runs out: not at once,
            # and within the lease and one look of the standby.
            assert 2.0 <= waited <= LEASE + LEASE / 4 + 5, waited
            assert b.poll() is None
            wait_until(
                lambda: any(r.started_at > took for r in _runs(engine) if r.finished_at),
                90,
                "a run by machine-b",
            )
            runs = _runs(engine)
            for before, after in itertools.pairwise(runs):
                assert before.finished_at is not None
                assert after.started_at >= before.finished_at, "two schedulers ran at once"
            assert "this scheduler takes over" in (tmp_path / "machine-b.log").read_text()
            # machine-a comes back as a standby; then the lease is taken from machine-b (as
            # a machine that lost its network for longer than the lease would find it):
            # machine-b stops with status 3 and machine-a takes over once it is free.
            a2 = _machine(tmp_path, env, "machine-a", "--standby")
            procs.append(a2)
            wait_until(
                lambda: "standing by" in (tmp_path / "machine-a.log").read_text(),
                60,
                "machine-a to stand by",
            )
            with engine.begin() as c:
                c.execute(
                    sa.update(ServiceLock.__table__).values(  # type: ignore[attr-defined]
                        token="taken", host="machine-x", pid=1
                    )
                )
            assert b.wait(timeout=30) == 3
            assert "no longer the leader" in (tmp_path / "machine-b.log").read_text()
            wait_until(lambda: _holder(engine) == "machine-a", 60, "machine-a to take over")
            a2.send_signal(signal.SIGTERM)
            assert a2.wait(timeout=60) == 0
        finally:
            for proc in procs:
                if proc.poll() is None:
                    kill_tree(proc)
            engine.dispose()
