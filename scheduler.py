"""The docketwatch service: APScheduler jobs, run until Ctrl-C or SIGTERM.

Today the service upgrades the database, loads reference data, and runs the heartbeat and the
alert dispatcher (and the acknowledgement web endpoint when ``web_listen`` is set); the source
crawls join the schedule as they land. Each job logs what it did. SIGINT and SIGTERM stop the
scheduler after the running job finishes, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.dispatch import Dispatcher
from monitor.web import make_server, parse_listen, serve_in_thread
from storage.db import make_engine, session_scope, upgrade
from storage.errors import ConfigError
from storage.models import Heartbeat
from storage.people import count_active_clients
from storage.reference_data import load_reference_data
from storage.settings import Settings, mask_url

log = logging.getLogger("docketwatch.scheduler")


def heartbeat(engine: sa.Engine, now: datetime | None = None) -> str:
    """Record that the service is alive, with a one-line summary of what it watches."""
    stamp = now or datetime.now(UTC)
    with session_scope(engine) as session:
        clients = count_active_clients(session)
        detail = f"{clients} active clients"
        row = session.get(Heartbeat, "scheduler")
        if row is None:
            row = Heartbeat(component="scheduler", beat_at=stamp, detail=detail)
        row.beat_at, row.detail = stamp, detail
        session.add(row)
    log.info("heartbeat: %s", detail)
    return detail


def serve(settings: Settings, *, once: bool = False) -> int:
    """Run the service until a stop signal (or one pass with ``once``); return the exit code."""
    engine = make_engine(settings.database_url)
    log.info("docketwatch starting; database %s", mask_url(settings.database_url))
    upgrade(engine)
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

    web = None
    if settings.web_listen:
        host, port = parse_listen(settings.web_listen)
        secret = settings.ack_secret.get_secret_value() if settings.ack_secret else ""
        if not secret:
            raise ConfigError("web_listen is set but ack_secret is not")
        web = make_server(engine, secret, host, port)
        serve_in_thread(web)
        log.info("web endpoint listening on %s:%d", host, port)

    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler = BackgroundScheduler(timezone=settings.timezone)
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=settings.heartbeat_seconds,
        args=[engine],
        id="heartbeat",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        dispatcher.run_once,
        "interval",
        seconds=settings.dispatch_seconds,
        id="dispatch",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    log.info(
        "docketwatch running (heartbeat every %.0f s); Ctrl-C or SIGTERM stops it",
        settings.heartbeat_seconds,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        if web is not None:
            web.shutdown()
            web.server_close()
        engine.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("docketwatch stopped")
    return 0
