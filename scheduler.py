"""The docketwatch service: APScheduler 3.x jobs in a persistent store, run until Ctrl-C/SIGTERM.

- One job per source (``sources``), on an interval from the settings, with jitter. The jobs live in
  the database's ``apscheduler_jobs`` table, so a run that was due while the service was down
  happens once at restart: ``misfire_grace_time=None`` (no limit; 3.x's default of one second
  would silently drop it) and ``coalesce=True`` (several missed runs make one). One instance per
  job.
- Each source check runs in its own process (``python -m cli <source> check``) with a
  timeout: Twisted's reactor cannot restart in one process, and a browser crash must not take the
  service down. The child does the crawl and the monitor pass (detect, route, outbox); the
  service then runs the dispatcher.
- A single-instance lock in the database: a second scheduler on the same database refuses to
  start (3.x duplicates jobs when two schedulers share a store). A lock left by a killed process
  on this host is taken over; one held on another host must go stale first.
- A heartbeat for the scheduler and one per source; a watchdog raises ``source_unhealthy`` when a
  source has had no ok run in twice its interval.
- Supervised: a database that fails for a while (locked past its wait, a full disk) never stops
  the scheduler. The job store keeps a job's next run time in memory when it cannot write it and
  saves it when it can (APScheduler's own loop would die on that write); every fault a job or the
  store meets is kept in a :class:`~monitor.faults.FaultJournal` and told to admins as one
  ``service_fault`` once the database takes writes again. If the scheduler's thread dies anyway,
  ``docketwatch run`` exits with status 1 (systemd restarts it) instead of living on without a
  heartbeat.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session, col, select

from monitor.dispatch import Dispatcher
from monitor.events import EventInput
from monitor.faults import FaultJournal
from monitor.route import emit
from monitor.source_health import overdue
from storage.db import analyze, engine_for, session_scope, upgrade
from storage.errors import ConfigError, DocketwatchError
from storage.models import CrawlRun, Heartbeat, ServiceLock
from storage.people import count_active_clients
from storage.reference_data import load_reference_data
from storage.runs import fail_interrupted, fail_open_runs, last_run
from storage.settings import Settings, mask_url
from storage.sources import SOURCES, load
from web.server import parse_listen

log = logging.getLogger("docketwatch.scheduler")

LOCK = "scheduler"


class AlreadyRunning(DocketwatchError):
    """Another scheduler holds this database."""


def interval_of(settings: Settings, source: str) -> timedelta:
    return SOURCES[source].interval(settings)


class LostLease(DocketwatchError):
    """Another scheduler took the lease over: this one must stop scheduling."""


def heartbeat(engine: sa.Engine, now: datetime | None = None, token: str | None = None) -> str:
    """Record that the service is alive, with a one-line summary of what it watches; with
    ``token``, renew the scheduler's lease, or raise LostLease when another holds it now."""
    stamp = now or datetime.now(UTC)
    with session_scope(engine) as session:
        if token and now is None:
            stamp = db_now(session)
        clients = count_active_clients(session)
        detail = f"{clients} active clients"
        row = session.get(Heartbeat, "scheduler")
        if row is None:
            row = Heartbeat(component="scheduler", beat_at=stamp, detail=detail)
        row.beat_at, row.detail = stamp, detail
        session.add(row)
        lock = session.get(ServiceLock, LOCK)
        if token and lock is not None and lock.token == token:
            lock.beat_at = stamp
            session.add(lock)
        elif token:
            holder = f"pid {lock.pid} on {lock.host}" if lock is not None else "nobody"
            raise LostLease(f"the scheduler's lease is held by {holder} now")
    log.info("heartbeat: %s", detail)
    return detail


