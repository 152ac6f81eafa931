"""``docketwatch clients``: the client roster."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    ORG,
    CsvOpt,
    JsonOpt,
    RevealOpt,
    emit_records,
    err,
    fail,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    print_table,
    program_of,
    show_a,
)
from cli.groups import help_of
from storage.identifiers import redact_a_number

app = group(help_of("clients"))


@app.command("import")
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
            "backup_attorney_email, notes, reminder_phone, reminder_via, reminder_language, "
            "reminder_consent_by, reminder_consent_on, reminder_consent_how.",
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
        raise fail(f"--status {status!r} is not prospect, represented or closed")
    columns = parse_mapping(mapping or [])
    with (
        open_engine() as engine,
        Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err.real,
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
            reminder_languages=_reminder_languages(engine),
            max_rows=get_settings().roster_max_rows,
        )
    verb = "would be" if dry_run else "were"
    out.print(
        f"{file.name}: header at line {report.header_line}; {report.rows} rows read; "
        f"{report.accepted} accepted ({report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged), {report.duplicates_skipped} identical repeats skipped; "
        f"{len(report.rejects)} rejected."
        + (f" Nothing {verb} stored (dry run)." if dry_run else "")
    )
    if report.consents:
        words = {
            "created": "new",
            "updated": "changed",
            "unchanged": "unchanged",
            "withdrawn": "not stored: the client withdrew consent since",
        }
        out.print(
            "consents to hearing reminders: "
            + ", ".join(f"{n} {words.get(k, k)}" for k, n in sorted(report.consents.items()))
        )
    if report.rejects:
        print_table(
            ["line", "column", "reason"],
            [(r.line, r.column, r.reason) for r in report.rejects],
            f"rejected rows ({len(report.rejects)})",
            right=["line"],
        )
        out.print(f"rejected rows written to {report.rejects_path}")
        raise typer.Exit(1)


def read_token(path: Path | None) -> str | None:
    """A token kept in a file (never on the command line, where `ps` and shell history see it)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise fail(f"{path}: cannot read the token file: {exc.strerror}") from None
    if not text:
        raise fail(f"{path}: the token file is empty")
    return text


@app.command("sync")
@handles_errors
def clients_sync(
    source: Annotated[
        str | None,
        typer.Argument(
            help="Where the program's complete list of active clients is: an https:// address "
            "or a path (a file, or a folder: its newest .csv/.tsv/.xlsx), or a LegalServer "
            "report's API address. Default: the program's configured source (`orgs set "
            "--roster-sync`)."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="file, legalserver-report or legalserver (the Core API's open matters; "
            "default: from SOURCE: a report's address, a LegalServer site's address, else file)."
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the token: a LegalServer report's api_key (and, on a second "
            "line, a personal access token if the site asks for one); LegalServer's Core API: "
            "the API user's personal access token; for an https:// file, a Bearer token."
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=HEADER for a column the import does not know."),
    ] = None,
    hidden_columns: Annotated[
        bool,
        typer.Option(
            "--hidden-columns/--no-hidden-columns",
            help="A LegalServer report's hidden columns: read (its API's default) or not.",
        ),
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what the sync would do; store nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Apply a sync that omits more than roster_sync_max_deactivate_share of the "
            "clients the source listed last time (they really left).",
        ),
    ] = False,
) -> None:
    """Sync the roster from the program's case-management system: new clients added, changes
    applied (a blank never erases), clients the source omits twice in a row deactivated; a
    source that omits too many at once is refused whole. Exit status: 0 every row applied, 1
    some rows rejected (the rest stored), 2 refused or the source could not be read."""
    from checks.roster_sync import SyncSource, sync_program
    from storage.logs import redact
    from storage.roster_sync import guess_kind

    settings = get_settings()
    with open_engine() as engine:
        with open_session(engine) as session:
            org = program_of(session)
        given = None
        if source is not None:
            chosen = kind or guess_kind(source)
            token = read_token(token_file)
            given = SyncSource.given(chosen, source, token, mapping, hidden_columns)
        elif kind or token_file or mapping or not hidden_columns:
            raise fail("--kind, --token-file, --map and --no-hidden-columns go with a SOURCE")
        result = sync_program(engine, settings, org, given=given, dry_run=dry_run, force=force)
    report = result.report
    if report is not None and report.rejects:
        print_table(
            ["line", "column", "reason"],
            [(r.line, r.column, redact(r.reason)) for r in report.rejects],
            f"rejected rows ({len(report.rejects)})",
            right=["line"],
        )
    prefix = {"dry-run": "dry run, nothing stored: ", "refused": "REFUSED: ", "failed": ""}
    line = prefix.get(result.outcome, "") + result.message
    if result.exit_code == 2:
        err.print(f"sync {result.outcome}: {line}")
    else:
        out.print(f"sync {result.outcome}: {line}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command("add")
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

    with open_engine() as engine, open_session(engine) as session:
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


@app.command("list")
@handles_errors
def clients_list(
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Include deactivated clients.")
    ] = False,
    status: Annotated[
        str | None, typer.Option(help="Only this status: prospect, represented, closed.")
    ] = None,
    reveal: RevealOpt = False,
) -> None:
    """List clients with their status, nationality and attorneys."""
    from storage import quick

    if status is not None and status not in ("prospect", "represented", "closed"):
        raise fail(f"--status {status!r} is not prospect, represented or closed")
    rows = quick.list_clients(include_inactive, status, ORG.slug)  # SQLite, no ORM: fast
    if rows is None:
        from storage.people import list_clients

        with open_engine() as engine, open_session(engine) as session:
            found = list_clients(session, include_inactive=include_inactive, status=status)
            rows = [r.as_record() for r in found]
    records = [{**r, "a_number": show_a(r["a_number"], reveal)} for r in rows]
    emit_records(records, as_json, as_csv, title=f"clients ({len(records)})")


