"""``docketwatch doctor``: what an admin runs when something is off.

Each check says ok, warn or fail, with what it saw and what to do. Nothing is changed: the
doctor only looks (files' modes, the database, the browser, the channels' last deliveries, the
scheduler's heartbeat, the free disk for a FOIA load).
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from storage.db import engine_for, head_revision
from storage.models import Delivery, DeliveryAttempt, Heartbeat, Staff, StaffChannel
from storage.secrets import SecretsKeyError, keyring_of
from storage.settings import Settings, config_file_path, mask_channel, mask_url

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    detail: str


def _mode_finding(what: str, path: Path) -> Finding | None:
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Finding(
            what,
            FAIL,
            f"{path} is mode {mode:o}: other users can read it (client data or secrets); "
            f"run `chmod 600 {path}`",
        )
    return Finding(what, OK, f"{path} is mode {mode:o} (owner only)")


def _files(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db = Path(str(url.database))
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            finding = _mode_finding("database file", path)
            if finding is not None:
                found.append(finding)
    config = _mode_finding("settings file", config_file_path())
    if config is not None:
        found.append(config)
    return found


def _database(settings: Settings) -> tuple[list[Finding], sa.Engine | None]:
    engine = engine_for(settings)
    where = mask_url(settings.database_url)
    try:
        with engine.connect() as conn:
            has = sa.inspect(conn).has_table("alembic_version")
            rev = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                if has
                else None
            )
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc) or exc).splitlines()[0][:200]
        return [Finding("database", FAIL, f"{where}: not reachable ({reason})")], None
    if rev != head_revision():
        return [
            Finding(
                "database",
                FAIL,
                f"{where}: schema {rev or 'never created'}, this version needs {head_revision()}; "
                "run `docketwatch init`",
            )
        ], engine
    return [Finding("database", OK, f"{where}: reachable, schema {rev}")], engine


def _secrets_key(settings: Settings, engine: sa.Engine) -> Finding:
    """The key that seals the channels' URLs: present, owner-only, and the one they were sealed
    with (each stored URL is opened, none is shown)."""
    keyring = keyring_of(engine.dialect)
    path = keyring.path
    with engine.connect() as conn:
        sealed = [row[0] for row in conn.execute(sa.text("SELECT url FROM staff_channel"))]
        sealed += [row[0] for row in conn.execute(sa.text("SELECT phone FROM reminder_contact"))]
    if not keyring.exists():
        if sealed:
            return Finding(
                "secrets key",
                FAIL,
                f"{path} is missing: {len(sealed)} sealed value(s) "
                "cannot be opened; restore it from your backup, or set "
                "secrets_key_file to where it is",
            )
        return Finding("secrets key", OK, f"{path} will be made with the first channel")
    mode = _mode_finding("secrets key", path)
    if mode is not None and mode.status != OK:
        return mode
    try:
        for url in sealed:
            keyring.open(url)
    except SecretsKeyError as exc:
        return Finding("secrets key", FAIL, str(exc))
    return Finding(
        "secrets key",
        OK,
        f"{path} (owner only) opens all {len(sealed)} sealed "
        "channel URL(s) and client phone number(s)",
    )


def _browser(settings: Settings) -> list[Finding]:
    exe = Path(settings.browser_executable)
    if exe.is_file() and os.access(exe, os.X_OK):
        found = [Finding("browser", OK, f"{exe}")]
    else:
        found = [
            Finding(
                "browser",
                FAIL,
                f"{exe} is missing: the ACIS and detainee locator checks cannot run "
                "(install Debian's chromium: `./setup.sh`, or set browser_executable)",
            )
        ]
    shell = Path(settings.browser_headless_executable)
    if shell.is_file() and os.access(shell, os.X_OK):
        found.append(Finding("headless browser", OK, f"{shell}"))
    else:
        found.append(
            Finding(
                "headless browser",
                WARN,
                f"{shell} is missing: headless lookups run the whole browser, about three times "
                "the CPU (install Debian's chromium-headless-shell: `./setup.sh`)",
            )
        )
    if settings.browser_headed and not shutil.which("xvfb-run"):
        found.append(
            Finding("virtual display", FAIL, "browser_headed is set but xvfb-run is missing")
        )
    return found


def _heartbeat(session: Session, settings: Settings, now: datetime) -> Finding:
    beat = session.get(Heartbeat, "scheduler")
    limit = timedelta(seconds=max(3 * settings.heartbeat_seconds, 180))
    if beat is None:
        return Finding("scheduler", WARN, "has never run on this database (`docketwatch run`)")
    at = beat.beat_at if beat.beat_at.tzinfo else beat.beat_at.replace(tzinfo=UTC)
    age = (now - at).total_seconds()
    if now - at > limit:
        return Finding("scheduler", FAIL, f"last heartbeat {age:.0f} s ago: stalled or stopped")
    return Finding("scheduler", OK, f"last heartbeat {age:.0f} s ago")


def _channels(session: Session) -> list[Finding]:
    found = []
    rows = session.exec(
        select(StaffChannel, Staff)
        .join(Staff, col(Staff.id) == StaffChannel.staff_id)
        .where(col(StaffChannel.active))
        .order_by(col(Staff.email), col(StaffChannel.id))
    ).all()
    for channel, staff in rows:
        last = session.exec(
            select(DeliveryAttempt)
            .join(Delivery, col(Delivery.id) == DeliveryAttempt.delivery_id)
            .where(Delivery.channel_id == channel.id)
            .order_by(col(DeliveryAttempt.id).desc())
            .limit(1)
        ).first()
        name = f"channel {staff.email} {mask_channel(channel.url)}"
        if last is None:
            found.append(Finding(name, WARN, "nothing sent yet (`docketwatch alerts test EMAIL`)"))
        elif channel.failing or not last.ok:
            found.append(
                Finding(
                    name,
                    FAIL,
                    f"last try {last.attempted_at:%Y-%m-%d %H:%M} UTC failed: "
                    f"{mask_channel(last.error)[:200]}",
                )
            )
        else:
            found.append(
                Finding(name, OK, f"last delivered {last.attempted_at:%Y-%m-%d %H:%M} UTC")
            )
    if not rows:
        found.append(Finding("channels", WARN, "no staff channel: nobody would be alerted"))
    return found


def _reminders(session: Session, settings: Settings) -> list[Finding]:
    """Client reminders: off, or set up so that a reminder can go and a STOP can be heard."""
    from sqlmodel import select

    from monitor.reminders import not_ready, switched_on
    from storage.errors import ValidationError
    from storage.models import ReminderContact

    if settings.reminder_gateway_url is None:
        return [Finding("reminders", OK, "off (reminder_gateway_url is not set)")]
    found = []
    unready = not_ready(settings)
    if unready is not None:
        found.append(Finding("reminders", FAIL, f"{unready}: no reminder is sent"))
    try:
        on = switched_on(session, settings)
    except ValidationError as exc:
        return [*found, Finding("reminders", FAIL, f"the reminder texts: {exc}")]
    if not on:
        found.append(
            Finding(
                "reminder languages",
                WARN,
                "none is switched on: review one "
                "(docketwatch reminders languages --review CODE --by NAME)",
            )
        )
    consents = session.exec(
        select(ReminderContact.language).where(ReminderContact.consent == True)  # noqa: E712
    ).all()
    off = [code for code in consents if code not in on]
    if off:
        found.append(
            Finding(
                "reminder consents",
                WARN,
                f"{len(off)} client(s) consented in a "
                "language "
                f"switched off ({', '.join(sorted(set(off)))}): their reminders go "
                "to their attorneys instead",
            )
        )
    if not settings.web_base_url:
        found.append(
            Finding(
                "reminder replies",
                WARN,
                "web_base_url is not set: the gateway's "
                "replies "
                "(STOP) cannot be checked against the address it calls",
            )
        )
    if not found:
        found.append(
            Finding(
                "reminders",
                OK,
                f"on: {len(consents)} client(s) with consent; languages {', '.join(on)}",
            )
        )
    return found


def _pool(settings: Settings) -> Finding:
    """The workers' Redis, when there is a pool: reachable, and how many tasks wait in it."""
    if not settings.redis_url:
        return Finding("pool", OK, "off (redis_url is not set: one process does everything)")
    import redis

    from storage.settings import POOL_NAMESPACE, POOL_QUEUE, mask_url

    where = mask_url(settings.redis_url)
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        waiting = int(client.llen(f"{POOL_NAMESPACE}:{POOL_QUEUE}"))
        client.close()
    except (redis.RedisError, ValueError) as exc:
        return Finding(
            "pool",
            FAIL,
            f"{where}: not reachable ({str(exc)[:200]}): no lookup "
            "is queued or made; start Redis, or unset redis_url",
        )
    return Finding("pool", OK, f"{where}: reachable, {waiting} task(s) waiting for a worker")


