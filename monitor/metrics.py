"""Prometheus metrics, read from the database at each scrape (``/metrics`` on the web app).

Every process of docketwatch (the scheduler, the check processes, the pool's workers, the web
workers) writes what it does to the one database; so the metrics are counted there, by a
collector of the official client library, and are the same whichever web worker answers and
however many processes ran the work. No label carries an A-number, a name or an address: the
labels are sources, outcomes, delivery kinds and statuses, and programs' short names.

- ``docketwatch_source_runs_total{source,outcome}``, and
  ``docketwatch_source_last_success_timestamp_seconds{source}``;
- ``docketwatch_browser_lookups_total{source,outcome}``, and
  ``docketwatch_browser_lookups_this_hour{source}`` beside ``docketwatch_browser_budget_per_hour``;
- ``docketwatch_outbox_deliveries{kind,status}`` (pending, held, uncertain, failed, sent ...), and
  ``docketwatch_delivery_latency_seconds``, a histogram from an alert's event to its delivery;
- ``docketwatch_scheduler_heartbeat_age_seconds``, ``docketwatch_pool_queue_depth`` (with a pool),
  ``docketwatch_clients_watched{program}``, ``docketwatch_foia_release_age_seconds`` and
  ``docketwatch_foia_release_info{as_of}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.models import (
    AcisLookup,
    Client,
    CrawlRun,
    CustodyLookup,
    Delivery,
    Event,
    FoiaRelease,
    Heartbeat,
    Organization,
    StaffChannel,
)
from storage.settings import Settings

#: the delivery latency histogram's upper bounds, in seconds (an alert should go within minutes)
LATENCY_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 21600.0, 86400.0)
BROWSER_TABLES = {"acis": AcisLookup, "detainee_locator": CustodyLookup}


def _c(model: Any) -> Any:
    """A table's columns, for SQLAlchemy Core queries."""
    return model.__table__.c


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


