"""A pool of workers: ACIS lookups and source checks as Dramatiq tasks on a Redis broker.

With ``redis_url`` set, the scheduler (the leader) still decides who is looked up when
(:func:`plan_acis`: the planner's budgeted batch), but instead of crawling it queues one
``acis_lookup`` task per person (the clients of several programs who are one person share it);
``docketwatch worker`` processes, on this machine or others sharing the PostgreSQL database and
the Redis broker, run them, each with its own Chromium, one lookup at a time at its own pace.
The other sources' checks are queued as ``source_check`` tasks and run as the service runs them
(a child process), one at a time per source in the pool.

Why Dramatiq (and not Celery): a message is acknowledged only after its task finishes, and the
Redis broker gives a dead worker's unacknowledged messages to the living once its heartbeat is
``worker_heartbeat_seconds`` old (at-least-once, late acknowledgement, with nothing to
configure); its rate limiters keep their counts in Redis, so the budget holds for every worker
on every machine (Celery's ``rate_limit`` is per worker); a task that raises (the database down)
is retried with exponential backoff by its Retries middleware.

The budget: the planner queues at most ``browser_lookups_per_hour`` lookups an hour, within
``browser_hours``; a worker takes a slot of ``pool_lookups_per_minute`` (a sliding window in
Redis) just before the click that sends a lookup to ACIS, and waits for one when the pool has
spent the minute's. A redelivered task never alerts twice: a lookup already stored for its run
is not made again, and detection's events have dedup keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from checks.planner import planned_clients
from checks.run import CheckReport, finish_run, shared_targets, tally
from monitor.acis import WatchSettings, detect, local_today
from monitor.planner import in_browser_hours, mark_done
from storage.db import engine_for, session_scope
from storage.errors import ConfigError
from storage.models import AcisLookup, Client, CrawlOutcome, CrawlRun
from storage.settings import POOL_NAMESPACE, POOL_QUEUE, Settings, mask_url
from storage.snapshots import CASE_OUTCOMES

log = logging.getLogger("docketwatch.pool")

QUEUE = POOL_QUEUE
NAMESPACE = POOL_NAMESPACE
#: queue maintenance (requeueing a dead worker's messages) on one broker command in ten, not
#: Dramatiq's one in a thousand: a pool's few messages a minute would otherwise leave a dead
#: worker's lookup waiting for hours
MAINTENANCE_CHANCE = 100_000
#: the budget's window: one second more than a minute, so that what reaches ACIS a moment after
#: its slot was taken still falls in a calendar minute that holds no more than the budget
WINDOW_SECONDS = 61
#: the message that starts a pool run's note; a run with it is closed by its last lookup
POOL_NOTE = "pool: "


@dataclass
class Pool:
    broker: Any
    acis_lookup: Any
    source_check: Any
    backend: Any


_POOLS: dict[tuple[str, float], Pool] = {}
_POOLS_LOCK = threading.Lock()


def pool(settings: Settings) -> Pool:
    """The broker and the actors for ``settings.redis_url`` (one per process and URL)."""
    if not settings.redis_url:
        raise ConfigError("no redis_url is set: a pool of workers needs a Redis broker")
    key = (settings.redis_url, settings.worker_heartbeat_seconds)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = _make_pool(settings)
        return _POOLS[key]


def _make_pool(settings: Settings) -> Pool:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.rate_limits.backends import RedisBackend

    broker = RedisBroker(
        url=settings.redis_url,
        namespace=NAMESPACE,
        heartbeat_timeout=int(settings.worker_heartbeat_seconds * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    dramatiq.set_broker(broker)
    lookup = dramatiq.actor(
        actor_name="acis_lookup",
        queue_name=QUEUE,
        broker=broker,
        max_retries=8,
        min_backoff=15_000,
        max_backoff=15 * 60_000,
        time_limit=int(max(settings.crawl_timeout_seconds, 600) * 1000),
    )(_acis_lookup_task)
    check = dramatiq.actor(
        actor_name="source_check",
        queue_name=QUEUE,
        broker=broker,
        max_retries=3,
        min_backoff=60_000,
        max_backoff=30 * 60_000,
        time_limit=int((settings.crawl_timeout_seconds + 120) * 1000),
    )(_source_check_task)
    backend = RedisBackend(url=settings.redis_url)
    return Pool(broker, lookup, check, backend)


# -- the leader's side -------------------------------------------------------------------------


def plan_acis(engine: sa.Engine, settings: Settings) -> str:
    """Queue this hour's ACIS lookups for the pool: the planner's batch, one task per person,
    all of one crawl run that the batch's last lookup closes. A batch still being worked through
    holds the next back (the budget is the planner's, not the queue's)."""
    now = datetime.now(UTC)
    stale_after = timedelta(seconds=settings.crawl_timeout_seconds)
    with session_scope(engine) as session:
        open_runs = session.exec(
            select(CrawlRun).where(
                CrawlRun.source == "acis",
                CrawlRun.outcome == CrawlOutcome.running.value,
                col(CrawlRun.message).startswith(POOL_NOTE),
            )
        ).all()
        for run in open_runs:
            started = run.started_at.replace(tzinfo=run.started_at.tzinfo or UTC)
            if now - started < stale_after:
                assert run.id is not None
                done = _looked_up(session, run.id)
                return f"run #{run.id} still being worked through ({done} of {_planned(run)})"
    for run in open_runs:
        assert run.id is not None
        close_run(engine, settings, run.id, force=True)
    with session_scope(engine) as session:
        clients, note = planned_clients(engine, session, settings, "acis")
        if not clients:
            return note
        run = CrawlRun(
            source="acis", started_at=now, message=f"{POOL_NOTE}{len(clients)} clients queued"
        )
        session.add(run)
        session.flush()
        assert run.id is not None
        run_id = run.id
        targets = shared_targets(clients, lambda c: (c.a_number, c.nationality_code), lambda c: {})
    p = pool(settings)
    for target in targets:
        p.acis_lookup.send(run_id, target["client_ids"])
    log.info("acis run #%d: %d lookups queued for the pool (%s)", run_id, len(targets), note)
    return f"run #{run_id}: {len(targets)} lookups queued; {note}"


def queue_check(settings: Settings, source: str) -> str:
    pool(settings).source_check.send(source)
    return f"{source} check queued for the pool"


def _planned(run: CrawlRun) -> int:
    try:
        return int(run.message[len(POOL_NOTE) :].split()[0])
    except (ValueError, IndexError):
        return 0


def _looked_up(session: Any, run_id: int) -> int:
    return int(
        session.exec(
            select(func.count(sa.distinct(col(AcisLookup.client_id)))).where(
                AcisLookup.crawl_run_id == run_id
            )
        ).one()
    )


def close_run(engine: sa.Engine, settings: Settings, run_id: int, *, force: bool = False) -> bool:
    """Close a pool run once every planned lookup is stored (or, with ``force``, with what came
    in); exactly one caller closes it. Returns whether this call did."""
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        if run is None or run.outcome != CrawlOutcome.running.value:
            return False
        planned, done, skipped = _planned(run), _looked_up(session, run_id), run.errors
        if done + skipped < planned and not force:
            return False
        claimed = session.execute(
            sa.update(CrawlRun)
            .where(
                col(CrawlRun.id) == run_id,
                col(CrawlRun.outcome) == CrawlOutcome.running.value,
                col(CrawlRun.finished_at).is_(None),
            )
            .values(finished_at=datetime.now(UTC))
        )
        if not getattr(claimed, "rowcount", 0):
            return False
        outcomes = Counter(
            session.exec(select(AcisLookup.outcome).where(AcisLookup.crawl_run_id == run_id)).all()
        )
    from checks.acis import run_outcome

    report = CheckReport(source="acis", run_id=run_id)
    lost = planned - done - skipped
    missing = f"{lost} of {planned} lookups never came back" if lost > 0 else ""
    tally(report, outcomes, run_outcome(outcomes), CASE_OUTCOMES, missing)
    if skipped:
        report.message += (
            f"; {skipped} not looked up (no longer watched, or after the browser hours: the "
            "planner asks again)"
        )
    finish_run(engine, settings, report)
    log.info("acis run #%d closed: %s", run_id, report.message)
    return True


# -- the worker's side -------------------------------------------------------------------------


@dataclass
class WorkerContext:
    settings: Settings
    engine: sa.Engine
    simulate_s: float | None = None  # benchmarks: no Chromium, the replica's API and a wait


_CONTEXT: WorkerContext | None = None
_LOCAL = threading.local()


def _context() -> WorkerContext:
    if _CONTEXT is None:
        raise RuntimeError("a pool task runs in `docketwatch worker`")
    return _CONTEXT


class Budget:
    """The pool's shared budget for one source: ``limit`` lookups in any ``window`` seconds,
    counted in Redis for every worker on every machine (Dramatiq's WindowRateLimiter)."""

    def __init__(self, backend: Any, source: str, limit: int, window: int = WINDOW_SECONDS):
        from dramatiq.rate_limits import WindowRateLimiter

        self.limiter = (
            WindowRateLimiter(backend, f"budget:{source}", limit=limit, window=window)
            if limit
            else None
        )

    def try_take(self) -> bool:
        if self.limiter is None:
            return True
        with self.limiter.acquire(raise_on_failure=False) as taken:
            return bool(taken)

    async def take(self, poll_s: float = 0.2) -> None:
        """Wait for a slot (a sliding window frees one within the window)."""
        while not self.try_take():
            await asyncio.sleep(poll_s)


def _acis_lookup_task(run_id: int, client_ids: list[int]) -> None:
    """Look one person up for every program's client in ``client_ids`` (one lookup)."""
    ctx = _context()
    settings, engine = ctx.settings, ctx.engine
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        open_run = run is not None and run.outcome == CrawlOutcome.running.value
        clients = [c for c in (session.get(Client, i) for i in client_ids) if c and c.active]
        watched = [c.id for c in clients if c.id is not None]
        stored = session.exec(
            select(AcisLookup.id).where(
                AcisLookup.crawl_run_id == run_id, col(AcisLookup.client_id).in_(client_ids)
            )
        ).first()
        target = (
            {
                "client_id": clients[0].id,
                "client_ids": watched,
                "a_number": clients[0].a_number,
                "nat_code": clients[0].nationality_code,
            }
            if clients
            else None
        )
    who = ", ".join(f"#{i}" for i in client_ids)
    if stored is not None:  # a redelivery after the lookup was stored: it is not made again
        log.info("acis run #%d: client %s already looked up", run_id, who)
        close_run(engine, settings, run_id)
        return
    if not open_run:  # a batch closed as stale (workers away): the planner has planned anew
        log.info("acis run #%d is closed; client %s is left to the next batch", run_id, who)
        return
    if target is None:
        log.info("acis run #%d: client %s no longer watched", run_id, who)
        _skipped(engine, run_id, len(client_ids))
    elif not in_browser_hours(settings.browser_hours, now, settings.timezone):
        log.info("acis run #%d: outside browser hours; client %s waits", run_id, who)
        _skipped(engine, run_id, len(client_ids))
    else:
        budget = Budget(pool(settings).backend, "acis", settings.pool_lookups_per_minute)
        item = _looker(ctx).acis(target, budget)
        _store(ctx, run_id, watched, item)
    close_run(engine, settings, run_id)


def _skipped(engine: sa.Engine, run_id: int, n: int) -> None:
    """Count clients of a batch not looked up (no longer watched, or their task came after the
    browser hours). While a pool run is open its ``errors`` column holds this count; the run's
    close writes its real figures."""
    with session_scope(engine) as session:
        session.execute(
            sa.update(CrawlRun)
            .where(col(CrawlRun.id) == run_id, col(CrawlRun.outcome) == CrawlOutcome.running.value)
            .values(errors=CrawlRun.errors + n)
        )


def _store(ctx: WorkerContext, run_id: int, client_ids: list[int], item: dict[str, Any]) -> None:
    from spiders.acis import store_item as store_acis_item

    settings = ctx.settings
    outcome = store_acis_item(ctx.engine, run_id, settings.timezone, item)
    now = datetime.now(UTC)
    watch = WatchSettings(not_found_repeats=settings.acis_not_found_repeats)
    events = 0
    with session_scope(ctx.engine) as session:
        for client_id in client_ids:  # each program's client: each program's alerts
            client = session.get(Client, client_id)
            assert client is not None
            events += len(detect(session, client, now, local_today(now, settings.timezone), watch))
        mark_done(session, "acis", client_ids, now)
    who = ", ".join(f"#{i}" for i in client_ids)
    log.info("acis run #%d: client %s %s (%d events)", run_id, who, outcome, events)


def _looker(ctx: WorkerContext) -> Any:
    """This thread's way of looking up (a thread keeps its own browser and event loop)."""
    looker = getattr(_LOCAL, "looker", None)
    if looker is None:
        if ctx.simulate_s is not None:
            looker = SimulatedLooker(ctx.settings, ctx.simulate_s)
        else:
            looker = BrowserLooker(ctx.settings)
        _LOCAL.looker = looker
    return looker


class BrowserLooker:
    """A worker's Chromium (Debian's, through Playwright), kept open between lookups."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.playwright: Any = None
        self.browser: Any = None

    def acis(self, target: dict[str, Any], budget: Budget) -> dict[str, Any]:
        return self.loop.run_until_complete(self._acis(target, budget))

    async def _launch(self) -> Any:
        from playwright.async_api import async_playwright

        from spiders.browser import launch_options

        if self.browser is None or not self.browser.is_connected():
            if self.playwright is None:
                self.playwright = await async_playwright().start()
            s = self.settings
            self.browser = await self.playwright.chromium.launch(**launch_options(s))
        return self.browser

    async def _acis(self, target: dict[str, Any], budget: Budget) -> dict[str, Any]:
        from spiders.acis import LOOKS, LOOKUP_OUTCOME, look_up
        from spiders.browser import open_page
        from storage.errors import SourceError

        s = self.settings
        language = s.acis_language
        url = s.acis_base_url.rstrip("/") + ("/es/" if language == "ES" else "/en/")
        browser = await self._launch()
        context = await browser.new_context(user_agent=s.user_agent)
        try:
            for look in range(1, LOOKS + 1):
                page = await context.new_page()
                try:
                    await open_page(page, url, 3 * s.browser_timeout_seconds * 1000)
                    item = await look_up(
                        page,
                        target,
                        language,
                        pace_s=s.acis_pace_seconds,
                        timeout_s=s.browser_timeout_seconds,
                        look=look,
                        before_submit=budget.take,
                    )
                except SourceError as exc:
                    item = {
                        "client_id": target["client_id"],
                        "nationality_code": target["nat_code"],
                        "language": language,
                        "outcome": LOOKUP_OUTCOME[exc.outcome].value,
                        "message": str(exc)[:300],
                    }
                finally:
                    await page.close()
                if item is not None:
                    return item
            raise AssertionError("look_up asks for another load only before its last")
        finally:
            await context.close()


class SimulatedLooker:
    """For benchmarks: the replica's own API over HTTP (a captcha token, then GetCaseInfo)
    instead of a browser, then ``seconds`` of waiting for what a browser would spend."""

    def __init__(self, settings: Settings, seconds: float) -> None:
        self.settings = settings
        self.seconds = seconds

    def acis(self, target: dict[str, Any], budget: Budget) -> dict[str, Any]:
        base = self.settings.acis_base_url.rstrip("/")
        headers = {"User-Agent": self.settings.user_agent}
        while not budget.try_take():
            time.sleep(0.2)
        mint = urllib.request.Request(base + "/captcha/mint", data=b"{}", headers=headers)
        with urllib.request.urlopen(mint, timeout=30) as answer:
            token = json.loads(answer.read())["token"]
        query = urllib.parse.urlencode(
            {"alienNumber": target["a_number"], "languageCode": "EN", "natCode": target["nat_code"]}
        )
        ask = urllib.request.Request(
            f"{base}/api/Case/GetCaseInfo?{query}", headers={**headers, "Captcha-Token": token}
        )
        try:
            with urllib.request.urlopen(ask, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        time.sleep(self.seconds)
        return {
            "client_id": target["client_id"],
            "nationality_code": target["nat_code"],
            "language": "EN",
            "http_status": status,
            "body": body.decode("utf-8", "replace"),
        }


def _source_check_task(source: str) -> None:
    """Run one source's check as the service runs it (its CLI command, in a child process),
    one at a time per source in the whole pool."""
    from dramatiq.rate_limits import ConcurrentRateLimiter

    from storage.sources import SOURCES

    ctx = _context()
    settings = ctx.settings
    mutex = ConcurrentRateLimiter(
        pool(settings).backend,
        f"check:{source}",
        limit=1,
        ttl=int((settings.crawl_timeout_seconds + 60) * 1000),
    )
    with mutex.acquire(raise_on_failure=False) as acquired:
        if not acquired:
            log.info("%s check: already running on another worker", source)
            return
        _recover(ctx.engine, source)
        command = [sys.executable, "-m", "cli", *SOURCES[source].check_command]
        proc = subprocess.run(
            command,
            env={**os.environ, "DOCKETWATCH_ORG": ""},  # every program's: the deployment's check
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=settings.crawl_timeout_seconds,
            check=False,
        )
        log.info("%s check exited %d", source, proc.returncode)


def _recover(engine: sa.Engine, source: str) -> None:
    """Holding the source's lock in the pool: a run of it still open was left by a worker that
    died mid-check (a FOIA release mid-load likewise)."""
    from storage.runs import fail_interrupted

    with session_scope(engine) as session:
        fail_interrupted(session, "its worker", datetime.now(UTC), source=source)


def run_worker(
    settings: Settings,
    *,
    simulate_s: float | None = None,
    ready: Any = None,
) -> int:
    """Run one worker until SIGTERM or SIGINT: one lookup at a time, with its own browser."""
    import dramatiq

    global _CONTEXT
    p = pool(settings)
    _CONTEXT = WorkerContext(settings, engine_for(settings), simulate_s)
    worker = dramatiq.Worker(p.broker, queues={QUEUE}, worker_threads=1, worker_timeout=500)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    worker.start()
    log.info("worker ready on %s (queue %s)", mask_url(settings.redis_url), QUEUE)
    if ready is not None:
        ready()
    stop.wait()
    log.info("worker stopping: the lookup in hand is finished first")
    worker.stop(timeout=int(settings.crawl_timeout_seconds * 1000))
    p.broker.close()
    return 0