def _backups(settings: Settings, now: datetime) -> Finding:
    """The newest nightly backup's age (the secrets key is kept apart: not checked here)."""
    if settings.backup_dir is None:
        return Finding(
            "backups",
            WARN,
            "no nightly backup (backup_dir is not set); take them with `docketwatch backup FILE`",
        )
    newest = max(settings.backup_dir.glob("docketwatch-*.tar"), default=None, key=os.path.getmtime)
    if newest is None:
        return Finding("backups", WARN, f"none yet in {settings.backup_dir}")
    age = now - datetime.fromtimestamp(newest.stat().st_mtime, UTC)
    status = OK if age <= timedelta(hours=36) else FAIL
    hours = age.total_seconds() / 3600
    return Finding(
        "backups",
        status,
        f"newest {newest.name}, {hours:.0f} h old (keeping {settings.backup_keep})"
        + ("" if status == OK else ": the nightly backup has stopped; see the service's log"),
    )


def _retention(settings: Settings) -> Finding:
    return Finding(
        "retention",
        OK,
        f"raw answers kept {settings.raw_answer_days} days (each client's newest always); a "
        f"closed or deactivated client's personal data {settings.closed_client_days} days, "
        "then erased each night",
    )


def _metrics(settings: Settings) -> Finding:
    """Whether Prometheus can read /metrics (the web app must serve it)."""
    if not settings.web_listen:
        return Finding("metrics", OK, "off (web_listen is not set: no web app, no /metrics)")
    import urllib.error
    import urllib.request

    host, _, port = settings.web_listen.rpartition(":")
    host = host.strip("[]")
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    request = urllib.request.Request(f"http://{host}:{port}/metrics")
    if settings.metrics_token is not None:
        token = settings.metrics_token.get_secret_value()
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            ok = answer.status == 200 and b"docketwatch_" in answer.read()
    except (urllib.error.URLError, OSError) as exc:
        return Finding("metrics", FAIL, f"/metrics on {host}:{port} did not answer: {exc}")
    if not ok:
        return Finding("metrics", FAIL, f"/metrics on {host}:{port} answered without metrics")
    return Finding("metrics", OK, f"/metrics on {host}:{port} answers")