@app.command("show")
@handles_errors
def clients_show(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    as_json: JsonOpt = False,
    reveal: RevealOpt = False,
) -> None:
    """Show one client: status, nationality and assigned attorneys."""

    from storage.people import client_details

    with open_engine() as engine, open_session(engine) as session:
        details = client_details(session, a_number)
    details["a_number"] = show_a(details["a_number"], reveal)
    if as_json:
        sys.stdout.write(json.dumps(details, indent=2) + "\n")
        return
    print_table(["field", "value"], list(details.items()), header=False)


@app.command("deactivate")
@handles_errors
def clients_deactivate(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
) -> None:
    """Stop watching a client (the record and its history are kept)."""
    from storage.people import deactivate_client

    with open_engine() as engine, open_session(engine) as session:
        client = deactivate_client(session, a_number)
        out.print(f"client {redact_a_number(client.a_number)} deactivated")


@app.command("export")
@handles_errors
def clients_export(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
) -> None:
    """Print, as JSON, everything docketwatch holds about one client (for a client who asks):
    the record, hearings, lookups with their raw answers, alerts, deliveries, reminders and
    their consent (the phone in clear), and the audit rows."""
    from storage.erasure import export_client
    from storage.people import get_client

    with open_engine() as engine, open_session(engine) as session:
        data = export_client(session, get_client(session, a_number))
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command("erase")
@handles_errors
def clients_erase(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Erase without asking (there is no undo).")
    ] = False,
) -> None:
    """Erase a client's personal data everywhere: name, A-number, birth date, notes, phone and
    consent, raw answers, delivery errors and audit details; the anonymous counts stay, so
    reports still add up. The database is compacted after it. There is no undo."""
    from datetime import UTC, datetime

    from storage.erasure import compact, erase_client
    from storage.people import get_client

    if not yes:
        typer.confirm(f"erase client {redact_a_number(a_number)}? There is no undo", abort=True)
    with open_engine() as engine:
        with open_session(engine) as session:
            client = get_client(session, a_number)
            done = erase_client(session, client, datetime.now(UTC))
        compact(engine)
    out.print(
        f"client #{done.client_id} erased: {done.lookups} ACIS and {done.custody} custody "
        f"answers, {done.audit_rows} audit details, "
        + ("the reminder consent" if done.consent else "no reminder consent")
        + "; the database was compacted"
    )


def _reminder_languages(engine: object) -> frozenset[str]:
    """The reminder languages switched on: the only ones a roster's consent may name."""
    from monitor.reminders import switched_on
    from storage.db import session_scope

    with session_scope(engine) as session:  # type: ignore[arg-type]
        return frozenset(switched_on(session, get_settings()))
