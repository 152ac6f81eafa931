"""``docketwatch orgs``: the programs one deployment serves. Each program's clients, staff,
alerts, reminders and reports are its own; public data (FOIA, statistics, courts) is shared."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, col, func, select

from cli.common import JsonOpt, emit_records, group, handles_errors, open_engine, out
from storage.errors import ValidationError

app = group(__doc__.split("\n")[0].removeprefix("``docketwatch orgs``: ").capitalize())

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def _slug(text: str) -> str:
    slug = text.strip().lower()
    if not _SLUG.match(slug):
        raise ValidationError(
            f"{text!r} is not a program's short name: lowercase letters, digits and dashes, "
            "at most 40 (e.g. la-defenders)"
        )
    return slug


@app.command("list")
@handles_errors
def orgs_list(as_json: JsonOpt = False) -> None:
    """List the programs, with their active clients and staff."""
    from storage.models import Client, Staff
    from storage.tenancy import ALL, organizations

    with open_engine() as engine, Session(engine) as session:
        rows = []
        for org in organizations(session):
            clients = session.exec(
                select(func.count())
                .select_from(Client)
                .where(Client.organization_id == org.id, col(Client.active).is_(True))
                .execution_options(**ALL)
            ).one()
            staff = session.exec(
                select(func.count())
                .select_from(Staff)
                .where(Staff.organization_id == org.id, col(Staff.active).is_(True))
                .execution_options(**ALL)
            ).one()
            rows.append({"slug": org.slug, "name": org.name, "clients": clients, "staff": staff})
    emit_records(rows, as_json, False, "programs")


@app.command("add")
@handles_errors
def orgs_add(
    slug: Annotated[str, typer.Argument(help="Short name for --org, e.g. la-defenders.")],
    name: Annotated[str, typer.Argument(help="The program's name, as its staff call it.")],
) -> None:
    """Add a program. Then add its staff and clients with --org SLUG."""
    from storage.db import session_scope
    from storage.models import Organization
    from storage.tenancy import ALL

    slug = _slug(slug)
    if not name.strip():
        raise ValidationError("the program's name is missing")
    with open_engine() as engine, session_scope(engine) as session:
        taken = session.exec(
            select(Organization.id).where(Organization.slug == slug).execution_options(**ALL)
        ).first()
        if taken is not None:
            raise ValidationError(f"a program called {slug!r} exists already")
        session.add(
            Organization(slug=slug, name=" ".join(name.split()), created_at=datetime.now(UTC))
        )
    out.print(f"program {slug} added; add its staff with `docketwatch --org {slug} staff add`")


@app.command("rename")
@handles_errors
def orgs_rename(
    slug: Annotated[str, typer.Argument(help="The program's short name now.")],
    name: Annotated[str | None, typer.Option(help="Its new name.")] = None,
    new_slug: Annotated[str | None, typer.Option("--slug", help="Its new short name.")] = None,
) -> None:
    """Rename a program (its name, its short name, or both)."""
    from storage.db import session_scope
    from storage.tenancy import resolve

    if name is None and new_slug is None:
        raise ValidationError("say what changes: --name, --slug, or both")
    with open_engine() as engine, session_scope(engine) as session:
        org = resolve(session, slug)
        if new_slug is not None:
            org.slug = _slug(new_slug)
        if name is not None:
            if not name.strip():
                raise ValidationError("the program's name is missing")
            org.name = " ".join(name.split())
        session.add(org)
        shown = org.slug
    out.print(f"program {shown} renamed")


@app.command("set")
@handles_errors
def orgs_set(
    roster_sync: Annotated[
        str | None,
        typer.Option(
            help="The program's roster source, synced on a schedule: an https:// address, a "
            "path (a file or a folder), or a LegalServer report's API address."
        ),
    ] = None,
    roster_sync_kind: Annotated[
        str | None,
        typer.Option(help="file, legalserver-report or legalserver (default: from the source)."),
    ] = None,
    roster_sync_token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the source's token (sealed when stored, never shown)."),
    ] = None,
    roster_sync_map: Annotated[
        list[str] | None,
        typer.Option(help="FIELD=HEADER for a column the import does not know. Repeatable."),
    ] = None,
    roster_sync_hidden_columns: Annotated[
        bool | None,
        typer.Option(
            "--roster-sync-hidden-columns/--roster-sync-no-hidden-columns",
            help="A LegalServer report's hidden columns: read (its API's default) or not.",
        ),
    ] = None,
    roster_sync_every: Annotated[
        int | None, typer.Option(help="Minutes between syncs (default 60).")
    ] = None,
    roster_sync_enabled: Annotated[
        bool | None,
        typer.Option(
            "--roster-sync-on/--roster-sync-off", help="Sync on the schedule, or pause it."
        ),
    ] = None,
    legalserver_site: Annotated[
        str | None,
        typer.Option(
            help="The program's LegalServer (https://SITE.legalserver.org): hearing changes "
            "are written there as case notes on each client's matter."
        ),
    ] = None,
    legalserver_token_file: Annotated[
        Path | None,
        typer.Option(help="File holding the API user's personal access token (sealed)."),
    ] = None,
    case_note_type: Annotated[
        str | None, typer.Option(help="The Note Type lookup the notes take (default docketwatch).")
    ] = None,
    case_note_language: Annotated[
        str | None, typer.Option(help="en or es: the language the notes are written in.")
    ] = None,
    case_notes: Annotated[
        bool | None,
        typer.Option("--case-notes-on/--case-notes-off", help="Write case notes, or stop."),
    ] = None,
) -> None:
    """Set a program's settings (with --org SLUG): its roster source for `clients sync`, and its
    LegalServer site for case notes."""
    from cli.clients import read_token
    from cli.common import open_session, program_of
    from storage.roster_sync import configure, configured, guess_kind, shown

    notes = (legalserver_site, legalserver_token_file, case_note_type, case_note_language)
    roster = (
        roster_sync,
        roster_sync_kind,
        roster_sync_token_file,
        roster_sync_map,
        roster_sync_hidden_columns,
    )
    with open_engine() as engine, open_session(engine) as session:
        org = program_of(session)
        if any(v is not None for v in notes) or case_notes is not None:
            _case_notes(session, org, notes, case_notes)
            if all(v is None for v in roster) and roster_sync_every is None:
                return
        row = configured(session, org)
        if roster_sync is None and row is None:
            raise ValidationError("this program has no roster source yet: give --roster-sync")
        source = roster_sync if roster_sync is not None else row.source  # type: ignore[union-attr]
        kind = roster_sync_kind or (
            guess_kind(source) if roster_sync is not None else row.kind  # type: ignore[union-attr]
        )
        saved = configure(
            session,
            org,
            kind=kind,
            source=source,
            now=datetime.now(UTC),
            token=read_token(roster_sync_token_file),
            mapping=roster_sync_map,
            options=None
            if roster_sync_hidden_columns is None
            else {"hidden_columns": "yes" if roster_sync_hidden_columns else "no"},
            interval_minutes=roster_sync_every,
            enabled=roster_sync_enabled
            if roster_sync_enabled is not None
            else (row.enabled if row is not None else True),
        )
        out.print(
            f"roster source: {saved.kind} {shown(saved.source)}, every "
            f"{saved.interval_minutes} min, {'on' if saved.enabled else 'paused'}"
            + (", token sealed" if saved.token else "")
            + (f", columns {saved.mapping}" if saved.mapping else "")
        )


def _case_notes(
    session: object,
    org: int,
    given: tuple[str | None, Path | None, str | None, str | None],
    enabled: bool | None,
) -> None:
    from cli.clients import read_token
    from storage.case_system import set_case_system

    site, token_file, note_type, language = given
    row = set_case_system(
        session,  # type: ignore[arg-type]
        org,
        now=datetime.now(UTC),
        site=site,
        token=read_token(token_file),
        note_type=note_type,
        language=language,
        enabled=enabled,
    )
    out.print(
        f"case notes: {row.site}, note type {row.note_type!r}, in {row.language}, "
        f"{'on' if row.enabled else 'off'}, token sealed"
    )
