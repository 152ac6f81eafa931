"""The service killed with SIGKILL mid-cycle and restarted: missed runs happen once, nothing is
lost, duplicated or sent twice. Also: one scheduler per database, health, status."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from sandbox.court_status import CourtStatusSandbox
from sandbox.eoir_foia import EoirFoiaSandbox
from sandbox.eoir_foia_release import ReleaseInfo, generate, successor
from sandbox.mail import SmtpSink
from storage.db import make_engine, session_scope, upgrade
from storage.models import CrawlRun, Delivery, Event, FoiaRelease, Hearing, ServiceLock
from storage.people import add_client, add_staff, assign
from tests.support.cli import run_cli
from tests.support.db import migrated_sqlite
from tests.support.service import EXE, kill_tree, service_env, wait_until
from tests.support.shared import made_once


def _start(cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [EXE, "run"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=(cwd / "service.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def _service_started(engine: sa.Engine) -> datetime:
    """When the running scheduler took its lock (its own start, whatever the test's pace)."""
    with Session(engine) as s:
        lock = s.get(ServiceLock, "scheduler")
        assert lock is not None
        return lock.started_at


def _due_since(engine: sa.Engine, when: datetime) -> None:
    """Make the stored source jobs due at ``when``, as APScheduler itself would store it: in the
    job's pickled state, which is what it runs by, and in the ``next_run_time`` column, which is
    only what it looks up by. (Changing the column alone would wake the scheduler for a run
    whose pickled time has not come, and the run would wait for that time.)"""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
    store.start(BackgroundScheduler(timezone=UTC), "default")
    jobs = [job for job in store.get_all_jobs() if job.id.startswith("source:")]
    assert len(jobs) == 2, [job.id for job in jobs]
    for job in jobs:
        job._modify(next_run_time=when)
        store.update_job(job)
        stored = store.lookup_job(job.id)
        assert stored is not None and stored.next_run_time == when


def _deliveries(engine: sa.Engine) -> list[tuple[str, int]]:
    with Session(engine) as s:
        return [(d.status, d.attempts) for d in s.exec(select(Delivery))]


def _runs(engine: sa.Engine, source: str) -> list[CrawlRun]:
    with Session(engine) as s:
        return list(
            s.exec(select(CrawlRun).where(CrawlRun.source == source).order_by(col(CrawlRun.id)))
        )


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInfo, ReleaseInfo]:
    """A release big enough that its load takes a few seconds (a kill lands in the middle of it),
    and its successor; generated once for the whole run (the tests only read them)."""

    def make(folder: Path) -> tuple[ReleaseInfo, ReleaseInfo]:
        first = generate(folder / "r1.zip", 50_000, seed=21)
        return first, successor(first.path, folder / "r2.zip", seed=22)

    return made_once(tmp_path_factory, "restart-releases", make)


