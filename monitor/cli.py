"""The ``docketwatch`` command line.

Output for people goes to stdout (tables through rich, or ``--json`` / ``--csv``); the log goes to
stderr, redacted. Errors are one line that says what and where, with exit status 2; a roster
import that rejected rows exits 1.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from storage.errors import DocketwatchError
from storage.identifiers import format_a_number, nationalities, redact_a_number
from storage.logs import setup_logging
from storage.settings import Settings, config_file_path, load_settings

app = typer.Typer(
    help=(
        "docketwatch watches public immigration-court and detention records for your clients "
        "and alerts the right people when something changes."
    ),
    no_args_is_help=True,
    add_completion=False,
)
clients_app = typer.Typer(
    help="The client roster: import, add, list, show, deactivate.", no_args_is_help=True
)
staff_app = typer.Typer(
    help="Staff who receive alerts: add, list, assign to clients.", no_args_is_help=True
)
alerts_app = typer.Typer(
    help="Alerts: send a test, see what is pending, read the delivery log, retry, acknowledge.",
    no_args_is_help=True,
)
events_app = typer.Typer(help="Event kinds and what they mean.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(staff_app, name="staff")
app.add_typer(alerts_app, name="alerts")
acis_app = typer.Typer(
    help="EOIR case status (ACIS): check clients' hearings, refresh with a person's help, "
    "import an answer saved by hand.",
    no_args_is_help=True,
)
sandbox_app = typer.Typer(
    help="Local replicas of the public sources, for trying docketwatch without touching them.",
    no_args_is_help=True,
)
custody_app = typer.Typer(
    help="ICE online detainee locator: check where detained clients are held.",
    no_args_is_help=True,
)
app.add_typer(acis_app, name="acis")
app.add_typer(custody_app, name="custody")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(events_app, name="events")
foia_app = typer.Typer(
    help="EOIR's bulk FOIA case data: check for a new release, load one, see the load reports.",
    no_args_is_help=True,
)
caseload_app = typer.Typer(
    help="Unrepresented caseloads from the FOIA releases, for coordinators (table, --csv, --json).",
    no_args_is_help=True,
)
stats_app = typer.Typer(
    help="ICE detention statistics workbooks: parse one, load some, check ICE's page for new ones.",
    no_args_is_help=True,
)
facilities_app = typer.Typer(
    help="Detention facilities: population series from ICE's statistics.", no_args_is_help=True
)
courts_app = typer.Typer(
    help="EOIR court operational status and the Adelanto judges: check now, list the statuses.",
    no_args_is_help=True,
)
app.add_typer(stats_app, name="stats")
app.add_typer(facilities_app, name="facilities")
app.add_typer(courts_app, name="courts")
app.add_typer(foia_app, name="foia")
app.add_typer(caseload_app, name="caseload")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def handles_errors(func: F) -> F:
    """Turn docketwatch's own errors into one clear line and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DocketwatchError as exc:
            raise _fail(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    settings = load_settings()
    setup_logging(settings.log_level)
    return settings


@contextmanager
def _engine(*, migrate: bool = False) -> Iterator[sa.Engine]:
    from storage.db import make_engine, require_current, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _session(engine: sa.Engine) -> Iterator[Session]:
    from storage.db import session_scope

    with session_scope(engine) as session:
        yield session


def _a(a_number: str, reveal: bool) -> str:
    return format_a_number(a_number) if reveal else redact_a_number(a_number)


# ---------------------------------------------------------------------------------------- service


@app.command()
@handles_errors
def init() -> None:
    """Create the database or upgrade it to this version's schema, and load reference data
    (EOIR nationality codes, Southern California courts and hearing locations, Adelanto and
    Desert View facilities). Safe to run again."""
    from storage.db import current_revision
    from storage.reference_data import load_reference_data

    with _engine(migrate=True) as engine:
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
    from storage.settings import field_help

    settings = _settings()
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
) -> None:
    """Run the service: upgrade the database, then run the scheduled passes until Ctrl-C or
    SIGTERM, which stop it cleanly."""
    import scheduler

    settings = _settings()
    raise typer.Exit(scheduler.serve(settings, once=once))


@app.command("nationalities")
def list_nationalities(
    search: Annotated[str, typer.Argument(help="Part of a name or code to look for.")] = "",
) -> None:
    """List EOIR nationality codes (these are not ISO codes: Honduras is HO, China CH)."""
    table = Table()
    table.add_column("code")
    table.add_column("name")
    table.add_column("active")
    needle = search.strip().upper()
    for nat in sorted(nationalities().values(), key=lambda n: n.name):
        if needle and needle not in nat.name.upper() and needle != nat.code:
            continue
        table.add_row(nat.code, nat.name, "yes" if nat.active else "no")
    out.print(table)


# ---------------------------------------------------------------------------------------- clients

RevealOption = Annotated[
    bool,
    typer.Option("--reveal", help="Show full A-numbers (otherwise only the last four digits)."),
]


