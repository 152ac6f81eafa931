"""The pool of workers on Dramatiq and Redis (a redis-server of the test's own), over the ACIS
replica on loopback and a real PostgreSQL database: a worker with real Chromium looks clients
up; a worker killed with SIGKILL in the middle of a lookup loses nothing (its task goes to
another worker, the change is found once, one event); a task delivered twice makes one lookup;
the budget is one for every worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from checks import pool
from sandbox import pgserver as pg
from sandbox import redisserver
from sandbox.acis import AcisSandbox
from sandbox.acis_data import Case, Hearing
from storage.db import make_engine, session_scope, upgrade
from storage.models import AcisLookup, CheckRequest, CrawlOutcome, CrawlRun, Event
from storage.people import add_client, add_staff, assign
from storage.reference_data import load_reference_data
from storage.settings import Settings
from tests.support.service import EXE, wait_until

A_NUMBER = "912345678"


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redisserver.server() as url:
        yield url


@pytest.fixture
def database(pg_admin_url: str) -> Iterator[str]:
    with pg.fresh_database(pg_admin_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        load_reference_data(engine)
        with session_scope(engine) as s:
            add_staff(
                s,
                name="Atty",
                email="atty@example.org",
                role="attorney",
                channels=["json://127.0.0.1:9/none"],
            )
            add_client(s, a_number=A_NUMBER, name="DOE, JANE", nationality="MX")
            assign(s, A_NUMBER, "atty@example.org")
        engine.dispose()
        yield url


def _settings(database: str, redis_url: str, acis_url: str, **more: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database,
        "redis_url": redis_url,
        "acis_base_url": acis_url,
        "acis_pace_seconds": 0,
        "browser_hours": "0-24",
        "worker_heartbeat_seconds": 3,
        "pool_lookups_per_minute": 0,
        "browser_timeout_seconds": 20,
    }
    values.update(more)
    return Settings(**values)  # type: ignore[arg-type]


def _worker(tmp_path: Path, s: Settings, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKETWATCH_")}
    env.update(
        {
            "DATABASE_URL": s.database_url,
            "REDIS_URL": s.redis_url,
            "DOCKETWATCH_ACIS_BASE_URL": s.acis_base_url,
            "DOCKETWATCH_ACIS_PACE_SECONDS": "0",
            "DOCKETWATCH_BROWSER_HOURS": "0-24",
            "DOCKETWATCH_WORKER_HEARTBEAT_SECONDS": "3",
            "DOCKETWATCH_POOL_LOOKUPS_PER_MINUTE": "0",
            "DOCKETWATCH_BROWSER_TIMEOUT_SECONDS": "20",
        }
    )
    log = (tmp_path / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [EXE, "worker"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its Chromium in its process group
    )
    wait_until(
        lambda: "worker ready" in (tmp_path / f"{name}.log").read_text(), 60, f"{name} ready"
    )
    return proc


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its browser, as a power cut would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _closed(engine: sa.Engine, run_id: int) -> bool:
    with Session(engine) as s:
        run = s.get(CrawlRun, run_id)
        return run is not None and run.outcome != CrawlOutcome.running.value


def _run_id(summary: str) -> int:
    assert summary.startswith("run #"), summary
    return int(summary.split("#")[1].split(":")[0])


@pytest.mark.slow
def test_a_worker_killed_mid_lookup_loses_nothing_and_alerts_once(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database)
    first = date.today() + timedelta(days=40)
    workers: list[subprocess.Popen[bytes]] = []
    with AcisSandbox() as acis:
        acis.set_case(Case(A_NUMBER, "MX", hearing=Hearing(on=first)))
        s = _settings(database, redis_url, acis.url)
        try:
            workers.append(_worker(tmp_path, s, "worker-a"))
            # the baseline lookup, in worker-a's Chromium
            run1 = _run_id(pool.plan_acis(engine, s))
            wait_until(lambda: _closed(engine, run1), 120, "the first batch to close")
            with Session(engine) as db:
                run = db.get(CrawlRun, run1)
                assert run is not None and run.outcome == "ok", run
                assert db.exec(select(func.count()).select_from(Event)).one() == 0  # baseline

            # the hearing moves; the next lookup hangs at ACIS while worker-a dies
            acis.set_case(Case(A_NUMBER, "MX", hearing=Hearing(on=first + timedelta(days=9))))
            acis.state.latency_s = 60
            with session_scope(engine) as db:
                db.add(
                    CheckRequest(
                        client_id=1, source="acis", reason="test", requested_at=datetime.now(UTC)
                    )
                )
            run2 = _run_id(pool.plan_acis(engine, s))
            wait_until(lambda: acis.state.asked == 2, 60, "worker-a's lookup to reach ACIS")
            _kill(workers[0])
            acis.state.latency_s = 0
            assert not _closed(engine, run2)

            workers.append(_worker(tmp_path, s, "worker-b"))
            wait_until(
                lambda: _closed(engine, run2), 120, "the redelivered lookup to close the run"
            )
            with Session(engine) as db:
                lookups = db.exec(
                    select(AcisLookup.outcome).where(AcisLookup.crawl_run_id == run2)
                ).all()
                assert lookups == ["ok"]  # the killed lookup stored nothing; the redelivery one
                kinds = Counter(db.exec(select(Event.kind)).all())
                assert kinds == {"hearing_moved_later": 1}, kinds
                request = db.exec(select(CheckRequest)).one()
                assert request.done_at is not None
            assert acis.state.asked == 3  # asked once more, by worker-b
            assert "client #1 ok" in (tmp_path / "worker-b.log").read_text()
        finally:
            for w in workers:
                _kill(w)
            engine.dispose()


def test_a_task_delivered_twice_looks_up_once(
    sqlite_engine: sa.Engine, redis_url: str, tmp_path: Path
) -> None:
    """At-least-once delivery: a task that comes back after its lookup was stored (its worker
    died before the acknowledgement) does not ask ACIS again, and raises nothing twice."""
    with AcisSandbox() as acis:
        acis.set_case(Case(A_NUMBER, "MX", hearing=Hearing(on=date.today() + timedelta(days=20))))
        s = _settings(str(sqlite_engine.url), redis_url, acis.url)
        with session_scope(sqlite_engine) as db:
            add_client(db, a_number=A_NUMBER, name="DOE, JANE", nationality="MX")
        summary = pool.plan_acis(sqlite_engine, s)
        run_id = _run_id(summary)
        pool._CONTEXT = pool.WorkerContext(s, sqlite_engine, simulate_s=0)
        try:
            pool._acis_lookup_task(run_id, [1])
            pool._acis_lookup_task(run_id, [1])  # the same message again
        finally:
            pool._CONTEXT = None
        assert acis.state.asked == 1
        with Session(sqlite_engine) as db:
            assert len(db.exec(select(AcisLookup)).all()) == 1
            run = db.get(CrawlRun, run_id)
            assert run is not None and run.outcome == "ok" and run.items == 1
        # the planner queued a batch and holds the next back while it is open; now it is closed
        assert "nobody is due" in pool.plan_acis(sqlite_engine, s)


def test_the_budget_is_one_for_every_worker(redis_url: str) -> None:
    """Four workers (each its own connection to Redis) draw on one budget: in no window do
    they take more than the limit together, and together they take all of it."""
    settings = Settings(redis_url=redis_url)
    p = pool.pool(settings)
    from dramatiq.rate_limits.backends import RedisBackend

    taken: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 4.5

    ambiguous: list[float] = []

    def worker() -> None:
        budget = pool.Budget(RedisBackend(url=redis_url), "acis", limit=3, window=2)
        while time.monotonic() < stop:
            before = time.time()
            if budget.try_take():
                after = time.time()
                with lock:  # the limiter's second is between the two: known when they agree
                    (taken if int(before) == int(after) else ambiguous).append(before)
            time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.broker.close()
    seconds = Counter(int(t) for t in taken)
    for second in range(min(seconds), max(seconds) + 1):
        assert seconds[second] + seconds[second - 1] <= 3, (second, seconds)
    # 4.5 s of a budget of 3 per 2 s: at least two windows' worth
    assert len(taken) + len(ambiguous) >= 6


def test_the_planner_holds_back_while_a_batch_is_open(
    sqlite_engine: sa.Engine, redis_url: str
) -> None:
    with AcisSandbox() as acis:
        s = _settings(str(sqlite_engine.url), redis_url, acis.url)
        with session_scope(sqlite_engine) as db:
            add_client(db, a_number=A_NUMBER, name="DOE, JANE", nationality="MX")
        run_id = _run_id(pool.plan_acis(sqlite_engine, s))
        assert f"run #{run_id} still being worked through (0 of 1)" == pool.plan_acis(
            sqlite_engine, s
        )
        # a batch older than the crawl timeout is closed with what came in, and planned anew
        with session_scope(sqlite_engine) as db:
            run = db.get(CrawlRun, run_id)
            assert run is not None
            run.started_at = datetime.now(UTC) - timedelta(seconds=s.crawl_timeout_seconds + 1)
            db.add(run)
        again = _run_id(pool.plan_acis(sqlite_engine, s))
        assert again != run_id
        with Session(sqlite_engine) as db:
            stale = db.get(CrawlRun, run_id)
            assert stale is not None and stale.outcome == "failed"
            assert "1 of 1 lookups never came back" in stale.message
            assert (
                db.exec(
                    select(func.count()).select_from(CrawlRun).where(col(CrawlRun.id) == again)
                ).one()
                == 1
            )


def test_tasks_after_the_browser_hours_or_of_a_closed_batch_ask_nobody(
    sqlite_engine: sa.Engine, redis_url: str
) -> None:
    """A task that comes after the browser hours is not looked up, and its batch closes saying
    so (not as a failure); a task of a batch already closed as stale is left to the next one."""
    from zoneinfo import ZoneInfo

    with AcisSandbox() as acis:
        acis.set_case(Case(A_NUMBER, "MX", hearing=Hearing(on=date.today() + timedelta(days=20))))
        s = _settings(str(sqlite_engine.url), redis_url, acis.url)
        with session_scope(sqlite_engine) as db:
            add_client(db, a_number=A_NUMBER, name="DOE, JANE", nationality="MX")
        run_id = _run_id(pool.plan_acis(sqlite_engine, s))
        hour = datetime.now(ZoneInfo(s.timezone)).hour
        start = (hour + 2) % 24
        closed_hours = s.model_copy(update={"browser_hours": f"{start}-{start + 1}"})
        pool._CONTEXT = pool.WorkerContext(closed_hours, sqlite_engine, simulate_s=0)
        try:
            pool._acis_lookup_task(run_id, [1])
            with Session(sqlite_engine) as db:
                run = db.get(CrawlRun, run_id)
                assert run is not None and run.outcome == "empty", run
                assert "1 not looked up" in run.message
            # a stale batch, closed by the planner: its late task asks nobody
            with session_scope(sqlite_engine) as db:
                db.add(
                    CheckRequest(
                        client_id=1, source="acis", reason="test", requested_at=datetime.now(UTC)
                    )
                )
            again = _run_id(pool.plan_acis(sqlite_engine, s))
            pool.close_run(sqlite_engine, s, again, force=True)
            pool._CONTEXT = pool.WorkerContext(s, sqlite_engine, simulate_s=0)
            pool._acis_lookup_task(again, [1])
        finally:
            pool._CONTEXT = None
        assert acis.state.asked == 0


def test_doctor_says_whether_the_pools_redis_answers(redis_url: str, tmp_path: Path) -> None:
    import json

    from tests.support.cli import run_cli

    def pool_finding(url: str) -> tuple[str, str]:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}", "REDIS_URL": url}
        result = run_cli("doctor", "--json", cwd=tmp_path, env=env)
        found = {f["check"]: (f["status"], f["detail"]) for f in json.loads(result.stdout)}
        return found["pool"]

    status, detail = pool_finding(redis_url)
    assert status == "ok" and "0 task(s) waiting" in detail
    status, detail = pool_finding("redis://127.0.0.1:9/0")
    assert status == "fail" and "not reachable" in detail
