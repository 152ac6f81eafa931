"""``docketwatch federal_dockets``: clients' federal cases (habeas petitions, petitions for
review) watched through CourtListener."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    CsvOpt,
    DispatchOpt,
    JsonOpt,
    emit_records,
    fail,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    run_check_command,
    show_a,
)
from cli.groups import help_of

app = group(help_of("federal_dockets"))

ANumberArg = Annotated[str, typer.Argument(help="The client's A-number.")]
CourtOpt = Annotated[
    str, typer.Option("--court", help="CourtListener's court id: cacd (C.D. Cal.), ca9 ...")
]
NumberOpt = Annotated[
    str,
    typer.Option(
        "--docket-number",
        help="The docket number in the court's own form (5:25-cv-01234, EDCV 25-1234, 25-1234).",
    ),
]


@app.command("link")
@handles_errors
def link_cmd(a_number: ANumberArg, court: CourtOpt, docket_number: NumberOpt) -> None:
    """Link a client to a federal case and resolve it through CourtListener now. Entries already
    on the docket are stored and shown, not alerted; every later entry alerts once. A docket
    CourtListener does not know is said plainly and kept: each check asks again."""
    from checks.federal_dockets import link_now
    from storage.federal_dockets import normalize
    from storage.people import get_client

    key = normalize(court, docket_number)
    settings = get_settings()
    with open_engine() as engine:
        with open_session(engine) as session:
            client = get_client(session, a_number)
            client_id = client.id
        assert client_id is not None
        state, message = link_now(engine, settings, client_id, key)
    out.print(f"{key}: {state}" + (f": {message}" if message else ""))
    if state != "linked":
        raise typer.Exit(1)


@app.command("unlink")
@handles_errors
def unlink_cmd(a_number: ANumberArg, court: CourtOpt, docket_number: NumberOpt) -> None:
    """Stop watching a client's federal case (what was stored stays; the docket's alert at
    CourtListener is deleted at the next check when nobody else links it)."""
    from storage.federal_dockets import normalize, unlink
    from storage.people import get_client

    key = normalize(court, docket_number)
    with open_engine() as engine, open_session(engine) as session:
        client = get_client(session, a_number)
        if not unlink(session, client, key):
            raise fail(f"{key} is not linked to that client")
    out.print(f"{key}: unlinked")


@app.command("list")
@handles_errors
def list_cmd(
    a_number: Annotated[str | None, typer.Argument(help="Only this client's cases.")] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show whole A-numbers.")] = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The linked federal cases: their state (linked, unresolved, not_found), the docket's
    newest entry."""
    from sqlmodel import col, select

    from storage.models import Client, FederalCase, FederalDocket, FederalEntry
    from storage.people import get_client

    with open_engine() as engine, open_session(engine) as session:
        q = select(FederalCase, Client).join(Client, col(Client.id) == FederalCase.client_id)
        if a_number:
            q = q.where(FederalCase.client_id == get_client(session, a_number).id)
        records = []
        for case, client in session.exec(q.order_by(col(FederalCase.id))):
            docket = session.get(FederalDocket, case.docket_id) if case.docket_id else None
            newest = (
                session.exec(
                    select(FederalEntry)
                    .where(FederalEntry.docket_id == docket.id)
                    .order_by(col(FederalEntry.entry_id).desc())
                ).first()
                if docket
                else None
            )
            records.append(
                {
                    "client": show_a(client.a_number, reveal),
                    "court": case.court,
                    "docket_number": case.docket_number,
                    "state": case.state if case.active else "unlinked",
                    "case_name": docket.case_name if docket else "",
                    "newest_entry": (
                        f"{newest.entry_number or '-'} {newest.date_filed or ''} "
                        f"{newest.description[:60]}"
                        if newest
                        else ""
                    ),
                    "message": case.message,
                }
            )
    emit_records(records, as_json, as_csv, title=f"federal cases ({len(records)})")


@app.command("suggest")
@handles_errors
def suggest_cmd(
    a_number: ANumberArg,
    courts: Annotated[
        list[str] | None,
        typer.Option("--court", help="Search these courts (default: federal_dockets_courts)."),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Search CourtListener for dockets in the program's courts matching the client's name, and
    list them for a person to confirm. Nothing is linked: a name match alone is never enough
    (link one with `federal_dockets link`)."""
    from checks.federal_dockets import suggest
    from storage.people import get_client

    settings = get_settings()
    with open_engine() as engine:
        with open_session(engine) as session:
            name = get_client(session, a_number).name
        records = suggest(engine, settings, name, courts or settings.federal_dockets_courts)
    emit_records(records, as_json, as_csv, title=f"candidates to confirm ({len(records)})")
    if records and not (as_json or as_csv):
        out.print(
            "confirm one against the petition before linking it: "
            "`docketwatch federal_dockets link A-NUMBER --court C --docket-number N`"
        )


@app.command("check")
@handles_errors
def check_cmd(dispatch: DispatchOpt = True) -> None:
    """Resolve waiting links, keep a docket alert on each linked docket, confirm the webhook
    events received, and poll every linked docket for new entries, within the hour's budget."""
    from checks.federal_dockets import check

    run_check_command("federal_dockets", check, dispatch)


@app.command("token")
@handles_errors
def token_cmd(
    token_file: Annotated[
        Path,
        typer.Option(
            "--token-file",
            help="A file holding the CourtListener API token (from your profile's API page).",
        ),
    ],
) -> None:
    """Store the CourtListener API token, sealed like channel URLs (never shown again)."""
    from storage.db import session_scope
    from storage.federal_dockets import set_token

    try:
        token = token_file.read_text().strip()
    except OSError as exc:
        raise fail(f"{token_file}: {exc.strerror or exc}") from None
    with open_engine() as engine, session_scope(engine) as session:
        set_token(session, token)
    out.print("CourtListener token stored (sealed)")