@clients_app.command("import")
@handles_errors
def clients_import(
    file: Annotated[Path, typer.Argument(help="Roster export, .csv or .xlsx.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Column for a field the importer does not recognize: FIELD=HEADER, e.g. "
            '--map a_number="Client ID". Repeatable. Fields: a_number, name, family_name, '
            "given_name, nationality, country_of_birth, born_on, status, attorney_email, "
            "backup_attorney_email, notes.",
        ),
    ] = None,
    status: Annotated[
        str, typer.Option(help="Status for rows without a Status column: prospect, represented.")
    ] = "represented",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count everything, store nothing.")
    ] = False,
) -> None:
    """Import (upsert by A-number) a client roster.

    Good rows are stored in one transaction; each rejected row is listed with its line, column
    and reason and written to FILE.rejects.csv beside the input; the exit status is 1 when any
    row was rejected. Importing the same file again changes nothing."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from storage.people import ClientStatus
    from storage.roster import import_roster, parse_mapping

    if status not in ClientStatus.__members__:
        raise _fail(f"--status {status!r} is not prospect, represented or closed")
    columns = parse_mapping(mapping or [])
    with (
        _engine() as engine,
        Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(file.name, total=None)
        report = import_roster(
            engine,
            file,
            mapping=columns,
            default_status=status,
            dry_run=dry_run,
            progress=lambda n: bar.advance(task, n),
        )
    verb = "would be" if dry_run else "were"
    out.print(
        f"{file.name}: header at line {report.header_line}; {report.rows} rows read; "
        f"{report.accepted} accepted ({report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged), {report.duplicates_skipped} identical repeats skipped; "
        f"{len(report.rejects)} rejected."
        + (f" Nothing {verb} stored (dry run)." if dry_run else "")
    )
    if report.rejects:
        table = Table(title=f"rejected rows ({len(report.rejects)})")
        table.add_column("line", justify="right")
        table.add_column("column")
        table.add_column("reason")
        for r in report.rejects:
            table.add_row(str(r.line), r.column, r.reason)
        out.print(table)
        out.print(f"rejected rows written to {report.rejects_path}")
        raise typer.Exit(1)


@clients_app.command("add")
@handles_errors
def clients_add(
    a_number: Annotated[str, typer.Argument(help="A-number, e.g. A-012-345-678.")],
    name: Annotated[str, typer.Option(help="Full name, e.g. 'DOE, JANE'.")],
    nationality: Annotated[str, typer.Option(help="EOIR nationality code or name.")],
    country_of_birth: Annotated[
        str | None, typer.Option(help="EOIR code or name (default: the nationality).")
    ] = None,
    born_on: Annotated[str | None, typer.Option(help="Date of birth, YYYY-MM-DD.")] = None,
    status: Annotated[str, typer.Option(help="prospect, represented or closed.")] = "represented",
    attorney: Annotated[
        str | None, typer.Option(help="Email of the primary attorney (already staff).")
    ] = None,
) -> None:
    """Add one client to the roster (for many, use `clients import`)."""
    from storage.people import add_client, assign
    from storage.roster import parse_date

    with _engine() as engine, _session(engine) as session:
        client = add_client(
            session,
            a_number=a_number,
            name=name,
            nationality=nationality,
            country_of_birth=country_of_birth,
            born_on=parse_date(born_on) if born_on else None,
            status=status,
        )
        if attorney:
            assign(session, client.a_number, attorney, "primary")
        out.print(f"added client {redact_a_number(client.a_number)} ({client.status})")


@clients_app.command("list")
@handles_errors
def clients_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Include deactivated clients.")
    ] = False,
    status: Annotated[
        str | None, typer.Option(help="Only this status: prospect, represented, closed.")
    ] = None,
    reveal: RevealOption = False,
) -> None:
    """List clients with their status, nationality and attorneys."""
    from storage.people import list_clients

    with _engine() as engine, _session(engine) as session:
        rows = list_clients(session, include_inactive=include_inactive, status=status)
        records = [
            {
                "a_number": _a(r.client.a_number, reveal),
                "name": r.client.name,
                "nationality": r.client.nationality_code,
                "country_of_birth": r.client.country_of_birth_code,
                "born_on": r.client.born_on.isoformat() if r.client.born_on else None,
                "status": r.client.status,
                "active": r.client.active,
                "primary_attorney": r.primary,
                "backup_attorney": r.backup,
            }
            for r in rows
        ]
    _emit(records, as_json, as_csv, title=f"clients ({len(records)})")


def _emit(records: list[dict[str, Any]], as_json: bool, as_csv: bool, title: str) -> None:
    if as_json and as_csv:
        raise _fail("choose one of --json and --csv")
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2, default=str) + "\n")
        return
    if as_csv:
        if records:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
        return
    table = Table(title=title)
    for key in records[0] if records else ["(none)"]:
        table.add_column(key)
    for rec in records:
        table.add_row(*("" if v is None else str(v) for v in rec.values()))
    out.print(table)


@clients_app.command("show")
@handles_errors
def clients_show(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reveal: RevealOption = False,
) -> None:
    """Show one client: status, nationality and assigned attorneys."""
    from storage.people import client_details

    with _engine() as engine, _session(engine) as session:
        details = client_details(session, a_number)
    details["a_number"] = _a(details["a_number"], reveal)
    if as_json:
        sys.stdout.write(json.dumps(details, indent=2) + "\n")
        return
    table = Table(show_header=False)
    for key, value in details.items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)


@clients_app.command("deactivate")
@handles_errors
def clients_deactivate(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
) -> None:
    """Stop watching a client (the record and its history are kept)."""
    from storage.people import deactivate_client

    with _engine() as engine, _session(engine) as session:
        client = deactivate_client(session, a_number)
        out.print(f"client {redact_a_number(client.a_number)} deactivated")


# ------------------------------------------------------------------------------------------ staff


@staff_app.command("add")
@handles_errors
def staff_add(
    name: Annotated[str, typer.Option(help="Full name.")],
    email: Annotated[str, typer.Option(help="Email address (also the staff member's key).")],
    role: Annotated[str, typer.Option(help="attorney, coordinator or admin.")],
    language: Annotated[str, typer.Option(help="Alert language: en or es.")] = "en",
    channel: Annotated[
        list[str] | None,
        typer.Option(
            help="Apprise URL to alert on (mailto://..., slack://..., json://...). Repeatable; "
            "checked now."
        ),
    ] = None,
    quiet_hours: Annotated[
        str | None,
        typer.Option(help="Local hours when only urgent alerts go out, e.g. 21:00-07:00."),
    ] = None,
    allow_personal_data: Annotated[
        bool,
        typer.Option(help="Let these channels carry full names and A-numbers (off by default)."),
    ] = False,
    digest: Annotated[
        bool, typer.Option(help="Send non-urgent alerts as one daily digest instead.")
    ] = False,
    min_severity: Annotated[
        str, typer.Option(help="Lowest severity to receive: info, normal or urgent.")
    ] = "info",
    mute: Annotated[
        list[str] | None,
        typer.Option(help="Event kind not to receive (see `events kinds`). Repeatable."),
    ] = None,
) -> None:
    """Add a staff member who receives alerts, with their channels and preferences."""
    from storage.people import add_staff

    with _engine() as engine, _session(engine) as session:
        staff = add_staff(
            session,
            name=name,
            email=email,
            role=role,
            language=language,
            channels=channel or [],
            quiet_hours=quiet_hours,
            allow_personal_data=allow_personal_data,
            digest=digest,
            min_severity=min_severity,
            muted_kinds=mute or [],
        )
        out.print(f"added {staff.role} {staff.email} with {len(channel or [])} channel(s)")


@staff_app.command("list")
@handles_errors
def staff_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List staff and their channels (channel secrets masked)."""
    from storage.people import list_staff
    from storage.settings import mask_channel

    with _engine() as engine, _session(engine) as session:
        records: list[dict[str, Any]] = [
            {
                "name": s.name,
                "email": s.email,
                "role": s.role,
                "language": s.language,
                "quiet_hours": f"{s.quiet_start:%H:%M}-{s.quiet_end:%H:%M}"
                if s.quiet_start and s.quiet_end
                else None,
                "active": s.active,
                "channels": [mask_channel(c.url) for c in chans],
            }
            for s, chans in list_staff(session)
        ]
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    for rec in records:
        rec["channels"] = ", ".join(rec["channels"])
    _emit(records, False, False, title=f"staff ({len(records)})")


