"""``docketwatch court_status``: EOIR court operational status and the Adelanto judges."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import (
    CsvOpt,
    DispatchOpt,
    JsonOpt,
    emit_records,
    group,
    handles_errors,
    open_engine,
    open_session,
    run_check_command,
)
from cli.groups import help_of

app = group(help_of("court_status"))


@app.command("check")
@handles_errors
def courts_check(dispatch: DispatchOpt = True) -> None:
    """Read EOIR's operational-status page and the Adelanto court page now: closures alert the
    attorneys of clients with hearings on the affected days; judge changes go to coordinators."""
    from checks.court_status import check

    run_check_command("court_status", check, dispatch)


@app.command("status")
@handles_errors
def courts_status(
    closed: Annotated[bool, typer.Option("--closed", help="Closed courts only.")] = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """The courts' statuses as last seen on EOIR's page."""
    from sqlmodel import col, select

    from storage.models import CourtStatus

    with open_engine() as engine, open_session(engine, program=False) as session:
        q = select(CourtStatus).order_by(col(CourtStatus.name))
        if closed:
            q = q.where(col(CourtStatus.closed).is_(True))
        records = [
            {
                "court": c.name,
                "code": c.court_code,
                "status": c.status_text[:120],
                "closed_days": c.closed_days,
                "changed": c.changed_at.isoformat(timespec="minutes"),
            }
            for c in session.exec(q)
        ]
    emit_records(records, as_json, as_csv, title=f"court status ({len(records)})")