def db_now(session: Session) -> datetime:
    """The database's clock on PostgreSQL (one clock for every machine sharing the lease), this
    machine's on SQLite (only this machine can share its file)."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.connection().execute(sa.select(sa.func.now())).scalar_one()
        return value.astimezone(UTC)
    return datetime.now(UTC)


# -- the single-instance lock -------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(
    engine: sa.Engine, settings: Settings, now: datetime | None = None, *, standby: bool = False
) -> str | None:
    """Take the scheduler's lease; return its token. Held by a scheduler that is alive (its
    process on this machine, or a renewal within ``leader_lease_seconds`` from another): raise
    AlreadyRunning, saying who holds it, or with ``standby`` return None (try again later)."""
    host, pid, token = settings.node_name or socket.gethostname(), os.getpid(), uuid.uuid4().hex
    stale_after = timedelta(seconds=settings.leader_lease_seconds)
    with session_scope(engine) as session:
        now = now or db_now(session)
        q = select(ServiceLock).where(ServiceLock.name == LOCK)
        if engine.dialect.name == "postgresql":
            q = q.with_for_update()
        held = session.exec(q).first()
        if held is not None:
            same_host = held.host == host
            alive = _pid_alive(held.pid) if same_host else now - held.beat_at < stale_after
            if alive and not (same_host and held.pid == pid):
                if standby:
                    return None
                raise AlreadyRunning(
                    f"another docketwatch scheduler is running on this database (pid {held.pid} "
                    f"on {held.host}, since {held.started_at:%Y-%m-%d %H:%M} UTC, last seen "
                    f"{held.beat_at:%H:%M:%S} UTC). Two schedulers on one database would run "
                    "every job twice; stop the other one first, or start this one with "
                    "--standby to take over when the other stops."
                )
            log.warning(
                "taking over the scheduler lock from pid %d on %s (%s)",
                held.pid,
                held.host,
                "not running" if same_host else "silent since " + f"{held.beat_at:%H:%M}",
            )
            held.host, held.pid, held.token = host, pid, token
            held.started_at, held.beat_at = now, now
            session.add(held)
        else:
            session.add(
                ServiceLock(name=LOCK, host=host, pid=pid, token=token, started_at=now, beat_at=now)
            )
    return token


def release_lock(engine: sa.Engine, token: str) -> None:
    with session_scope(engine) as session:
        held = session.get(ServiceLock, LOCK)
        if held is not None and held.token == token:
            session.delete(held)


# -- jobs (module-level functions: the job store keeps references to them, not objects) --------


class SteadyJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store, whose writes never stop the scheduler.

    APScheduler 3.x updates a job's next run time right after submitting it, outside any
    ``try``: one failed write there ends the scheduler's thread for good. Here a failed write
    keeps the job in memory (its next run time too) and records the fault; the writes are
    retried before the next look for due jobs, which, while they still fail, APScheduler itself
    retries every ``jobstore_retry_interval`` seconds."""

    def __init__(self, journal: FaultJournal, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.journal = journal
        self._unsaved: dict[str, Job] = {}
        self._unsaved_lock = threading.Lock()

    def update_job(self, job: Job) -> None:
        try:
            super().update_job(job)
        except sa.exc.SQLAlchemyError as exc:
            with self._unsaved_lock:
                self._unsaved[job.id] = job
            self.journal.record("the job store", exc, datetime.now(UTC))
        else:
            with self._unsaved_lock:
                self._unsaved.pop(job.id, None)

    def _save_unsaved(self) -> None:
        with self._unsaved_lock:
            jobs = list(self._unsaved.values())
        for job in jobs:
            key = str(job.id)
            super().update_job(job)  # raises while the database still fails
            with self._unsaved_lock:
                if self._unsaved.get(key) is job:
                    del self._unsaved[key]

    def get_due_jobs(self, now: datetime) -> list[Job]:
        if self._scheduler.state == STATE_STOPPED:
            # APScheduler 3.x wakes its thread once more after shutdown() stopped the executors;
            # a job due at that moment would be submitted to a closed pool (a logged traceback)
            return []
        try:
            self._save_unsaved()
            due: list[Job] = super().get_due_jobs(now)
        except sa.exc.SQLAlchemyError as exc:
            self.journal.record("the job store", exc, datetime.now(UTC))
            raise
        return due

    def get_next_run_time(self) -> datetime | None:
        try:
            stored: datetime | None = super().get_next_run_time()
        except sa.exc.SQLAlchemyError as exc:
            self.journal.record("the job store", exc, datetime.now(UTC))
            stored = datetime.now(UTC) + timedelta(seconds=10)  # look again soon
        with self._unsaved_lock:
            times = [j.next_run_time for j in self._unsaved.values() if j.next_run_time]
        return min([*times, *([stored] if stored else [])], default=None)


@dataclass
class _Context:
    settings: Settings
    engine: sa.Engine
    dispatcher: Dispatcher
    token: str
    journal: FaultJournal
    lost: str | None = None  # why the lease is no longer ours


_CTX: _Context | None = None


def _ctx() -> _Context:
    if _CTX is None:
        raise RuntimeError("the scheduler context is not set (jobs run inside serve())")
    return _CTX


def heartbeat_job() -> None:
    """The heartbeat, then, the database taking writes again, the faults told to admins."""
    ctx = _ctx()
    try:
        heartbeat(ctx.engine, token=ctx.token)
    except LostLease as exc:
        ctx.lost = str(exc)
        return
    if ctx.journal.flush(ctx.engine, datetime.now(UTC)):
        ctx.dispatcher.run_once()


def _job_failed(event: JobExecutionEvent) -> None:
    """A job raised (APScheduler logged it and goes on): remember it for the admins."""
    if _CTX is not None and event.exception is not None:
        _CTX.journal.record(f"the {event.job_id} job", event.exception, datetime.now(UTC))


def dispatch_job() -> None:
    _ctx().dispatcher.run_once()


def reminders_job() -> None:
    """Client hearing reminders: the due ones confirmed on ACIS and queued; then sent."""
    from monitor.reminders import run_pass

    ctx = _ctx()
    report = run_pass(ctx.engine, ctx.settings)
    if report.queued or report.to_attorney or report.lookups_requested:
        log.info(
            "reminders: %d queued, %d waiting for ACIS (%d lookups requested), %d to attorneys",
            report.queued,
            report.waiting,
            report.lookups_requested,
            report.to_attorney,
        )
    if report.queued or report.to_attorney:
        ctx.dispatcher.run_once()


def source_job(source: str) -> str:
    """Run one source's check in a child process, then send what it produced."""
    ctx = _ctx()
    started = datetime.now(UTC)
    if ctx.settings.redis_url:
        return _pool_job(ctx, source, started)
    spec = SOURCES[source]
    command = [sys.executable, "-m", "cli", *spec.check_command]
    if spec.browser and ctx.settings.browser_headed and not os.environ.get("DISPLAY"):
        command = ["xvfb-run", "-a", *command]
    log.info("source %s: starting %s", source, " ".join(spec.check_command))
    outcome = ""
    proc = subprocess.Popen(
        command,
        # every program's clients: a check is the deployment's, whatever `organization` says
        env={**os.environ, "DOCKETWATCH_ORG": ""},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped as one, with its browser
    )
    with _CHILDREN_LOCK:
        _CHILDREN.add(proc)
    try:
        _, stderr = proc.communicate(timeout=ctx.settings.crawl_timeout_seconds)
        if proc.returncode < 0:
            outcome = f"the check was stopped by {signal.Signals(-proc.returncode).name}"
        elif proc.returncode not in (0, 1):
            outcome = f"check exited {proc.returncode}: {stderr.strip()[-500:]}"
    except subprocess.TimeoutExpired:
        _stop_child(proc)
        outcome = f"timed out after {ctx.settings.crawl_timeout_seconds:.0f} s"
    finally:
        with _CHILDREN_LOCK:
            _CHILDREN.discard(proc)
    finished = datetime.now(UTC)
    with session_scope(ctx.engine) as session:
        # a run still open here: the child died mid-run
        fail_open_runs(
            session, outcome or "the check process ended", finished, source=source, since=started
        )
        runs = session.exec(
            select(CrawlRun)
            .where(CrawlRun.source == source, col(CrawlRun.started_at) >= started)
            .order_by(col(CrawlRun.id))
        ).all()
        summary = f"{runs[-1].outcome}: {runs[-1].message}"[:500] if runs else (outcome or "no run")
        row = session.get(Heartbeat, f"source:{source}")
        if row is None:
            row = Heartbeat(component=f"source:{source}", beat_at=finished)
        row.beat_at, row.detail = finished, summary
        session.add(row)
    log.info("source %s: %s", source, summary)
    ctx.dispatcher.run_once()
    return summary


def _pool_job(ctx: _Context, source: str, started: datetime) -> str:
    """With a pool of workers: queue the source's work in Redis (ACIS: the planner's batch of
    lookups, one task each; the others: their check), for `docketwatch worker` to run."""
    from checks import pool

    spec = SOURCES[source].browser
    if spec is not None and spec.pool is not None:  # a planned batch of single lookups
        summary = load(spec.pool)(ctx.engine, ctx.settings)
    else:
        summary = pool.queue_check(ctx.settings, source)
    with session_scope(ctx.engine) as session:
        row = session.get(Heartbeat, f"source:{source}")
        if row is None:
            row = Heartbeat(component=f"source:{source}", beat_at=started)
        row.beat_at, row.detail = datetime.now(UTC), summary[:500]
        session.add(row)
    log.info("source %s: %s", source, summary)
    return summary


_CHILDREN: set[subprocess.Popen[str]] = set()
_CHILDREN_LOCK = threading.Lock()


def _stop_child(proc: subprocess.Popen[str], grace: float = 10.0) -> None:
    """SIGTERM a check's process group; SIGKILL it if it has not ended after ``grace``."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_children() -> None:
    """Stop the checks still running, so that the service stops promptly."""
    with _CHILDREN_LOCK:
        running = list(_CHILDREN)
    for proc in running:
        log.info("stopping a running check (pid %d)", proc.pid)
        _stop_child(proc)


def statistics_job() -> None:
    """Each night: the database's statistics, for its query planner (SQLite; see
    :func:`storage.db.analyze`)."""
    analyze(_ctx().engine)


def retention_job() -> None:
    """Each night: old raw answers dropped, long-closed clients erased, then compaction."""
    from storage.erasure import apply_retention, compact

    ctx = _ctx()
    with session_scope(ctx.engine) as s:
        done = apply_retention(
            s,
            datetime.now(UTC),
            ctx.settings.raw_answer_days,
            ctx.settings.closed_client_days,
        )
    if done.raw_answers or done.erased:
        compact(ctx.engine)
    log.info(
        "retention: %d raw answer(s) dropped, %d closed client(s) erased",
        done.raw_answers,
        len(done.erased),
    )


def roster_sync_job() -> None:
    """Every five minutes: each program whose roster source is due is synced (one after the
    other; a source that cannot be read is recorded and, after a few, reported to admins)."""
    from checks.roster_sync import due_programs, sync_program

    ctx = _ctx()
    synced = 0
    for org in due_programs(ctx.engine, datetime.now(UTC)):
        try:
            result = sync_program(ctx.engine, ctx.settings, org)
        except Exception:  # one program's trouble never stops another's sync
            log.exception("roster sync of program #%d failed", org)
            continue
        synced += 1
        log.info("roster sync of program #%d: %s: %s", org, result.outcome, result.message)
    if synced:
        ctx.dispatcher.run_once()  # what the syncs told coordinators or admins


def backup_job() -> None:
    """Each night (with backup_dir): a backup, keeping the newest backup_keep."""
    ctx = _ctx()
    nightly_backup(ctx.engine, ctx.settings, datetime.now(UTC))


def nightly_backup(engine: sa.Engine, settings: Settings, now: datetime) -> Path | None:
    from storage.backup import backup, keep_newest

    if settings.backup_dir is None:
        return None
    path = settings.backup_dir / f"docketwatch-{now:%Y%m%d-%H%M%S}.tar"
    manifest = backup(engine, path, now)
    gone = keep_newest(settings.backup_dir, settings.backup_keep)
    log.info(
        "backup written: %s (%d rows); %d older one(s) removed",
        path,
        sum(manifest.counts.values()),
        len(gone),
    )
    return path


def monthly_report_job() -> None:
    """On the first of the month: the coordinators' alert that last month's report is ready."""
    ctx = _ctx()
    monthly_report(ctx.engine, ctx.settings, datetime.now(UTC))


def monthly_report(engine: sa.Engine, settings: Settings, now: datetime) -> bool:
    """Write last month's ``monthly_report`` alert of each program (once a month); True when
    any was written now."""
    from zoneinfo import ZoneInfo

    from monitor.reports import monthly_report_event
    from storage.tenancy import organizations

    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    with session_scope(engine) as session:
        programs = [(o.id, o.slug) for o in organizations(session)]
    written = False
    for org_id, slug in programs:  # each program's own figures, to its own coordinators
        assert org_id is not None
        with session_scope(engine, org_id) as session:
            event = monthly_report_event(
                session, today, settings.timezone, settings.web_base_url, now, org_id
            )
        if event is not None:
            log.info(
                "%s: monthly report of %s ready; coordinators alerted", slug, event.subject_key
            )
            written = True
    return written


def watchdog_job() -> int:
    ctx = _ctx()
    return watchdog(ctx.engine, ctx.settings, datetime.now(UTC))


def watchdog(engine: sa.Engine, settings: Settings, now: datetime) -> int:
    """Raise source_unhealthy for each source with no ok run in twice its interval."""
    raised = 0
    with session_scope(engine) as session:
        lock = session.get(ServiceLock, LOCK)
        since = lock.started_at if lock is not None else now
        for source in settings.sources:
            last_ok = last_run(session, source, ok=True)
            reference = last_ok.finished_at if last_ok and last_ok.finished_at else None
            if reference is None:
                reference = since  # never ran: count from when the service started
            if not overdue(reference, interval_of(settings, source), now):
                continue
            event = emit(
                session,
                EventInput(
                    kind="source_unhealthy",
                    subject_type="source",
                    subject_key=source,
                    dedup_key=f"source_overdue:{source}:{last_ok.id if last_ok else 0}",
                    payload={
                        "detail": (
                            f"{source} is overdue: no successful run since "
                            f"{reference:%Y-%m-%d %H:%M} UTC (expected every "
                            f"{interval_of(settings, source)})."
                        ),
                        "source": source,
                        "outcome": "overdue",
                    },
                    occurred_at=now,
                ),
                now,
            )
            raised += event is not None
    return raised


def recover_interrupted(engine: sa.Engine, now: datetime | None = None) -> int:
    """Runs and loads left 'running' by a service that was killed are marked failed."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        interrupted = fail_interrupted(session, "the service", now)
    if interrupted:
        log.warning("%d interrupted run(s) marked failed", interrupted)
    return interrupted