class DatabaseCollector:
    """A ``prometheus_client`` collector over the database (see the module's docstring)."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
        queue_depth: Callable[[], int | None] | None = None,
    ) -> None:
        self.engine, self.settings = engine, settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.queue_depth = queue_depth

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        now = self.clock()
        with self.engine.connect() as conn:
            runs = CounterMetricFamily(
                "docketwatch_source_runs",
                "Checks of each source, by how they ended.",
                labels=["source", "outcome"],
            )
            rows = conn.execute(
                sa.select(_c(CrawlRun).source, _c(CrawlRun).outcome, sa.func.count()).group_by(
                    _c(CrawlRun).source, _c(CrawlRun).outcome
                )
            )
            for source, outcome, n in rows:
                runs.add_metric([source, outcome], n)
            yield runs

            last_ok = GaugeMetricFamily(
                "docketwatch_source_last_success_timestamp_seconds",
                "When each source's last successful check finished (Unix time).",
                labels=["source"],
            )
            rows = conn.execute(
                sa.select(_c(CrawlRun).source, sa.func.max(_c(CrawlRun).finished_at))
                .where(_c(CrawlRun).outcome == "ok")
                .group_by(_c(CrawlRun).source)
            )
            for source, finished in rows:
                if finished is not None:
                    last_ok.add_metric([source], _epoch(finished))
            yield last_ok

            from storage.sources import SOURCES

            intervals = GaugeMetricFamily(
                "docketwatch_source_interval_seconds",
                "How often each polled source is checked (its setting).",
                labels=["source"],
            )
            for source in self.settings.sources:
                if source in SOURCES:
                    seconds = SOURCES[source].interval(self.settings).total_seconds()
                    intervals.add_metric([source], seconds)
            yield intervals

            yield from self._browser(conn, now)
            yield from self._outbox(conn)

            beat = GaugeMetricFamily(
                "docketwatch_scheduler_heartbeat_age_seconds",
                "Seconds since the scheduler's last heartbeat (grows when it stalls).",
            )
            at = conn.execute(
                sa.select(_c(Heartbeat).beat_at).where(_c(Heartbeat).component == "scheduler")
            ).scalar()
            if at is not None:
                beat.add_metric([], max(0.0, now.timestamp() - _epoch(at)))
            yield beat

            watched = GaugeMetricFamily(
                "docketwatch_clients_watched", "Active clients, by program.", labels=["program"]
            )
            rows = conn.execute(
                sa.select(_c(Organization).slug, sa.func.count(_c(Client).id))
                .join(Client, _c(Client).organization_id == _c(Organization).id, isouter=True)
                .where(sa.or_(_c(Client).active.is_(True), _c(Client).id.is_(None)))
                .group_by(_c(Organization).slug)
            )
            for slug, n in rows:
                watched.add_metric([slug], n)
            yield watched

            failing = GaugeMetricFamily(
                "docketwatch_channels_failing",
                "Staff alert channels that gave up on a delivery (admins were told).",
            )
            n = conn.execute(
                sa.select(sa.func.count()).where(_c(StaffChannel).failing.is_(True))
            ).scalar()
            failing.add_metric([], n or 0)
            yield failing

            yield from self._foia(conn, now)
        queue = GaugeMetricFamily(
            "docketwatch_pool_queue_depth",
            "Lookups waiting in the worker pool's queue (no sample without a pool).",
        )
        depth = self.queue_depth() if self.queue_depth is not None else None
        if depth is not None:
            queue.add_metric([], depth)
        yield queue

    def _browser(self, conn: sa.Connection, now: datetime) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        total = CounterMetricFamily(
            "docketwatch_browser_lookups",
            "Browser lookups of each source, by outcome.",
            labels=["source", "outcome"],
        )
        hour = GaugeMetricFamily(
            "docketwatch_browser_lookups_this_hour",
            "Browser lookups of each source in the last hour (the budget is per hour).",
            labels=["source"],
        )
        for source, table in BROWSER_TABLES.items():
            rows = conn.execute(
                sa.select(_c(table).outcome, sa.func.count()).group_by(_c(table).outcome)
            )
            for outcome, n in rows:
                total.add_metric([source, outcome], n)
            recent = conn.execute(
                sa.select(sa.func.count()).where(_c(table).observed_at >= now - timedelta(hours=1))
            ).scalar()
            hour.add_metric([source], recent or 0)
        budget = GaugeMetricFamily(
            "docketwatch_browser_budget_per_hour",
            "Browser lookups allowed per hour and source (browser_lookups_per_hour).",
        )
        budget.add_metric([], self.settings.browser_lookups_per_hour)
        yield from (total, hour, budget)

    def _outbox(self, conn: sa.Connection) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        outbox = GaugeMetricFamily(
            "docketwatch_outbox_deliveries",
            "Deliveries in the outbox, by kind and status.",
            labels=["kind", "status"],
        )
        rows = conn.execute(
            sa.select(_c(Delivery).kind, _c(Delivery).status, sa.func.count()).group_by(
                _c(Delivery).kind, _c(Delivery).status
            )
        )
        for kind, status, n in rows:
            outbox.add_metric([kind, status], n)
        yield outbox

        latency: Any = sa.func.cast(
            (sa.func.julianday(_c(Delivery).sent_at) - sa.func.julianday(_c(Event).created_at))
            * 86400.0,
            sa.Float,
        )
        if conn.dialect.name == "postgresql":
            latency = sa.func.extract("epoch", _c(Delivery).sent_at - _c(Event).created_at)
        cases = [sa.func.sum(sa.case((latency <= bound, 1), else_=0)) for bound in LATENCY_BUCKETS]
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(latency), 0.0), *cases)
            .select_from(Delivery)
            .join(Event, _c(Event).id == _c(Delivery).event_id)
            .where(_c(Delivery).sent_at.is_not(None))
        ).one()
        count, total, *within = row
        buckets = [(str(b), float(n or 0)) for b, n in zip(LATENCY_BUCKETS, within, strict=True)]
        buckets.append(("+Inf", float(count)))
        histogram = HistogramMetricFamily(
            "docketwatch_delivery_latency_seconds",
            "Seconds from an alert's event to the delivery's sending.",
        )
        histogram.add_metric([], buckets, sum_value=float(total or 0.0))
        yield histogram

    def _foia(self, conn: sa.Connection, now: datetime) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        release = conn.execute(
            sa.select(_c(FoiaRelease).as_of, _c(FoiaRelease).loaded_at)
            .where(_c(FoiaRelease).status == "loaded")
            .order_by(_c(FoiaRelease).id.desc())
            .limit(1)
        ).first()
        age = GaugeMetricFamily(
            "docketwatch_foia_release_age_seconds",
            "Seconds since the FOIA release in use was loaded.",
        )
        info = GaugeMetricFamily(
            "docketwatch_foia_release_info",
            "The FOIA release in use (1), by the date its figures are counted from.",
            labels=["as_of"],
        )
        if release is not None and release.loaded_at is not None:
            age.add_metric([], max(0.0, now.timestamp() - _epoch(release.loaded_at)))
            info.add_metric([release.as_of.isoformat()], 1)
        yield from (age, info)


def queue_depth(settings: Settings) -> Callable[[], int | None] | None:
    """How many lookups wait in the pool's Redis queue (None when Redis does not answer), or
    None without a pool."""
    if not settings.redis_url:
        return None
    url = settings.redis_url

    def depth() -> int | None:
        import redis

        from storage.settings import POOL_NAMESPACE, POOL_QUEUE

        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            try:
                return int(client.llen(f"{POOL_NAMESPACE}:{POOL_QUEUE}"))
            finally:
                client.close()
        except (redis.RedisError, ValueError):
            return None

    return depth


def exposition(collector: DatabaseCollector) -> bytes:
    """The metrics in Prometheus' text format."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
