"""``docketwatch acis``: ACIS lookups, blocked lookups, assisted refresh, import of an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import (
    ANumbersArg,
    DispatchOpt,
    PlannedOpt,
    RevealOpt,
    emit_records,
    fail,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
    run_source_check,
    show_a,
)
from cli.groups import help_of
from storage.identifiers import redact_a_number

app = group(help_of("acis"))


@app.command("check")
@handles_errors
def acis_check(
    a_numbers: ANumbersArg = None,
    dispatch: DispatchOpt = True,
    planned: PlannedOpt = False,
) -> None:
    """Look clients up on ACIS now, one at a time in a real browser, and report the outcomes;
    changes become alerts."""
    from checks.acis import check

    def after(report: Any) -> None:
        if report.blocked_clients:
            out.print(
                f"{len(report.blocked_clients)} lookups were stopped by a captcha; they are "
                "not retried automatically. See `docketwatch acis blocked` and use "
                "`docketwatch acis refresh A-NUMBER --assist`."
            )

    run_source_check(
        "ACIS",
        check,
        a_numbers or [],
        dispatch,
        after,
        planned_source="acis" if planned else None,
    )


@app.command("blocked")
@handles_errors
def acis_blocked(reveal: RevealOpt = False) -> None:
    """Clients whose latest ACIS lookup was stopped by a captcha: candidates for an assisted
    refresh."""
    from storage.acis import blocked_clients

    with open_engine() as engine, open_session(engine) as session:
        rows = [
            {
                "a_number": show_a(client.a_number, reveal),
                "name": client.name,
                "blocked_at": observed_at.isoformat(timespec="minutes"),
            }
            for client, observed_at in blocked_clients(session)
        ]
    emit_records(rows, False, False, title=f"blocked lookups ({len(rows)})")


@app.command("refresh")
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
    from checks.acis import assisted_refresh

    if queue:
        from datetime import UTC, datetime

        from monitor.views import request_check
        from storage.people import get_client

        with open_engine() as engine, open_session(engine) as session:
            client = get_client(session, a_number)
            request_check(
                session, client, "acis", "a person, on the command line", datetime.now(UTC)
            )
        out.print(f"queued: {redact_a_number(client.a_number)} is first in the next ACIS batch")
        return
    if not assist:
        raise fail(
            "use --assist (a person completes the lookup now), --queue (the service looks the "
            "client up first in its next batch), or `acis check A-NUMBER`"
        )
    settings = get_settings()
    with open_engine() as engine:
        observation, events = assisted_refresh(engine, settings, a_number, wait * 60)
    out.print(
        f"stored: {observation.outcome.value}"
        + (f"; events: {', '.join(events)}" if events else "")
    )


@app.command("import")
@handles_errors
def acis_import(
    a_number: Annotated[str, typer.Argument(help="The client's A-number.")],
    file: Annotated[Path, typer.Argument(help="The GetCaseInfo response body, saved as JSON.")],
) -> None:
    """Store an ACIS answer saved by hand from a browser's developer tools (Network tab,
    the GetCaseInfo request, 'Save response')."""
    from checks.acis import import_answer

    settings = get_settings()
    with open_engine() as engine:
        observation, events = import_answer(engine, settings, a_number, file)
    out.print(
        f"stored: {observation.outcome.value}"
        + (f"; events: {', '.join(events)}" if events else "")
    )
