"""The service's commands at the top level: init, config, run, status, health, demo, the
polling budget's plan, nationalities."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    CsvOpt,
    JsonOpt,
    emit_records,
    fail,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    print_table,
)
from cli.groups import help_of

app = group("The service's commands")  # its commands are added to the top level
schedule_app = group(help_of("schedule"))


@app.command()
@handles_errors
def init() -> None:
    """Create the database or upgrade it to this version's schema, and load reference data
    (EOIR nationality codes, Southern California courts and hearing locations, Adelanto and
    Desert View facilities). Safe to run again."""
    from storage.db import current_revision
    from storage.reference_data import load_reference_data

    with open_engine(migrate=True) as engine:
        counts = load_reference_data(engine)
        out.print(
            f"database ready at schema {current_revision(engine)}: "
            f"{counts.nationalities} nationalities, {counts.courts} courts, "
            f"{counts.hearing_locations} hearing locations, {counts.facilities} facilities"
        )


@app.command()
@handles_errors
def config(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective settings (passwords masked) and where each can be set.

    Settings come from DOCKETWATCH_* environment variables (and DATABASE_URL), then
    docketwatch.toml (path in DOCKETWATCH_CONFIG), then defaults."""
    from storage.settings import config_file_path, field_help

    settings = get_settings()
    values = settings.masked()
    if as_json:
        out.print_json(json.dumps(values))
        return
    out.print(f"# effective settings; config file: {config_file_path()}", markup=False)
    for name, text in field_help().items():
        env = "DATABASE_URL" if name == "database_url" else f"DOCKETWATCH_{name.upper()}"
        out.print(f"\n# {text}\n# environment: {env}", markup=False)
        out.print(f"{name} = {json.dumps(values[name])}", markup=False)


@app.command()
@handles_errors
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Run one pass of every job, then exit.")
    ] = False,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="If another scheduler holds the database, wait and take over when it stops "
            "(its machine down: within leader_lease_seconds).",
        ),
    ] = False,
) -> None:
    """Run the service: upgrade the database, then run the scheduled passes until Ctrl-C or
    SIGTERM, which stop it cleanly. One scheduler runs per database; start the others with
    --standby on other machines to take over when it stops."""
    import scheduler

    settings = get_settings()
    raise typer.Exit(scheduler.serve(settings, once=once, standby=standby))


@app.command()
@handles_errors
def worker(
    simulate_browser: Annotated[
        float | None,
        typer.Option(
            "--simulate-browser",
            metavar="SECONDS",
            help="For benchmarks against the sandbox only: no Chromium; call the replica's API "
            "directly and wait SECONDS as a browser would.",
        ),
    ] = None,
) -> None:
    """Run a pool worker (needs redis_url): take ACIS lookups and source checks the scheduler
    queued in Redis, one at a time, with this worker's own Chromium, within the pool's shared
    budget (pool_lookups_per_minute). Start any number, on any machine that reaches the
    database and Redis; SIGTERM finishes the lookup in hand, then stops. A worker killed
    mid-lookup loses nothing: its lookup goes to another after worker_heartbeat_seconds."""
    from checks.pool import run_worker
    from storage.errors import ConfigError

    settings = get_settings()
    if not settings.redis_url:
        raise ConfigError("set redis_url (redis://host:6379/0) to run a pool worker")
    if simulate_browser is not None and simulate_browser < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--simulate-browser")
    from storage.logs import setup_logging

    setup_logging(settings.log_level, fmt=settings.log_format)
    raise typer.Exit(
        run_worker(
            settings,
            simulate_s=simulate_browser,
            ready=lambda: out.print("worker ready (SIGTERM stops it after the lookup in hand)"),
        )
    )


@app.command()
@handles_errors
def web() -> None:
    """Serve the web app alone (web_listen, ack_secret) until Ctrl-C or SIGTERM; `docketwatch
    run` serves it too when web_listen is set. Staff sign in with the password set by
    `docketwatch staff password EMAIL`."""
    from storage.errors import ConfigError
    from web.server import parse_listen
    from web.workers import serve

    settings = get_settings()
    if not settings.web_listen:
        raise ConfigError("set web_listen (host:port) to serve the web app")
    host, port = parse_listen(settings.web_listen)
    import signal
    import threading

    stop = threading.Event()
    with open_engine() as engine:
        previous = {
            s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)
        }
        server = None
        try:
            server = serve(engine, settings, host, port)
            out.print(f"web app on http://{host}:{port} (Ctrl-C stops it)")
            stop.wait()
        finally:
            if server is not None:
                server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    out.print("stopped")