@staff_app.command("assign")
@handles_errors
def staff_assign(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    email: Annotated[str, typer.Argument(help="The attorney's email.")],
    role: Annotated[str, typer.Option(help="primary or backup.")] = "primary",
) -> None:
    """Make an attorney the primary or backup attorney of a client."""
    from storage.people import assign

    with _engine() as engine, _session(engine) as session:
        client = assign(session, a_number, email, role)
        out.print(
            f"{email.strip().lower()} is now the {role} attorney of "
            f"{redact_a_number(client.a_number)}"
        )


@staff_app.command("set")
@handles_errors
def staff_set(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    digest: Annotated[
        bool | None, typer.Option("--digest/--no-digest", help="Daily digest for non-urgent.")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option(help="Lowest severity to receive: info, normal or urgent.")
    ] = None,
    mute: Annotated[list[str] | None, typer.Option(help="Event kind to mute. Repeatable.")] = None,
    unmute: Annotated[
        list[str] | None, typer.Option(help="Event kind to receive again. Repeatable.")
    ] = None,
    quiet_hours: Annotated[
        str | None, typer.Option(help="e.g. 21:00-07:00; an empty string removes them.")
    ] = None,
    add_channel: Annotated[
        list[str] | None, typer.Option(help="Apprise URL to add. Repeatable.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="en or es.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Receive alerts at all.")
    ] = None,
    personal_data: Annotated[
        bool | None,
        typer.Option(
            "--personal-data/--no-personal-data",
            help="Let all this person's channels carry full names and A-numbers, or stop it.",
        ),
    ] = None,
) -> None:
    """Change a staff member's alert preferences and channels."""
    from storage.people import update_staff

    with _engine() as engine, _session(engine) as session:
        staff = update_staff(
            session,
            email,
            digest=digest,
            min_severity=min_severity,
            mute=mute or [],
            unmute=unmute or [],
            quiet_hours=quiet_hours,
            add_channels=add_channel or [],
            language=language,
            active=active,
            allow_personal_data=personal_data,
        )
        out.print(f"updated {staff.email}")


# ----------------------------------------------------------------------------------------- events


@events_app.command("kinds")
def events_kinds(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every event kind: severity, who receives it, and what it means."""
    from monitor.events import KINDS

    records = [
        {
            "kind": k.name,
            "severity": k.severity.value,
            "audience": k.audience.value,
            "meaning": k.doc,
        }
        for k in KINDS.values()
    ]
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return
    _emit(records, False, False, title=f"event kinds ({len(records)})")


# ----------------------------------------------------------------------------------------- alerts


@alerts_app.command("test")
@handles_errors
def alerts_test(
    staff: Annotated[str, typer.Argument(help="Email of the staff member to test.")],
) -> None:
    """Send a real test message to each of a staff member's channels; exit 1 if any failed."""
    from monitor.alerts import send_test

    with _engine() as engine, _session(engine) as session:
        outcomes = send_test(session, staff)
    failed = 0
    for outcome in outcomes:
        if outcome.ok:
            out.print(f"sent     {outcome.channel}", markup=False)
        else:
            failed += 1
            out.print(f"FAILED   {outcome.channel}: {outcome.error}", markup=False)
    if failed:
        raise typer.Exit(1)


@alerts_app.command("pending")
@handles_errors
def alerts_pending(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List alerts not yet delivered: pending, held for a digest, in flight, or uncertain."""
    from monitor.alerts import delivery_log

    with _engine() as engine, _session(engine) as session:
        records = []
        for status in ("pending", "held", "sending", "uncertain"):
            records += delivery_log(session, status=status, limit=10_000)
    records.sort(key=lambda r: r["delivery"])
    _emit(records, as_json, False, title=f"undelivered alerts ({len(records)})")


@alerts_app.command("log")
@handles_errors
def alerts_log(
    client: Annotated[str | None, typer.Option(help="Only this client's A-number.")] = None,
    staff: Annotated[str | None, typer.Option(help="Only this staff email.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this event kind.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, held, sending, sent, failed, uncertain."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The delivery log: every alert to every recipient and channel, with its outcome."""
    from monitor.alerts import delivery_log

    with _engine() as engine, _session(engine) as session:
        records = delivery_log(
            session, client=client, staff=staff, kind_name=kind, status=status, limit=limit
        )
    _emit(records, as_json, False, title=f"deliveries ({len(records)})")


@alerts_app.command("retry")
@handles_errors
def alerts_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Delivery IDs (see `alerts log`).")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed or uncertain delivery.")
    ] = False,
) -> None:
    """Queue failed or uncertain deliveries again; the next dispatch sends them."""
    from datetime import UTC, datetime

    from monitor.alerts import retry

    with _engine() as engine, _session(engine) as session:
        count = retry(session, ids or [], all_failed, datetime.now(UTC))
    out.print(f"{count} deliveries queued again")


@alerts_app.command("ack")
@handles_errors
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert number shown in the message.")],
    by: Annotated[str, typer.Option(help="Who acknowledges (name or email).")] = "command line",
) -> None:
    """Acknowledge an alert: stops its escalation to the backup attorney and coordinators."""
    from datetime import UTC, datetime

    from monitor.dispatch import acknowledge

    with _engine() as engine:
        event = acknowledge(engine, alert_id, by, datetime.now(UTC))
    assert event.acknowledged_at is not None
    out.print(
        f"alert #{alert_id} ({event.kind}) acknowledged by {event.acknowledged_by} at "
        f"{event.acknowledged_at.isoformat(timespec='minutes')}"
    )