@pytest.mark.slow(waits=True)
def test_sigkill_mid_cycle_then_restart(
    tmp_path: Path, releases: tuple[ReleaseInfo, ReleaseInfo]
) -> None:
    db = migrated_sqlite(tmp_path / "dw.db")
    engine = make_engine(db)
    r1, r2 = releases
    local = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")).date()
    with SmtpSink() as sink, CourtStatusSandbox() as courts, EoirFoiaSandbox() as share:
        share.publish(r1.path, datetime(2026, 11, 1, 12, tzinfo=UTC))
        with session_scope(engine) as s:
            for who, role in (
                ("ana@example.org", "attorney"),
                ("coord@example.org", "coordinator"),
                ("admin@example.org", "admin"),
            ):
                add_staff(s, name=who[:4].title(), email=who, role=role, channels=[sink.url(who)])
            client = add_client(s, a_number="912000011", name="TEST, ONE", nationality="MX")
            assign(s, "912000011", "ana@example.org", "primary")
            assert client.id is not None
            s.add(
                Hearing(
                    client_id=client.id,
                    hearing_on=local + timedelta(days=1),
                    hearing_time="9:00 AM",
                    court_code="ADL",
                    seen_at=datetime.now(UTC),
                )
            )
        env = service_env(db, courts.url, share.zip_url)
        proc = _start(tmp_path, env)
        try:
            # The first cycle: both sources run at once (baselines).
            wait_until(
                lambda: [r.outcome for r in _runs(engine, "eoir_foia")] == ["ok"],
                120,
                "the first FOIA load",
            )
            wait_until(
                lambda: [r.outcome for r in _runs(engine, "court_status")] == ["ok"],
                60,
                "the first court check",
            )
            second = run_cli("run", cwd=tmp_path, env=env)  # one scheduler per database
            assert second.returncode == 2 and "another docketwatch scheduler" in second.stderr
            # The world changes: a new release, and Adelanto closes tomorrow.
            tomorrow = local + timedelta(days=1)
            courts.close(
                "adelanto-immigration-court", f"CLOSED\nClosed {tomorrow:%m/%d/%Y} (water leak)."
            )
            # The closure's alerts go out first: a kill in the middle of sending them would
            # (rightly) leave them uncertain rather than send them twice; that case has its own
            # test (test_alerts.py).
            wait_until(
                lambda: sink.to("ana@example.org") and sink.to("coord@example.org"),
                120,
                "the closure alerts",
            )
            share.publish(r2.path, datetime(2026, 12, 1, 12, tzinfo=UTC))

            # SIGKILL while the next FOIA release is being loaded.
            def loading() -> bool:
                with Session(engine) as s:
                    return (
                        s.exec(select(FoiaRelease).where(FoiaRelease.status == "loading")).first()
                        is not None
                    )

            wait_until(loading, 120, "the second release to be loading")
            kill_tree(proc)
            killed_at = datetime.now(UTC)
            with Session(engine) as s:
                loaded = s.exec(select(FoiaRelease).where(FoiaRelease.status == "loaded")).all()
                assert len(loaded) == 1  # the interrupted load left nothing behind
            # Down for more than two intervals: the stored jobs were due 40 s ago, so two or
            # three runs of each source were missed (as if the machine had been off that long).
            _due_since(engine, datetime.now(UTC) - timedelta(seconds=40))
            before = {src: len(_runs(engine, src)) for src in ("eoir_foia", "court_status")}
            restarted_at = datetime.now(UTC)
            proc = _start(tmp_path, env)
            wait_until(
                lambda: all(
                    len(_runs(engine, src)) > before[src]
                    and _runs(engine, src)[-1].outcome != "running"
                    for src in before
                ),
                120,
                "the missed runs",
            )
            # Coalesced: each job's next run is one of its schedule's future times, never one
            # of the runs missed while it was down (all before the restart), so no second
            # missed run follows the catch-up. (How far ahead depends on how long the restart
            # took: APScheduler keeps the grid of the interval, it does not count from the run.)
            after = {src: _runs(engine, src) for src in before}
            with engine.connect() as conn:
                upcoming: dict[str, float] = dict(
                    conn.execute(
                        sa.text(
                            "SELECT id, next_run_time FROM apscheduler_jobs "
                            "WHERE id LIKE 'source:%'"
                        )
                    ).all()
                )
            for src in after:
                next_at = datetime.fromtimestamp(upcoming[f"source:{src}"], UTC)
                assert next_at > restarted_at, (src, next_at, restarted_at)
                assert next_at - restarted_at <= timedelta(seconds=18 + 60), (src, next_at)
            for src, runs in after.items():
                new = [r for r in runs if r.started_at >= restarted_at]
                assert len(new) == 1, (src, [(r.started_at, r.outcome) for r in new])
                # A catch-up run, at the service's start: not one a whole interval (18 s) later
                assert new[0].outcome == "ok"
                assert new[0].started_at - _service_started(engine) < timedelta(seconds=18)
            interrupted = [r for r in after["eoir_foia"] if "interrupted" in r.message]
            assert len(interrupted) == 1 and interrupted[0].started_at < killed_at
            wait_until(
                lambda: len(sink.to("coord@example.org")) >= 2 and sink.to("ana@example.org"),
                180,
                "the alerts",
            )
            # Every delivery recorded sent, each after one attempt, and no message more than
            # the deliveries: nothing is left that could be sent a second time.
            wait_until(
                lambda: (
                    _deliveries(engine)
                    and all(status == "sent" for status, _ in _deliveries(engine))
                ),
                60,
                "every delivery recorded",
            )
            assert all(attempts == 1 for _, attempts in _deliveries(engine))
            assert len(sink.messages) == len(_deliveries(engine))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
        with Session(engine) as s:
            kinds = Counter(e.kind for e in s.exec(select(Event)))
            stored = s.exec(select(FoiaRelease).order_by(col(FoiaRelease.id))).all()
        assert kinds["new_unrepresented_case"] == 1
        assert kinds["court_closed"] == 1 and kinds["court_closed_summary"] == 1
        assert [r.status for r in stored] == ["loaded", "failed", "loaded"]
        sent = Counter((m.recipients[0], m.subject) for m in sink.messages)
        assert all(n == 1 for n in sent.values()), sent  # nothing sent twice
        assert len(sink.to("ana@example.org")) == 1  # the closure, once
        assert len(sink.to("coord@example.org")) == 2  # the new cases and the closure summary
    log = (tmp_path / "service.log").read_text()
    assert "interrupted run(s) marked failed" in log and "Traceback" not in log
    engine.dispose()