def _schedule(
    scheduler: BackgroundScheduler,
    job_id: str,
    func: str,
    trigger: IntervalTrigger | CronTrigger,
    args: list[str] | None = None,
    first: datetime | None = None,
) -> None:
    """Add a job, or keep the stored one (and its pending run time) if its schedule is the same."""
    existing = scheduler.get_job(job_id)
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    if (
        existing is not None
        and str(existing.trigger) == str(trigger)
        and existing.args == tuple(args or [])
    ):
        log.info("job %s kept; next run %s", job_id, existing.next_run_time)
        return
    if existing is not None:
        scheduler.remove_job(job_id)
    kwargs = {"next_run_time": first} if first else {}
    scheduler.add_job(func, trigger, args=args or [], id=job_id, name=job_id, **options, **kwargs)
    log.info("job %s scheduled (%s)", job_id, trigger)


def serve(settings: Settings, *, once: bool = False, standby: bool = False) -> int:
    """Run the service until a stop signal (or one pass with ``once``); return the exit code.

    With ``standby``, a scheduler already holding the database's lease is not an error: this one
    waits, checking every quarter of ``leader_lease_seconds``, and takes over once the other has
    stopped (its process gone, on this machine) or stopped renewing the lease (another machine).
    A scheduler that finds its lease taken over stops with status 3."""
    engine = engine_for(settings)
    log.info("docketwatch starting; database %s", mask_url(settings.database_url))
    upgrade(engine)
    analyze(engine)  # the planner's statistics, fresh for the pages (again each night)
    counts = load_reference_data(engine)
    log.info(
        "reference data: %d courts, %d hearing locations, %d facilities",
        counts.courts,
        counts.hearing_locations,
        counts.facilities,
    )
    dispatcher = Dispatcher(engine, settings)
    if once:
        heartbeat(engine)
        dispatcher.run_once()
        engine.dispose()
        log.info("docketwatch ran once and stopped")
        return 0

    global _CTX
    web = None
    if settings.web_listen:
        host, port = parse_listen(settings.web_listen)
        if not (settings.ack_secret and settings.ack_secret.get_secret_value()):
            raise ConfigError("web_listen is set but ack_secret is not")
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Before anything starts: a second service stops here, or stands by.
    token = acquire_lock(engine, settings, standby=standby)
    if token is None:
        log.info("standing by: another scheduler holds the lease; taking over when it stops")
        while token is None:
            if stop.wait(max(settings.leader_lease_seconds / 4, 0.5)):
                engine.dispose()
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                log.info("docketwatch stopped while standing by")
                return 0
            token = acquire_lock(engine, settings, standby=True)
        log.info("the lease is ours: this scheduler takes over")
    if settings.web_listen:
        from web.workers import serve

        try:
            web = serve(engine, settings, host, port)
        except Exception:
            release_lock(engine, token)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            raise

    journal = FaultJournal()
    _CTX = _Context(settings, engine, dispatcher, token, journal)
    if not settings.redis_url:
        # with a pool, runs left open are the workers' (closed by the next check of their
        # source, or by the planner for ACIS batches), not this process's
        recover_interrupted(engine)
    scheduler = BackgroundScheduler(
        timezone=settings.timezone,
        jobstores={"default": SteadyJobStore(journal, engine=engine, tablename="apscheduler_jobs")},
        jobstore_retry_interval=settings.heartbeat_seconds,
    )
    scheduler.add_listener(_job_failed, EVENT_JOB_ERROR)
    scheduler.start(paused=True)  # the stored jobs load; nothing runs until they are reconciled
    _schedule_jobs(scheduler, settings)
    scheduler.resume()
    log.info(
        "docketwatch running (sources: %s; heartbeat every %.0f s); Ctrl-C or SIGTERM stops it",
        ", ".join(settings.sources) or "none",
        settings.heartbeat_seconds,
    )
    try:
        code = _watch(stop, scheduler)
    finally:
        stop_children()  # a crawl can run for an hour; the service stops now, marking it failed
        scheduler.shutdown(wait=True)
        release_lock(engine, token)
        _CTX = None
        if web is not None:
            web.stop()
        engine.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("docketwatch stopped")
    return code