@alerts_app.command("dispatch")
@handles_errors
def alerts_dispatch() -> None:
    """Send due alerts now (the running service does this on its own every minute)."""
    from monitor.dispatch import Dispatcher

    settings = _settings()
    with _engine() as engine:
        report = Dispatcher(engine, settings).run_once()
    out.print(
        f"{report.sent} sent, {report.failed_attempts} failed attempts, {report.given_up} given "
        f"up, {report.deferred} deferred, {report.uncertain} uncertain, {report.escalated} "
        f"escalated, {report.digests} digests"
    )


# ------------------------------------------------------------------------------------------- acis


def _clients_for(session: Session, a_numbers: list[str]) -> list[Any]:
    from sqlmodel import select

    from storage.models import Client
    from storage.people import get_client

    if a_numbers:
        return [get_client(session, a) for a in a_numbers]
    return list(session.exec(select(Client).where(Client.active == True)))  # noqa: E712


PlannedOpt = Annotated[
    bool,
    typer.Option(
        "--planned",
        help="Only the clients the polling budget picks now (what the service runs hourly).",
    ),
]


@acis_app.command("check")
@handles_errors
def acis_check(
    a_numbers: Annotated[
        list[str] | None, typer.Argument(help="Clients to look up (default: every active one).")
    ] = None,
    dispatch: Annotated[bool, typer.Option(help="Send the resulting alerts right away.")] = True,
    planned: PlannedOpt = False,
) -> None:
    """Look clients up on ACIS now, one at a time in a real browser, and report the outcomes;
    changes become alerts."""
    from monitor.acis_check import run_acis_check

    def after(report: Any) -> None:
        if report.blocked_clients:
            out.print(
                f"{len(report.blocked_clients)} lookups were stopped by a captcha; they are "
                "not retried automatically. See `docketwatch acis blocked` and use "
                "`docketwatch acis refresh A-NUMBER --assist`."
            )

    _run_check(
        "ACIS",
        run_acis_check,
        a_numbers or [],
        dispatch,
        after,
        planned_source="acis" if planned else None,
    )


def _run_check(
    label: str,
    runner: Callable[..., Any],
    a_numbers: list[str],
    dispatch: bool,
    after: Callable[[Any], None] | None = None,
    planned_source: str | None = None,
) -> None:
    """A source check with a progress bar, a table of outcomes, then the alerts it made."""
    from datetime import UTC, datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from monitor.dispatch import Dispatcher

    settings = _settings()
    with _engine() as engine:
        with _session(engine) as session:
            if planned_source is not None:
                from monitor.planner_run import planned_clients

                clients, note = planned_clients(engine, session, settings, planned_source)
                out.print(f"{label}: {note}")
                if not clients:
                    return
            else:
                clients = _clients_for(session, a_numbers)
        if not clients:
            raise _fail("no active clients to check")
        with Progress(
            TextColumn(f"{label} lookups"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(clients))
            report = runner(
                engine,
                settings,
                clients,
                progress=lambda outcome: bar.update(task, advance=1, description=outcome),
            )
        table = Table(title=f"{label} run #{report.run_id}: {report.outcome}")
        table.add_column("outcome")
        table.add_column("lookups", justify="right")
        for outcome, n in sorted(report.outcomes.items()):
            table.add_row(outcome, str(n))
        out.print(table)
        if report.events:
            out.print("events: " + ", ".join(f"{n} {k}" for k, n in sorted(report.events.items())))
        if after is not None:
            after(report)
        if planned_source is not None:
            from monitor.planner import PLAN_SOURCE, mark_done

            with _session(engine) as session:
                mark_done(session, PLAN_SOURCE[planned_source], [c.id for c in clients],
                          datetime.now(UTC))  # fmt: skip
        if report.health:
            out.print(f"source health: {report.health}")
        if dispatch:
            sent = Dispatcher(engine, settings).run_once()
            out.print(f"alerts: {sent.sent} sent, {sent.failed_attempts} failed attempts")


@acis_app.command("blocked")
@handles_errors
def acis_blocked(reveal: RevealOption = False) -> None:
    """Clients whose latest ACIS lookup was stopped by a captcha: candidates for an assisted
    refresh."""
    from sqlmodel import col, select

    from storage.models import AcisLookup, Client

    with _engine() as engine, _session(engine) as session:
        latest: dict[int, AcisLookup] = {}
        for row in session.exec(select(AcisLookup).order_by(col(AcisLookup.id))):
            latest[row.client_id] = row
        rows = []
        for client_id, row in latest.items():
            if row.outcome == "blocked":
                client = session.get(Client, client_id)
                assert client is not None
                rows.append(
                    {
                        "a_number": _a(client.a_number, reveal),
                        "name": client.name,
                        "blocked_at": row.observed_at.isoformat(timespec="minutes"),
                    }
                )
    _emit(rows, False, False, title=f"blocked lookups ({len(rows)})")


@acis_app.command("refresh")
@handles_errors
def acis_refresh(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    assist: Annotated[
        bool,
        typer.Option("--assist", help="Open a visible browser for a person to finish the lookup."),
    ] = False,
    wait: Annotated[float, typer.Option(help="Minutes to wait for the person.")] = 10,
    queue: Annotated[
        bool,
        typer.Option("--queue", help="Ask the service to look this client up first, next batch."),
    ] = False,
) -> None:
    """Refresh one client's ACIS status. With --assist a visible browser opens with everything
    filled in; complete the captcha if one appears, and the answer is stored. With --queue the
    running service checks the client at the front of its next budgeted batch."""
    from monitor.acis_assist import assisted_refresh

    if queue:
        from datetime import UTC, datetime

        from storage.models import CheckRequest
        from storage.people import get_client

        with _engine() as engine, _session(engine) as session:
            client = get_client(session, a_number)
            assert client.id is not None
            session.add(
                CheckRequest(
                    client_id=client.id,
                    source="acis",
                    reason="refresh requested by a person",
                    requested_at=datetime.now(UTC),
                )
            )
        out.print(f"queued: {redact_a_number(client.a_number)} is first in the next ACIS batch")
        return
    if not assist:
        raise _fail(
            "use --assist (a person completes the lookup now), --queue (the service looks the "
            "client up first in its next batch), or `acis check A-NUMBER`"
        )
    settings = _settings()
    with _engine() as engine:
        observation, events = assisted_refresh(engine, settings, a_number, wait * 60)
    out.print(
        f"stored: {observation.outcome.value}"
        + (f"; events: {', '.join(events)}" if events else "")
    )


@acis_app.command("import")
@handles_errors
def acis_import(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    file: Annotated[Path, typer.Argument(help="The GetCaseInfo response body, saved as JSON.")],
) -> None:
    """Store an ACIS answer saved by hand from a browser's developer tools (Network tab,
    the GetCaseInfo request, 'Save response')."""
    from monitor.acis_assist import import_answer

    settings = _settings()
    with _engine() as engine:
        observation, events = import_answer(engine, settings, a_number, file)
    out.print(
        f"stored: {observation.outcome.value}"
        + (f"; events: {', '.join(events)}" if events else "")
    )


# ---------------------------------------------------------------------------------------- custody


@custody_app.command("check")
@handles_errors
def custody_check(
    a_numbers: Annotated[
        list[str] | None, typer.Argument(help="Clients to look up (default: every active one).")
    ] = None,
    dispatch: Annotated[bool, typer.Option(help="Send the resulting alerts right away.")] = True,
    planned: PlannedOpt = False,
) -> None:
    """Look clients up on ICE's detainee locator now (A-number and country of birth), one at a
    time in a real browser; transfers, releases and detentions become alerts."""
    from monitor.custody_check import run_custody_check

    _run_check(
        "detainee locator",
        run_custody_check,
        a_numbers or [],
        dispatch,
        planned_source="detainee_locator" if planned else None,
    )


# ------------------------------------------------------------------------------- FOIA, caseload


@contextmanager
def _stage_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per stage (download, extract, read, store) of a FOIA load."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield tick


def _print_load(report: Any) -> None:
    d = report.as_dict()
    table = Table(title=f"release {d['release_id']} (as of {d['as_of']})")
    for c in ("table", "Count.txt", "rows found", "loaded", "quarantined"):
        table.add_column(c, justify="right" if c != "table" else "left")
    for name in d["lines"]:
        table.add_row(
            name,
            f"{d['counts'].get(name, 0):,}",
            f"{d['lines'][name]:,}",
            f"{d['loaded'][name]:,}",
            f"{d['quarantined'][name]:,}",
        )
    out.print(table)
    out.print("quirks handled: " + ", ".join(f"{k} {v:,}" for k, v in d["quirks"].items()))
    for drift in d["header_drift"]:
        out.print(f"header drift: {drift}")
    out.print(
        f"{d['detail_rows']:,} proceedings kept at the watched courts; {d['courts']} courts "
        f"aggregated; {d['new_unrepresented']} new unrepresented detained case(s)"
    )


@foia_app.command("check")
@handles_errors
def foia_check(
    force: Annotated[
        bool, typer.Option("--force", help="Download and load even if the release is unchanged.")
    ] = False,
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Send the alerts it made now.")
    ] = True,
) -> None:
    """HEAD the FOIA file (ETag, Last-Modified); if there is a new release, download it (resumable,
    length-checked), load it, and tell coordinators of new unrepresented cases at the alert
    court."""
    from monitor.dispatch import Dispatcher
    from monitor.foia_check import run_foia_check

    settings = _settings()
    with _engine() as engine:
        with _stage_bar() as tick:
            result = run_foia_check(engine, settings, force=force, progress=tick)
        out.print(f"eoir_foia run #{result.run_id}: {result.outcome}: {result.message}")
        if result.release is not None:
            _print_load(result.release)
        if result.health:
            out.print(f"source health: {result.health}")
        if dispatch:
            sent = Dispatcher(engine, settings).run_once()
            out.print(f"alerts: {sent.sent} sent, {sent.failed_attempts} failed attempts")
        if result.outcome != "ok":
            raise typer.Exit(1)