@app.command("backup")
@handles_errors
def backup_command(
    path: Annotated[
        Path, typer.Argument(help="The file to write (a tar: the data and its manifest).")
    ],
) -> None:
    """Take a consistent copy of the database while the service runs (SQLite's online backup;
    PostgreSQL's pg_dump on one snapshot), with a manifest: schema version, rows per table,
    checksum. The secrets key is not in it: keep the key apart (README, "Operating it")."""
    from storage.backup import backup

    with open_engine() as engine:
        manifest = backup(engine, path)
    rows = sum(manifest.counts.values())
    out.print(
        f"backup written: {path} ({manifest.dialect}, schema {manifest.schema_revision}, "
        f"{rows} rows in {len(manifest.counts)} tables, sha256 {manifest.sha256[:12]}...)"
    )
    out.print("the secrets key is not in it: keep a copy of the key apart from the backups")


@app.command("restore")
@handles_errors
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `docketwatch backup`.")],
) -> None:
    """Fill an empty database (the one the settings name) from a backup, check every table's
    rows and the checksum against its manifest, and bring the schema to this version. Exits 1
    when the secrets key at hand cannot open the restored channel URLs."""
    from storage.backup import restore
    from storage.db import engine_for

    settings = get_settings()
    engine = engine_for(settings)
    try:
        done = restore(engine, path)
    finally:
        engine.dispose()
    rows = sum(done.manifest.counts.values())
    out.print(f"restored {rows} rows from {path} (taken {done.manifest.created_at}); counts match")
    for note in done.notes:
        out.print(note)
    if done.unopened:
        which = "none" if done.unopened == done.sealed else f"{done.sealed - done.unopened}"
        out.print(
            f"the secrets key at hand opens {which} of the {done.sealed} sealed values "
            "(channel URLs, phone numbers): put the key this database was backed up with at "
            "secrets_key_file, or add every channel again"
        )
        raise typer.Exit(1)


@app.command("nationalities")
def list_nationalities(
    search: Annotated[str, typer.Argument(help="Part of a name or code to look for.")] = "",
) -> None:
    """List EOIR nationality codes (these are not ISO codes: Honduras is HO, China CH)."""
    from storage.identifiers import nationalities

    needle = search.strip().upper()
    rows = [
        (nat.code, nat.name, "yes" if nat.active else "no")
        for nat in sorted(nationalities().values(), key=lambda n: n.name)
        if not needle or needle in nat.name.upper() or needle == nat.code
    ]
    print_table(["code", "name", "active"], rows)


@app.command("status")
@handles_errors
def status(
    as_json: JsonOpt = False,
) -> None:
    """Each source's last run, outcome and freshness, the next scheduled runs, the scheduler's
    heartbeat and the deliveries still pending."""
    from datetime import UTC, datetime

    import scheduler as sched
    from monitor.route import pending_count
    from monitor.views import age, source_lines
    from storage.models import Heartbeat, ServiceLock
    from storage.roster_sync import status_record
    from storage.tenancy import only_organization, scope_of

    settings = get_settings()
    now = datetime.now(UTC)
    with open_engine() as engine, open_session(engine) as session:
        records = [line.record(now) for line in source_lines(session, settings, now, 1)]
        beat = session.get(Heartbeat, "scheduler")
        lock = session.get(ServiceLock, sched.LOCK)
        pending = pending_count(session)
        org = scope_of(session) or only_organization(session)
        roster = status_record(session, org) if org is not None else None
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "sources": records,
                    "scheduler_heartbeat": beat.beat_at.isoformat() if beat else None,
                    "scheduler": f"pid {lock.pid} on {lock.host}" if lock else None,
                    "pending_deliveries": pending,
                    "roster_sync": roster,
                },
                indent=2,
            )
            + "\n"
        )
        return
    emit_records(records, False, False, title="sources")
    running = f"running as pid {lock.pid} on {lock.host}" if lock else "not running"
    out.print(f"scheduler: {running}; heartbeat {age(beat.beat_at if beat else None, now)}")
    out.print(f"pending deliveries: {pending} (`docketwatch alerts pending`)")
    if roster is not None:
        out.print(
            f"roster sync: {roster['source']}, every {roster['every'] or '-'}"
            + (" FAILING" if roster["failing"] else "")
            + f"; last {roster['last_sync'] or 'never'}: {roster['outcome'] or '-'}"
            + (f" ({roster['message']})" if roster["message"] else "")
        )


