"""``docketwatch alerts`` and ``docketwatch events``: delivery, acknowledgement, event kinds."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cli.common import (
    JsonOpt,
    emit_records,
    get_settings,
    group,
    handles_errors,
    open_engine,
    open_session,
    out,
)
from cli.groups import help_of

app = group(help_of("alerts"))
events_app = group(help_of("events"))


@events_app.command("kinds")
def events_kinds(
    as_json: JsonOpt = False,
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
    emit_records(records, False, False, title=f"event kinds ({len(records)})")


@app.command("test")
@handles_errors
def alerts_test(
    staff: Annotated[str, typer.Argument(help="Email of the staff member to test.")],
) -> None:
    """Send a real test message to each of a staff member's channels; exit 1 if any failed."""
    from monitor.alerts import send_test

    with open_engine() as engine, open_session(engine) as session:
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


@app.command("pending")
@handles_errors
def alerts_pending(
    as_json: JsonOpt = False,
) -> None:
    """List alerts not yet delivered: pending, held for a digest, in flight, or uncertain."""
    from monitor.alerts import delivery_log

    with open_engine() as engine, open_session(engine) as session:
        records = []
        for status in ("pending", "held", "sending", "uncertain"):
            records += delivery_log(session, status=status, limit=10_000)
    records.sort(key=lambda r: r["delivery"])
    emit_records(records, as_json, False, title=f"undelivered alerts ({len(records)})")


@app.command("log")
@handles_errors
def alerts_log(
    client: Annotated[str | None, typer.Option(help="Only this client's A-number.")] = None,
    staff: Annotated[str | None, typer.Option(help="Only this staff email.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only this event kind (client_reminder: reminders).")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: pending, held, sending, sent, failed, uncertain."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log: every alert to every recipient and channel, and every reminder to a
    client, with its outcome."""
    from monitor.alerts import delivery_log
    from monitor.events import known_kinds

    if kind is not None and kind != "client_reminder":
        known_kinds([kind])

    with open_engine() as engine, open_session(engine) as session:
        records = delivery_log(
            session, client=client, staff=staff, kind_name=kind, status=status, limit=limit
        )
    emit_records(records, as_json, False, title=f"deliveries ({len(records)})")


@app.command("retry")
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

    with open_engine() as engine, open_session(engine) as session:
        count = retry(session, ids or [], all_failed, datetime.now(UTC))
    out.print(f"{count} deliveries queued again")


@app.command("ack")
@handles_errors
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert number shown in the message.")],
    by: Annotated[str, typer.Option(help="Who acknowledges (name or email).")] = "command line",
) -> None:
    """Acknowledge an alert: stops its escalation to the backup attorney and coordinators."""
    from datetime import UTC, datetime

    from monitor.dispatch import acknowledge

    with open_engine() as engine:
        event = acknowledge(engine, alert_id, by, datetime.now(UTC))
    assert event.acknowledged_at is not None
    out.print(
        f"alert #{alert_id} ({event.kind}) acknowledged by {event.acknowledged_by} at "
        f"{event.acknowledged_at.isoformat(timespec='minutes')}"
    )


@app.command("dispatch")
@handles_errors
def alerts_dispatch() -> None:
    """Send due alerts now (the running service does this on its own every minute)."""
    from monitor.dispatch import Dispatcher

    settings = get_settings()
    with open_engine() as engine:
        report = Dispatcher(engine, settings).run_once()
    out.print(
        f"{report.sent} sent, {report.failed_attempts} failed attempts, {report.given_up} given "
        f"up, {report.deferred} deferred, {report.uncertain} uncertain, {report.escalated} "
        f"escalated, {report.digests} digests"
    )
