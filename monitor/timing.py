"""The outbox's pure time rules, shared by the dispatcher and the delivery kinds: the back-off
between attempts, and when a quiet window (a staff member's, a client's) ends."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.settings import Settings


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait before the next attempt: doubling from ``delivery_backoff_seconds``, at most
    ``delivery_backoff_max_seconds``."""
    seconds = settings.delivery_backoff_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.delivery_backoff_max_seconds))


def quiet_until(now: datetime, start: time | None, end: time | None, zone: str) -> datetime | None:
    """When the quiet window containing ``now`` ends (aware UTC), or None outside any window."""
    if start is None or end is None:
        return None
    local = now.astimezone(ZoneInfo(zone))
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # wraps midnight, e.g. 21:00-07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    end_local = datetime.combine(end_day, end, tzinfo=ZoneInfo(zone))
    return end_local.astimezone(UTC)


def digest_cutoff(now: datetime, digest_hour: int, zone: str) -> datetime:
    """The latest digest time at or before ``now`` (``digest_hour`` local), in UTC."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    cutoff = datetime.combine(local.date(), time(digest_hour), tzinfo=tz)
    if cutoff > local:
        cutoff -= timedelta(days=1)
    return cutoff.astimezone(UTC)