def test_health_check_and_status_without_the_scheduler(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dw.db'}", "DOCKETWATCH_SOURCES": ""}
    assert run_cli("init", cwd=tmp_path, env=env).returncode == 0
    never = run_cli("health", "--check", cwd=tmp_path, env=env)
    assert never.returncode == 1 and "never run" in never.stderr
    engine = make_engine(env["DATABASE_URL"])
    from scheduler import heartbeat

    heartbeat(engine, now=datetime.now(UTC) - timedelta(hours=1))
    stalled = run_cli("health", "--check", cwd=tmp_path, env=env)
    assert stalled.returncode == 1 and "stalled" in stalled.stderr
    heartbeat(engine)
    ok = run_cli("health", "--check", cwd=tmp_path, env=env)
    assert ok.returncode == 0 and "OK" in ok.stdout
    status = run_cli("status", cwd=tmp_path, env=env)
    assert (
        status.returncode == 0
        and "eoir_foia" in status.stdout
        and "pending deliveries: 0" in (status.stdout)
    )
    engine.dispose()


@pytest.mark.parametrize("source", ["court_status"])
def test_watchdog_raises_source_unhealthy_when_overdue(
    sqlite_engine: sa.Engine, source: str
) -> None:
    from scheduler import acquire_lock, watchdog
    from storage.settings import Settings

    settings = Settings(sources=[source], court_status_interval_hours=1)
    start = datetime.now(UTC)
    acquire_lock(sqlite_engine, settings, now=start - timedelta(hours=3))
    assert watchdog(sqlite_engine, settings, start) == 1  # never ran in 3 h, expected hourly
    assert watchdog(sqlite_engine, settings, start + timedelta(minutes=15)) == 0  # said once
    with session_scope(sqlite_engine) as s:
        s.add(CrawlRun(source=source, started_at=start, finished_at=start, outcome="ok"))
    assert watchdog(sqlite_engine, settings, start + timedelta(hours=1)) == 0
    assert watchdog(sqlite_engine, settings, start + timedelta(hours=3)) == 1


@pytest.mark.slow
def test_sigterm_stops_a_running_check_promptly(
    tmp_path: Path, releases: tuple[ReleaseInfo, ReleaseInfo]
) -> None:
    db = f"sqlite:///{tmp_path / 'dw.db'}"
    engine = make_engine(db)
    upgrade(engine)
    release = releases[0]
    with CourtStatusSandbox() as courts, EoirFoiaSandbox() as share:
        share.publish(release.path, datetime(2026, 11, 1, 12, tzinfo=UTC))
        env = service_env(db, courts.url, share.zip_url)
        proc = _start(tmp_path, env)
        try:

            def loading() -> bool:
                with Session(engine) as s:
                    q = select(FoiaRelease).where(FoiaRelease.status == "loading")
                    return s.exec(q).first() is not None

            wait_until(loading, 120, "the release to be loading")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0  # not the whole load, let alone an hour's crawl
        finally:
            if proc.poll() is None:
                proc.kill()
    runs = _runs(engine, "eoir_foia")
    assert runs and runs[-1].outcome == "failed"
    assert "stopped by SIGTERM" in runs[-1].message
    log = (tmp_path / "service.log").read_text()
    assert "stopping a running check" in log and "docketwatch stopped" in log
    engine.dispose()