def _disk(settings: Settings) -> Finding:
    probe = settings.data_dir if settings.data_dir.exists() else Path.cwd()
    free = shutil.disk_usage(probe).free
    if free < 8 << 30:  # a national release: its zip (5-6 GB) and 2 GB of pieces
        return Finding(
            "disk",
            WARN,
            f"{free / 2**30:.1f} GB free at {probe}: a national FOIA release needs about 8 GB",
        )
    return Finding("disk", OK, f"{free / 2**30:.1f} GB free at {probe}")


def examine(settings: Settings, now: datetime | None = None) -> list[Finding]:
    """Every check, in the order an admin reads them."""
    now = now or datetime.now(UTC)
    findings = _files(settings)
    db_findings, engine = _database(settings)
    findings += db_findings
    findings += _browser(settings)
    if engine is not None:
        try:
            key = _secrets_key(settings, engine)
            findings.append(key)
            with Session(engine) as session:
                findings.append(_heartbeat(session, settings, now))
                if key.status != FAIL:  # else the channels cannot be read
                    findings += _channels(session)
                findings += _reminders(session, settings)
        except sa.exc.SQLAlchemyError as exc:
            findings.append(
                Finding("database", FAIL, f"cannot be read: {str(exc).splitlines()[0][:200]}")
            )
        finally:
            engine.dispose()
    findings.append(_pool(settings))
    findings.append(_backups(settings, now))
    findings.append(_retention(settings))
    findings.append(_metrics(settings))
    findings.append(_disk(settings))
    return findings