@app.command("health")
@handles_errors
def health(
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 when the scheduler has stalled (for cron/systemd)."),
    ] = False,
) -> None:
    """Is the service alive? Reads the scheduler's heartbeat from the database, independently of
    the scheduler; with --check, exits non-zero when it is missing or too old."""
    from datetime import UTC, datetime, timedelta

    from sqlmodel import select

    from monitor.views import age
    from storage.models import Heartbeat

    settings = get_settings()
    now = datetime.now(UTC)
    limit = timedelta(seconds=max(3 * settings.heartbeat_seconds, 180))
    with open_engine() as engine, open_session(engine) as session:
        beats = {b.component: b for b in session.exec(select(Heartbeat))}
    beat = beats.get("scheduler")
    for name, b in sorted(beats.items()):
        out.print(f"{name}: {age(b.beat_at, now)} ({b.detail[:120]})", markup=False)
    if beat is None or now - beat.beat_at > limit:
        message = (
            "the scheduler has never run on this database"
            if beat is None
            else f"the scheduler has stalled: last heartbeat {age(beat.beat_at, now)} "
            f"(limit {limit.total_seconds():.0f} s)"
        )
        if check:
            raise fail(message, code=1)
        out.print(f"UNHEALTHY: {message}")
        return
    out.print("OK: the scheduler is alive")


@schedule_app.command("plan")
@handles_errors
def schedule_plan(
    source: Annotated[
        str, typer.Option(help="A browser source: acis or detainee_locator.")
    ] = "acis",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Who the polling budget checks next on a browser source, in order, with the tier
    (daily, every 3 days, weekly) and the reason; the first --limit rows."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from monitor.planner import MIN_RATIO, in_browser_hours, load_states, rank
    from monitor.views import age
    from storage.errors import ValidationError
    from storage.sources import browser_sources

    if source == "locator":  # the name it had before the sources were named alike
        source = "detainee_locator"
    if source not in browser_sources():
        known = " or ".join(browser_sources())
        raise ValidationError(f"--source must be {known}, not {source!r}")
    settings = get_settings()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    with open_engine() as engine, open_session(engine) as session:
        ranked = rank(load_states(session, source, now), now, today)
    per_hour = settings.browser_lookups_per_hour
    records = []
    for i, p in enumerate(ranked[:limit]):
        due = p.ratio >= MIN_RATIO
        records.append(
            {
                "order": i + 1,
                "client": p.state.label,
                "tier": {1: "daily", 3: "every 3 days", 7: "weekly"}[p.interval.days],
                "reason": p.reason,
                "last_checked": age(p.state.last_checked, now),
                "due": "now"
                if due
                else (p.due_at.isoformat(timespec="minutes") if p.due_at else ""),
                "batch": (i // per_hour + 1) if due and per_hour else "",
            }
        )
    hours = (
        "inside" if in_browser_hours(settings.browser_hours, now, settings.timezone) else "outside"
    )
    emit_records(
        records,
        as_json,
        as_csv,
        title=f"{source} plan: {per_hour} lookups/hour, hours {settings.browser_hours} "
        f"(now {hours}); batch 1 is the next run",
    )


@app.command("demo")
@handles_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo's database and mailbox (replaced).")
    ] = Path("demo"),
) -> None:
    """Run docketwatch end to end against local replicas of every source: seed a demo
    organization, sync its roster from a LegalServer replica, run a cycle, change the world (a
    hearing moved earlier, a transfer out of Adelanto, a new FOIA release, a court closure), run
    again, and show the alerts delivered and the case note written back."""
    from cli.demo import run_demo
    from storage.logs import setup_logging

    setup_logging("WARNING")
    result = run_demo(folder, say=lambda line: out.print(line, markup=False))
    out.print("-- what happened")
    for kind, n in sorted(result.events.items()):
        out.print(f"  {n} {kind}")
    out.print("-- alerts delivered (by email to the local mailbox)")
    for who, n in sorted(result.sent.items()):
        out.print(f"  {who}: {n}")
    out.print(f"-- case notes written on LegalServer matters: {len(result.case_notes)}")
    out.print(
        f"Read them: the mailbox folder {result.mailbox}/new (one file per message), or\n"
        f"  DATABASE_URL={result.database_url} docketwatch alerts log\n"
        f"  DATABASE_URL={result.database_url} docketwatch caseload unrepresented --new",
        markup=False,
    )


@app.command("doctor")
@handles_errors
def doctor(as_json: JsonOpt = False) -> None:
    """What to look at when something is off: files' permissions, the database, the browser,
    the scheduler's heartbeat, each alert channel's last delivery, free disk. Changes nothing;
    exits 1 when any check fails."""
    from monitor.doctor import FAIL, examine

    findings = examine(get_settings())
    records = [{"check": f.check, "status": f.status, "detail": f.detail} for f in findings]
    emit_records(records, as_json, False, title="docketwatch doctor")
    if any(f.status == FAIL for f in findings):
        raise typer.Exit(1)