@foia_app.command("load")
@handles_errors
def foia_load(
    path: Annotated[Path, typer.Argument(help="An 'EOIR Case Data.zip' on disk.")],
    as_of: Annotated[
        str | None,
        typer.Option(help="Release date YYYY-MM-DD (default: today); hearings from it are 'next'."),
    ] = None,
) -> None:
    """Load a release zip that is already on disk (whole, or not at all)."""
    from datetime import date

    from monitor.foia_check import load_file
    from storage.errors import ValidationError

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ValidationError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    settings = _settings()
    with _engine() as engine:
        with _stage_bar() as tick:
            report = load_file(engine, settings, path, as_of=day, progress=tick)
        _print_load(report)


@foia_app.command("releases")
@handles_errors
def foia_releases(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Every release seen: when, status (loaded, failed, loading), rows kept and quarantined."""
    from sqlmodel import col, select

    from storage.models import FoiaRelease

    with _engine() as engine, _session(engine) as session:
        rows = session.exec(select(FoiaRelease).order_by(col(FoiaRelease.id))).all()
        records = [
            {
                "release": r.id,
                "as_of": r.as_of.isoformat(),
                "status": r.status,
                "loaded_at": r.loaded_at.isoformat(timespec="seconds") if r.loaded_at else "",
                "kept": r.report.get("detail_rows", ""),
                "quarantined": sum((r.report.get("quarantined") or {}).values()),
                "new_unrepresented": r.report.get("new_unrepresented", ""),
                "etag": r.etag,
                "message": r.message,
            }
            for r in rows
        ]
    _emit(records, as_json, as_csv, title=f"FOIA releases ({len(records)})")


@foia_app.command("quarantine")
@handles_errors
def foia_quarantine(
    release: Annotated[int | None, typer.Option(help="Release id (default: the newest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The rows of a release that could not be loaded: file, line, reason and the raw text."""
    from sqlmodel import col, select

    from storage.models import FoiaQuarantine, FoiaRelease

    with _engine() as engine, _session(engine) as session:
        rid = release or session.exec(select(sa.func.max(FoiaRelease.id))).one()
        rows = session.exec(
            select(FoiaQuarantine)
            .where(FoiaQuarantine.release_id == rid)
            .order_by(col(FoiaQuarantine.file), col(FoiaQuarantine.line))
        ).all()
        records = [
            {"file": q.file, "line": q.line, "reason": q.reason, "raw": q.raw[:160]} for q in rows
        ]
    _emit(records, as_json, as_csv, title=f"quarantined rows of release {rid} ({len(records)})")


def _emit_table(result: Any, as_json: bool, as_csv: bool) -> None:
    records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    if not as_json and not as_csv:
        table = Table(title=result.title)
        for c in result.columns:
            table.add_column(c)
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
        return
    _emit(records, as_json, as_csv, title=result.title)


CourtOpt = Annotated[str, typer.Option("--court", help="EOIR base-city code, e.g. ADL.")]


@caseload_app.command("unrepresented")
@handles_errors
def caseload_unrepresented(
    court: CourtOpt = "ADL",
    detained: Annotated[bool, typer.Option("--detained", help="Detained cases only.")] = False,
    by: Annotated[
        str | None,
        typer.Option(help="Count by nationality, language, judge, week or case_type."),
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only those new since the previous release.")
    ] = False,
    release: Annotated[int | None, typer.Option(help="Release id (default: current).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Pending proceedings without a respondent's attorney at a court (anonymous: EOIR's case
    ids, nationality, language, next hearing and judge), listed or counted --by a field."""
    from monitor.foia_watch import caseload_unrepresented as query

    with _engine() as engine, _session(engine) as session:
        result = query(
            session, court.upper(), detained=detained, by=by, new_only=new, release_id=release
        )
    _emit_table(result, as_json, as_csv)


@caseload_app.command("trend")
@handles_errors
def caseload_trend(
    court: CourtOpt = "ADL",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Per release: pending proceedings, unrepresented ones and their share at a court."""
    from monitor.foia_watch import caseload_trend as query

    with _engine() as engine, _session(engine) as session:
        result = query(session, court.upper())
    _emit_table(result, as_json, as_csv)


@caseload_app.command("hearings")
@handles_errors
def caseload_hearings(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    court: CourtOpt = "ADL",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Upcoming hearings of unrepresented respondents at a court between two dates, by date,
    time and judge: the list to take to a master calendar."""
    from datetime import date

    from monitor.foia_watch import caseload_hearings as query
    from storage.errors import ValidationError

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise ValidationError(f"--from {start!r} / --to {end!r}: dates are YYYY-MM-DD") from None
    if last < first:
        raise ValidationError(f"--to {end} is before --from {start}")
    with _engine() as engine, _session(engine) as session:
        result = query(session, court.upper(), first, last)
    _emit_table(result, as_json, as_csv)


# ---------------------------------------------------------------------- ICE statistics, courts


@stats_app.command("parse")
@handles_errors
def stats_parse(
    path: Annotated[Path, typer.Argument(help="An ICE detention statistics .xlsx workbook.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole edition as JSON.")
    ] = False,
) -> None:
    """Parse a workbook's Facilities sheet: the edition (fiscal year, data-as-of date, stale flag,
    sheet name) and every facility (name, city, state, AOR, type, levels A-D, ADP, ...)."""
    from storage.detention_stats import parse_workbook

    edition = parse_workbook(path)
    if as_json:
        sys.stdout.write(json.dumps(edition.as_dict(), indent=1, default=str) + "\n")
        return
    stale = f" STALE: {edition.stale_reason}" if edition.stale else ""
    out.print(
        f"{edition.file}: sheet {edition.sheet.strip()!r}, FY{edition.fiscal_year}, data as of "
        f"{edition.data_as_of}, header at row {edition.header_row}, "
        f"{len(edition.facilities)} facilities ({edition.dropped_rows} rows dropped){stale}"
    )
    table = Table()
    for c in ("name", "city", "state", "aor", "type", "adp", "alos", "checks"):
        table.add_column(c)
    for f in edition.facilities:
        alos = f"{f.alos:.1f}" if f.alos is not None else ""
        table.add_row(
            f.name, f.city, f.state, f.aor, f.type, f"{f.adp:.1f}", alos, "; ".join(f.checks)
        )
    out.print(table)


@stats_app.command("load")
@handles_errors
def stats_load(
    paths: Annotated[
        list[Path], typer.Argument(help="Workbooks to store (a file once, by SHA-256).")
    ],
) -> None:
    """Store workbooks' facility rows (matched to known facilities by name) for the trend."""
    from monitor.stats import load_file

    with _engine() as engine:
        for path in paths:
            with _session(engine) as session:
                row, new = load_file(session, path)
            flag = f" STALE ({row.stale_reason})" if row.stale else ""
            out.print(
                f"{path.name}: {'edition' if new else 'already stored as'} {row.id}"
                f", FY{row.fiscal_year}, data as of {row.data_as_of}, {row.facilities} facilities, "
                f"{row.checks_failed} failing sanity checks{flag}"
            )


@stats_app.command("check")
@handles_errors
def stats_check() -> None:
    """Look at ICE's detention-management page now; fetch and store the newest workbook if new."""
    from monitor.stats import run_stats_check

    settings = _settings()
    with _engine() as engine:
        result = run_stats_check(engine, settings)
    out.print(f"detention_stats run #{result.run_id}: {result.outcome}: {result.message}")
    if result.health:
        out.print(f"source health: {result.health}")
    if result.outcome != "ok":
        raise typer.Exit(1)


@facilities_app.command("trend")
@handles_errors
def facilities_trend(
    name: Annotated[str, typer.Argument(help="Part of a facility's name, or its DETLOC code.")],
    chart: Annotated[
        Path | None, typer.Option(help="Where to write the SVG chart (default: NAME-trend.svg).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """A facility's population per stored edition (ADP by level, ALOS, guaranteed minimum, last
    inspection, failed sanity checks), and a chart of its ADP."""
    from monitor.stats import svg_chart, trend, trend_records
    from storage.errors import NotFoundError

    with _engine() as engine, _session(engine) as session:
        series = trend(session, name)
        if not series:
            raise NotFoundError(f"no stored edition has a facility matching {name!r}")
        records = trend_records(series)
        path = chart or Path(f"{name.lower().replace(' ', '-')}-trend.svg")
        path.write_text(svg_chart(series, f"{name.upper()}: average daily population"))
    _emit(records, as_json, as_csv, title=f"{name}: population per edition")
    err.print(f"chart: {path}")


@courts_app.command("check")
@handles_errors
def courts_check(
    dispatch: Annotated[
        bool, typer.Option("--dispatch/--no-dispatch", help="Send the alerts it made now.")
    ] = True,
) -> None:
    """Read EOIR's operational-status page and the Adelanto court page now: closures alert the
    attorneys of clients with hearings on the affected days; judge changes go to coordinators."""
    from monitor.court_watch import run_court_check
    from monitor.dispatch import Dispatcher

    settings = _settings()
    with _engine() as engine:
        report = run_court_check(engine, settings)
        out.print(f"court_status run #{report.run_id}: {report.outcome}: {report.message}")
        if report.events:
            out.print("events: " + ", ".join(f"{n} {k}" for k, n in sorted(report.events.items())))
        if report.health:
            out.print(f"source health: {report.health}")
        if dispatch:
            sent = Dispatcher(engine, settings).run_once()
            out.print(f"alerts: {sent.sent} sent, {sent.failed_attempts} failed attempts")
    if report.outcome != "ok":
        raise typer.Exit(1)


@courts_app.command("status")
@handles_errors
def courts_status(
    closed: Annotated[bool, typer.Option("--closed", help="Closed courts only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The courts' statuses as last seen on EOIR's page."""
    from sqlmodel import col, select

    from storage.models import CourtStatus

    with _engine() as engine, _session(engine) as session:
        q = select(CourtStatus).order_by(col(CourtStatus.name))
        if closed:
            q = q.where(col(CourtStatus.closed).is_(True))
        records = [
            {"court": c.name, "code": c.court_code, "status": c.status_text[:120],
             "closed_days": c.closed_days, "changed": c.changed_at.isoformat(timespec="minutes")}
            for c in session.exec(q)
        ]  # fmt: skip
    _emit(records, as_json, as_csv, title=f"court status ({len(records)})")


# ------------------------------------------------------------------ service: status, health, plan

schedule_app = typer.Typer(
    help="The polling budget: who is checked when, and why.", no_args_is_help=True
)
app.add_typer(schedule_app, name="schedule")


def _age(when: Any, now: Any) -> str:
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


@app.command("status")
@handles_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each source's last run, outcome and freshness, the next scheduled runs, the scheduler's
    heartbeat and the deliveries still pending."""
    from datetime import UTC, datetime

    from sqlmodel import col, select

    import scheduler as sched
    from monitor.route import pending_count
    from storage.models import APSCHEDULER_JOBS, CrawlOutcome, CrawlRun, Heartbeat, ServiceLock

    settings = _settings()
    now = datetime.now(UTC)
    with _engine() as engine, _session(engine) as session:
        next_runs = {
            row.id: datetime.fromtimestamp(row.next_run_time, UTC)
            for row in session.execute(sa.select(APSCHEDULER_JOBS)).all()
            if row.next_run_time is not None
        }
        records = []
        for source in sched.COMMANDS:
            last = session.exec(
                select(CrawlRun).where(CrawlRun.source == source).order_by(col(CrawlRun.id).desc())
            ).first()
            last_ok = session.exec(
                select(CrawlRun)
                .where(CrawlRun.source == source, CrawlRun.outcome == CrawlOutcome.ok.value)
                .order_by(col(CrawlRun.id).desc())
            ).first()
            interval = sched.interval_of(settings, source)
            ok_at = last_ok.finished_at if last_ok else None
            fresh = "fresh" if ok_at and now - ok_at <= 2 * interval else "OVERDUE"
            if source not in settings.sources:
                fresh = "disabled"
            nxt = next_runs.get(f"source:{source}")
            records.append(
                {
                    "source": source,
                    "every": str(interval),
                    "last_run": last.started_at.isoformat(timespec="seconds") if last else "",
                    "outcome": last.outcome if last else "",
                    "last_ok": _age(ok_at, now),
                    "freshness": fresh,
                    "next_run": nxt.isoformat(timespec="seconds") if nxt else "",
                    "message": (last.message[:100] if last else ""),
                }
            )
        beat = session.get(Heartbeat, "scheduler")
        lock = session.get(ServiceLock, sched.LOCK)
        pending = pending_count(session)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "sources": records,
                    "scheduler_heartbeat": beat.beat_at.isoformat() if beat else None,
                    "scheduler": f"pid {lock.pid} on {lock.host}" if lock else None,
                    "pending_deliveries": pending,
                },
                indent=2,
            )
            + "\n"
        )
        return
    _emit(records, False, False, title="sources")
    running = f"running as pid {lock.pid} on {lock.host}" if lock else "not running"
    out.print(f"scheduler: {running}; heartbeat {_age(beat.beat_at if beat else None, now)}")
    out.print(f"pending deliveries: {pending} (`docketwatch alerts pending`)")


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

    from storage.models import Heartbeat

    settings = _settings()
    now = datetime.now(UTC)
    limit = timedelta(seconds=max(3 * settings.heartbeat_seconds, 180))
    with _engine() as engine, _session(engine) as session:
        beats = {b.component: b for b in session.exec(select(Heartbeat))}
    beat = beats.get("scheduler")
    for name, b in sorted(beats.items()):
        out.print(f"{name}: {_age(b.beat_at, now)} ({b.detail[:120]})", markup=False)
    if beat is None or now - beat.beat_at > limit:
        message = (
            "the scheduler has never run on this database"
            if beat is None
            else f"the scheduler has stalled: last heartbeat {_age(beat.beat_at, now)} "
            f"(limit {limit.total_seconds():.0f} s)"
        )
        if check:
            raise _fail(message, code=1)
        out.print(f"UNHEALTHY: {message}")
        return
    out.print("OK: the scheduler is alive")


@schedule_app.command("plan")
@handles_errors
def schedule_plan(
    source: Annotated[str, typer.Option(help="acis or locator.")] = "acis",
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Who the polling budget checks next on a browser source, in order, with the tier
    (daily, every 3 days, weekly) and the reason; the first --limit rows."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from monitor.planner import MIN_RATIO, in_browser_hours, load_states, rank
    from storage.errors import ValidationError

    if source not in ("acis", "locator"):
        raise ValidationError(f"--source must be acis or locator, not {source!r}")
    settings = _settings()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    with _engine() as engine, _session(engine) as session:
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
                "last_checked": _age(p.state.last_checked, now),
                "due": "now"
                if due
                else (p.due_at.isoformat(timespec="minutes") if p.due_at else ""),
                "batch": (i // per_hour + 1) if due and per_hour else "",
            }
        )
    hours = (
        "inside" if in_browser_hours(settings.browser_hours, now, settings.timezone) else "outside"
    )
    _emit(records, as_json, as_csv,
          title=f"{source} plan: {per_hour} lookups/hour, hours {settings.browser_hours} "
                f"(now {hours}); batch 1 is the next run")  # fmt: skip


@app.command("demo")
@handles_errors
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo's database and mailbox (replaced).")
    ] = Path("demo"),
) -> None:
    """Run docketwatch end to end against local replicas of every source: seed a demo
    organization, run a cycle, change the world (a hearing moved earlier, a transfer out of
    Adelanto, a new FOIA release, a court closure), run again, and show the alerts delivered."""
    from monitor.demo import run_demo

    setup_logging("WARNING")
    result = run_demo(folder, say=lambda line: out.print(line, markup=False))
    out.print("-- what happened")
    for kind, n in sorted(result.events.items()):
        out.print(f"  {n} {kind}")
    out.print("-- alerts delivered (by email to the local mailbox)")
    for who, n in sorted(result.sent.items()):
        out.print(f"  {who}: {n}")
    out.print(
        f"Read them: the mailbox folder {result.mailbox}/new (one file per message), or\n"
        f"  DATABASE_URL={result.database_url} docketwatch alerts log\n"
        f"  DATABASE_URL={result.database_url} docketwatch caseload unrepresented --new",
        markup=False,
    )


# ---------------------------------------------------------------------------------------- sandbox


@sandbox_app.command("acis")
def sandbox_acis(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8471,
    cases: Annotated[
        Path | None,
        typer.Option(help="JSON list of cases to load (see sandbox/acis.py case_from_json)."),
    ] = None,
) -> None:
    """Serve the ACIS replica on loopback until Ctrl-C. Control it over HTTP: POST
    /_sandbox/case (a case as JSON) and /_sandbox/knobs (refuse_all, refuse_captcha, no_token,
    fail_502, latency_s, layout, rotate_nationality_hash)."""
    import time

    from sandbox.acis import AcisSandbox, case_from_json

    with AcisSandbox(port) as replica:
        for item in json.loads(cases.read_text()) if cases else []:
            replica.set_case(case_from_json(item))
        out.print(f"ACIS replica at {replica.url}/en/ (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print("stopped")


@sandbox_app.command("locator")
def sandbox_locator(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8472,
    false_zero_rate: Annotated[
        float, typer.Option(help="Share of searches that wrongly answer 'zero'.")
    ] = 0.0,
) -> None:
    """Serve the ICE locator replica on loopback until Ctrl-C. Control it over HTTP: POST
    /_sandbox/person (detain, transfer, release), /_sandbox/remove, /_sandbox/knobs (blocked,
    captcha, layout, false_zero_rate, latency_s)."""
    import time

    from sandbox.locator import LocatorSandbox

    with LocatorSandbox(port) as replica:
        replica.state.false_zero_rate = false_zero_rate
        out.print(f"ICE locator replica at {replica.url}/odls/#/search (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print("stopped")


@sandbox_app.command("foia-release")
@handles_errors
def sandbox_foia_release(
    out_path: Annotated[Path, typer.Argument(help="Where to write the zip.")],
    cases: Annotated[int, typer.Option(help="Cases in the release (national: 12,600,000).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same release).")] = 1,
    as_of: Annotated[str, typer.Option(help="Release date, YYYY-MM-DD.")] = "2026-11-01",
    previous: Annotated[
        Path | None,
        typer.Option(help="Derive a successor of this release instead of a first one."),
    ] = None,
    new_cases: Annotated[
        int | None, typer.Option(help="New cases in a successor (default: 2.5 % of the previous).")
    ] = None,
) -> None:
    """Write a generated EOIR FOIA release (the real layout, columns, codes and quirks; no
    personal data), or a successor of one (new cases, new EOIR-28s, moved hearings,
    completions)."""
    from datetime import date

    from sandbox.foia import describe, generate, successor

    day = date.fromisoformat(as_of)
    if previous is not None:
        info = successor(previous, out_path, as_of=day, new_cases=new_cases)
    else:
        info = generate(out_path, cases, seed=seed, as_of=day)
    out.print_json(json.dumps(describe(info)))


@sandbox_app.command("foia")
def sandbox_foia(
    release: Annotated[Path, typer.Argument(help="The release zip to serve.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8473,
    weak_etag: Annotated[bool, typer.Option(help="Serve weak ETags, as Cloudflare does.")] = False,
    modified: Annotated[
        str | None,
        typer.Option(help="Last-Modified date to announce, YYYY-MM-DD (default: the file's)."),
    ] = None,
) -> None:
    """Serve a release as EOIR's file share does (HEAD with ETag and Last-Modified, Range) until
    Ctrl-C. Control it over HTTP: GET /_control?publish=PATH (a new release; with
    modified=YYYY-MM-DD), weak=0|1,
    fail=block|truncate|truncate_once."""
    import time
    from datetime import UTC, datetime

    from sandbox.foia import FoiaShare

    stamp = (
        datetime.fromisoformat(modified).replace(tzinfo=UTC)
        if modified
        else datetime.fromtimestamp(release.stat().st_mtime, UTC)
    )
    with FoiaShare(port) as share:
        share.publish(release.resolve(), stamp)
        share.set(weak=weak_etag)
        out.print(f"FOIA file share at {share.zip_url} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print("stopped")


@sandbox_app.command("courts")
def sandbox_courts(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8474) -> None:
    """Serve the EOIR court status page and Adelanto court page replicas until Ctrl-C. Control
    over HTTP: GET /_control?slug=adelanto-immigration-court&status=CLOSED..., judges=A|B,
    layout=broken|normal."""
    import time

    from sandbox.courts import CourtsSandbox

    with CourtsSandbox(port) as replica:
        out.print(f"EOIR court pages at {replica.url}/eoir/immigration-court-operational-status")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print("stopped")


@sandbox_app.command("ice-stats")
def sandbox_ice_stats(
    files: Annotated[list[Path], typer.Argument(help="Workbooks to serve, oldest first.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8475,
) -> None:
    """Serve ICE's detention-management page replica, linking the given workbooks, until Ctrl-C."""
    import time

    from sandbox.ice_stats import IceStatsSandbox

    with IceStatsSandbox(port) as replica:
        replica.serve([f.resolve() for f in files])
        out.print(f"ICE detention-management page at {replica.page_url}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print("stopped")


if __name__ == "__main__":  # pragma: no cover
    app()