def _schedule_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """The service's jobs, reconciled with those stored: heartbeat, dispatch, the monthly
    report, the watchdog, the reminders' pass (when they can go) and each source's check."""
    now = datetime.now(UTC)
    jitter = int(settings.schedule_jitter_seconds) or None
    _schedule(
        scheduler,
        "heartbeat",
        "scheduler:heartbeat_job",
        IntervalTrigger(seconds=settings.heartbeat_seconds),
        first=now,
    )
    _schedule(
        scheduler,
        "dispatch",
        "scheduler:dispatch_job",
        IntervalTrigger(seconds=settings.dispatch_seconds),
        first=now,
    )
    monthly = CronTrigger(day=1, hour=settings.digest_hour, timezone=settings.timezone)
    _schedule(scheduler, "monthly_report", "scheduler:monthly_report_job", monthly)
    nightly = CronTrigger(hour=3, timezone=settings.timezone)
    _schedule(scheduler, "statistics", "scheduler:statistics_job", nightly)
    _schedule(scheduler, "retention", "scheduler:retention_job", nightly)
    _schedule(
        scheduler, "roster_sync", "scheduler:roster_sync_job", IntervalTrigger(minutes=5), first=now
    )
    if settings.backup_dir is not None:
        at = CronTrigger(hour=settings.backup_hour, timezone=settings.timezone)
        _schedule(scheduler, "backup", "scheduler:backup_job", at)
    _schedule(
        scheduler,
        "watchdog",
        "scheduler:watchdog_job",
        IntervalTrigger(minutes=settings.watchdog_minutes),
    )
    from monitor.reminders import not_ready

    unready = not_ready(settings)
    if unready is None:
        _schedule(
            scheduler,
            "reminders",
            "scheduler:reminders_job",
            IntervalTrigger(minutes=settings.reminder_pass_minutes),
            first=now,
        )
    else:
        if scheduler.get_job("reminders") is not None:
            scheduler.remove_job("reminders")
        log.info("client reminders are off: %s", unready)
    for source in SOURCES:
        job_id = f"source:{source}"
        if source not in settings.sources:
            if scheduler.get_job(job_id) is not None:
                scheduler.remove_job(job_id)
            continue
        trigger = IntervalTrigger(
            seconds=interval_of(settings, source).total_seconds(), jitter=jitter
        )
        _schedule(scheduler, job_id, "scheduler:source_job", trigger, [source], first=now)


def _watch(stop: threading.Event, scheduler: BackgroundScheduler) -> int:
    """Wait for a stop signal; the exit code: 0, 3 when the lease was taken over, 1 when the
    scheduler's thread died."""
    while not stop.wait(1.0):
        if _CTX is not None and _CTX.lost is not None:
            log.critical(
                "%s: stopping with status 3 (this scheduler is no longer the leader)", _CTX.lost
            )
            return 3
        if not _alive(scheduler):
            log.critical(
                "the scheduler's thread has died; stopping with status 1 so that the "
                "service manager restarts docketwatch"
            )
            return 1
    return 0


def _alive(scheduler: BackgroundScheduler) -> bool:
    """Whether the scheduler's loop still runs (APScheduler 3.x keeps it in ``_thread``)."""
    thread = getattr(scheduler, "_thread", None)
    return thread is None or thread.is_alive()
